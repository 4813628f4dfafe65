"""Who changed a value after a schedule set it, as far as the audit tells: the latest
price change or stock movement of the product after the schedule's own."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import (
    Order,
    PriceChange,
    PriceSource,
    Staff,
    StockMovement,
    StockReason,
)


class ChangeKind(enum.StrEnum):
    STAFF = "staff"
    ORDER = "order"
    IMPORT = "import"
    SCHEDULE = "schedule"
    UNKNOWN = "unknown"


_ORDER_REASONS = (StockReason.SALE, StockReason.RESERVE, StockReason.RELEASE, StockReason.RETURN)
_STAFF_REASONS = (StockReason.ADJUST, StockReason.RECEIVE)
_STAFF_SOURCES = (PriceSource.STAFF, PriceSource.UNDO)


@dataclass(frozen=True)
class ChangedBy:
    kind: ChangeKind
    at: datetime
    who: str = ""  # a staff member's name (or Telegram id); an order's number


class ChangeFinder:
    """Looks the audit of one shop up for the change made after a schedule's (`tag`)."""

    def __init__(self, session: AsyncSession, shop_id: int, tag: str) -> None:
        self._session = session
        self._shop_id = shop_id
        self._tag = tag

    async def _staff_name(self, telegram_id: int | None) -> str:
        if telegram_id is None:
            return ""
        name = await self._session.scalar(
            select(Staff.name).where(
                Staff.shop_id == self._shop_id, Staff.telegram_user_id == telegram_id
            )
        )
        return name or str(telegram_id)

    async def price(self, product_id: int) -> ChangedBy | None:
        """The last price change of the product after the schedule's own."""
        own = select(func.coalesce(func.max(PriceChange.id), 0)).where(
            PriceChange.product_id == product_id,
            PriceChange.source == PriceSource.SCHEDULE,
            PriceChange.reason == self._tag,
        )
        change = await self._session.scalar(
            select(PriceChange)
            .where(PriceChange.product_id == product_id, PriceChange.id > own.scalar_subquery())
            .order_by(PriceChange.id.desc())
            .limit(1)
        )
        if change is None:
            return None
        if change.source in _STAFF_SOURCES:
            who = await self._staff_name(change.actor_telegram_id)
            return ChangedBy(ChangeKind.STAFF, change.created_at, who)
        kinds = {PriceSource.IMPORT: ChangeKind.IMPORT, PriceSource.SCHEDULE: ChangeKind.SCHEDULE}
        return ChangedBy(kinds.get(change.source, ChangeKind.UNKNOWN), change.created_at)

    async def stock(self, product_id: int) -> ChangedBy | None:
        """The last stock movement of the product after the schedule's own (a sale names
        its order)."""
        own = select(func.coalesce(func.max(StockMovement.id), 0)).where(
            StockMovement.product_id == product_id,
            StockMovement.reason == StockReason.SCHEDULE,
            StockMovement.note == self._tag,
        )
        found = (
            await self._session.execute(
                select(StockMovement, Order.number)
                .outerjoin(Order, Order.id == StockMovement.order_id)
                .where(
                    StockMovement.product_id == product_id,
                    StockMovement.id > own.scalar_subquery(),
                )
                .order_by(StockMovement.id.desc())
                .limit(1)
            )
        ).one_or_none()
        if found is None:
            return None
        move, number = found
        if move.reason in _ORDER_REASONS and number is not None:
            return ChangedBy(ChangeKind.ORDER, move.created_at, str(number))
        if move.reason in _STAFF_REASONS:
            who = await self._staff_name(move.actor_telegram_id)
            return ChangedBy(ChangeKind.STAFF, move.created_at, who)
        kinds = {StockReason.IMPORT: ChangeKind.IMPORT, StockReason.SCHEDULE: ChangeKind.SCHEDULE}
        return ChangedBy(kinds.get(move.reason, ChangeKind.UNKNOWN), move.created_at)
