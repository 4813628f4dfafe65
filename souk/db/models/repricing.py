"""Repricing: the rules staff set per product or category, the shops that paused
repricing, and every decision the repricer made with the trace of how it got there."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt, Money
from souk.db.models.shop import str_enum


class Strategy(enum.StrEnum):
    BEAT = "beat"  # the lowest competitor's price less the step
    MATCH = "match"  # the lowest competitor's price
    POSITION = "position"  # just under the N-th lowest competitor (N-th cheapest offer)
    FIXED = "fixed"  # one set price


class RepriceMode(enum.StrEnum):
    AUTO = "auto"  # applied at once, staff told
    DRY_RUN = "dry_run"  # logged only
    APPROVE = "approve"  # staff asked Yes/No; expires


class NoCompetitor(enum.StrEnum):
    """What a rule does when no competitor's offer is left after the filter."""

    HOLD = "hold"
    CEILING = "ceiling"


class DecisionStatus(enum.StrEnum):
    HELD = "held"  # no change proposed (paused, cooldown, unchanged, no competitor...)
    DRY_RUN = "dry_run"  # a change proposed and only logged
    PENDING = "pending"  # waiting for a staff Yes/No until `expires_at`
    APPLIED = "applied"
    REJECTED = "rejected"  # staff said No
    EXPIRED = "expired"  # nobody answered in time
    STALE = "stale"  # approved after the price had changed: refused
    REVERTED = "reverted"


class RepriceRule(Base):
    """How one product, or every product of a category without a rule of its own, is
    repriced. Percentages are percent (1.5 is 1.5 %); amounts are in the products'
    currency."""

    __tablename__ = "reprice_rules"
    __table_args__ = (
        CheckConstraint(
            "(product_id IS NULL) <> (category_id IS NULL)", name="one_product_or_category"
        ),
        CheckConstraint("step IS NULL OR step > 0", name="step_positive"),
        CheckConstraint("max_change IS NULL OR max_change > 0", name="max_change_positive"),
        CheckConstraint(
            "min_price IS NULL OR max_price IS NULL OR min_price <= max_price",
            name="floor_under_ceiling",
        ),
        UniqueConstraint("product_id"),
        UniqueConstraint("category_id"),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    strategy: Mapped[Strategy] = mapped_column(str_enum(Strategy, "reprice_strategy"))
    step: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    step_is_percent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    position: Mapped[int | None] = mapped_column(Integer)
    fixed_price: Mapped[Money | None]
    min_price: Mapped[Money | None]
    min_margin_percent: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    max_price: Mapped[Money | None]
    max_change: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    max_change_is_percent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    cooldown_minutes: Mapped[int] = mapped_column(Integer, server_default="0")
    min_rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    ignore_out_of_stock: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # None: REPRICE_NO_COMPETITOR decides.
    no_competitor: Mapped[NoCompetitor | None] = mapped_column(
        str_enum(NoCompetitor, "reprice_no_competitor")
    )
    mode: Mapped[RepriceMode] = mapped_column(str_enum(RepriceMode, "reprice_mode"))
    is_enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class RepricePause(Base):
    """The shop's kill switch: while its row exists, nothing of the shop is repriced."""

    __tablename__ = "reprice_pauses"

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    paused_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]


class RepriceDecision(Base):
    """One run of the pipeline for one product: the price before, the one proposed (None
    when held), what became of it and the rule trace (a list of steps, each
    {"step", "code", ...values}, rendered for staff by `souk.reprice_texts`)."""

    __tablename__ = "reprice_decisions"
    __table_args__ = (
        Index("ix_reprice_decisions_product_created", "product_id", "created_at"),
        Index(
            "ix_reprice_decisions_pending",
            "product_id",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("reprice_rules.id", ondelete="SET NULL"))
    mode: Mapped[RepriceMode] = mapped_column(str_enum(RepriceMode, "reprice_mode"))
    status: Mapped[DecisionStatus] = mapped_column(
        str_enum(DecisionStatus, "reprice_decision_status")
    )
    currency: Mapped[str] = mapped_column(String(3))
    old_price: Mapped[Money]
    proposed_price: Mapped[Money | None]
    trace: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who answered an approval (None: applied by the repricer in auto mode).
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reverted_by: Mapped[int | None] = mapped_column(BigInteger)
    reverted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
