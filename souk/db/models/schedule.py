"""Scheduled price and stock changes: a file's rows applied at one time and reverted at a
later one (or never), each row remembering what it replaced."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt, Money
from souk.db.models.shop import str_enum


class ScheduleState(enum.StrEnum):
    PENDING = "pending"  # waiting for apply_at
    ACTIVE = "active"  # applied, waiting for revert_at
    APPLIED = "applied"  # applied for good (no revert time)
    REVERTED = "reverted"
    CANCELLED = "cancelled"  # cancelled before it was applied: nothing changed


class RowResult(enum.StrEnum):
    """What became of one row (at apply) or of one of its values (at revert)."""

    DONE = "done"
    GONE = "gone"  # the product was deleted
    INACTIVE = "inactive"  # the product was taken off sale
    BELOW_FLOOR = "below_floor"  # the price is under the product's cost by then
    CHANGED = "changed"  # someone (or a sale) changed the value after the apply


class PriceSchedule(Base):
    """A file of `sku,price[,stock]` rows with the times to apply and revert them."""

    __tablename__ = "price_schedules"
    __table_args__ = (
        CheckConstraint("revert_at IS NULL OR revert_at > apply_at", name="revert_after_apply"),
        Index("ix_price_schedules_state_apply_at", "state", "apply_at"),
        Index("ix_price_schedules_state_revert_at", "state", "revert_at"),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    state: Mapped[ScheduleState] = mapped_column(
        str_enum(ScheduleState, "schedule_state"), default=ScheduleState.PENDING
    )
    file_name: Mapped[str] = mapped_column(String(200))
    apply_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revert_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who cancelled it or reverted it early (/unschedule); None when beat reverted it.
    ended_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]


class PriceScheduleRow(Base):
    """One product of a schedule: the values to set, and once applied the values they
    replaced (None: not applied, or no stock given)."""

    __tablename__ = "price_schedule_rows"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_non_negative"),
    )

    id: Mapped[BigId]
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("price_schedules.id", ondelete="CASCADE"), index=True
    )
    # SET NULL: a product deleted before the apply or the revert is skipped and reported.
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    price: Mapped[Money]
    stock: Mapped[int | None] = mapped_column(Integer)
    old_price: Mapped[Money | None]
    old_stock: Mapped[int | None] = mapped_column(Integer)
    # Each result column has its own check constraint, named after the column.
    applied: Mapped[RowResult | None] = mapped_column(str_enum(RowResult, "applied"))
    price_reverted: Mapped[RowResult | None] = mapped_column(str_enum(RowResult, "price_reverted"))
    stock_reverted: Mapped[RowResult | None] = mapped_column(str_enum(RowResult, "stock_reverted"))
