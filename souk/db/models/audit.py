"""Stock movements and price changes: the audit trail of the catalog."""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt, Money
from souk.db.models.shop import str_enum


class StockReason(enum.StrEnum):
    RECEIVE = "receive"
    SALE = "sale"
    RESERVE = "reserve"
    RELEASE = "release"
    RETURN = "return"
    ADJUST = "adjust"
    IMPORT = "import"
    SYNC = "sync"
    SCHEDULE = "schedule"


class PriceSource(enum.StrEnum):
    STAFF = "staff"
    IMPORT = "import"
    SCHEDULE = "schedule"
    REPRICER = "repricer"
    SYNC = "sync"
    UNDO = "undo"


class StockMovement(Base):
    """A change of a product's stock, with why and at what unit cost."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_product_created", "product_id", "created_at"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Integer)
    stock_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[StockReason] = mapped_column(str_enum(StockReason, "stock_reason"))
    unit_cost: Mapped[Money | None]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]


class PriceChange(Base):
    """Every price change: who, old, new, when and why."""

    __tablename__ = "price_changes"
    __table_args__ = (Index("ix_price_changes_product_created", "product_id", "created_at"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    old_price: Mapped[Money]
    new_price: Mapped[Money]
    source: Mapped[PriceSource] = mapped_column(str_enum(PriceSource, "price_source"))
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[CreatedAt]
