"""Applying and reverting schedules. Beat runs `ScheduleRunner`: each due schedule is taken
with `FOR UPDATE SKIP LOCKED` and handled in a transaction of its own, so several workers
never apply one twice. Applying records each row's old values and sets the new ones
through the audited product path; reverting restores a value only where it is still the
one the schedule set, and names who changed the others."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from souk.db.models import (
    PriceSchedule,
    PriceScheduleRow,
    PriceSource,
    Product,
    RowResult,
    ScheduleState,
    Shop,
    StockReason,
)
from souk.logs import get_logger
from souk.services.products import ProductAdmin
from souk.services.schedule_changes import ChangedBy, ChangeFinder

log = get_logger("souk.schedules")


class ScheduleAction(enum.StrEnum):
    APPLIED = "applied"
    REVERTED = "reverted"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Skipped:
    """A row left out at apply, or a value left as it is at revert (`field`)."""

    row: int
    sku: str
    result: RowResult
    field: str = ""  # "price" or "stock" at revert
    now: Decimal | int | None = None  # the value found
    wanted: Decimal | int | None = None  # the value the schedule set (or wanted to set)
    currency: str = ""
    changed_by: ChangedBy | None = None


@dataclass(frozen=True)
class ScheduleOutcome:
    """What a run did: rows it changed (`done`) of those it handled (`rows`), and the
    rows or values it left out."""

    schedule_id: int
    shop_id: int
    action: ScheduleAction
    rows: int
    done: int
    skipped: list[Skipped] = field(default_factory=list)
    timezone: str = "UTC"
    revert_at: datetime | None = None


def _tag(schedule: PriceSchedule) -> str:
    """What the audit rows of a schedule's apply say (the revert adds " reverted")."""
    return f"schedule #{schedule.id}"


class ScheduleRun:
    """One schedule, locked by the caller, applied or reverted in the caller's
    transaction."""

    def __init__(
        self, session: AsyncSession, schedule: PriceSchedule, *, actor: int | None
    ) -> None:
        self._session = session
        self._schedule = schedule
        self._products = ProductAdmin(session, schedule.shop_id, actor)
        self._changes = ChangeFinder(session, schedule.shop_id, _tag(schedule))

    async def _rows(self, *conditions: ColumnElement[bool]) -> list[PriceScheduleRow]:
        found = await self._session.scalars(
            select(PriceScheduleRow)
            .where(PriceScheduleRow.schedule_id == self._schedule.id, *conditions)
            .order_by(PriceScheduleRow.row_number)
        )
        return list(found)

    async def _locked(self, rows: list[PriceScheduleRow]) -> dict[int, Product]:
        """The rows' products, locked in id order (as orders lock them: no deadlock)."""
        ids = sorted({row.product_id for row in rows if row.product_id is not None})
        found = await self._session.scalars(
            select(Product).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
        )
        return {product.id: product for product in found}

    async def _outcome(
        self, action: ScheduleAction, rows: int, done: int, skipped: list[Skipped]
    ) -> ScheduleOutcome:
        timezone = await self._session.scalar(
            select(Shop.timezone).where(Shop.id == self._schedule.shop_id)
        )
        return ScheduleOutcome(
            schedule_id=self._schedule.id,
            shop_id=self._schedule.shop_id,
            action=action,
            rows=rows,
            done=done,
            skipped=skipped,
            timezone=timezone or "UTC",
            revert_at=self._schedule.revert_at,
        )

    async def apply(self, now: datetime) -> ScheduleOutcome:
        """Set every row's values, remembering the old ones; a product deleted, off sale
        or whose cost is now above the price is left out."""
        schedule, tag = self._schedule, _tag(self._schedule)
        rows = await self._rows()
        products = await self._locked(rows)
        skipped: list[Skipped] = []
        for row in rows:
            product = products.get(row.product_id) if row.product_id is not None else None
            if product is None:
                row.applied = RowResult.GONE
            elif not product.is_active:
                row.applied = RowResult.INACTIVE
            elif row.price < (product.cost or 0):
                row.applied = RowResult.BELOW_FLOOR
            else:
                row.applied = RowResult.DONE
                row.old_price = product.price
                if product.price != row.price:
                    self._products.write_price(
                        product, row.price, source=PriceSource.SCHEDULE, reason=tag
                    )
                if row.stock is not None:
                    row.old_stock = product.stock
                    if product.stock != row.stock:
                        self._products.write_stock(
                            product, row.stock, reason=StockReason.SCHEDULE, note=tag
                        )
                continue
            skipped.append(
                Skipped(
                    row.row_number,
                    row.sku,
                    row.applied,
                    now=product.cost if product is not None else None,
                    wanted=row.price,
                    currency=product.currency if product is not None else "",
                )
            )
        schedule.state = (
            ScheduleState.APPLIED if schedule.revert_at is None else ScheduleState.ACTIVE
        )
        schedule.applied_at = now
        await self._session.flush()
        log.info("schedule applied", schedule=schedule.id, rows=len(rows), skipped=len(skipped))
        return await self._outcome(
            ScheduleAction.APPLIED, len(rows), len(rows) - len(skipped), skipped
        )

    async def revert(self, now: datetime, *, ended_by: int | None = None) -> ScheduleOutcome:
        """Restore each old value that is still the one the schedule set; report the
        others (a sale counts as a change) with who changed them, if the audit says.
        `ended_by`: the staff member reverting it before its time."""
        schedule, tag = self._schedule, _tag(self._schedule) + " reverted"
        rows = await self._rows(PriceScheduleRow.applied == RowResult.DONE)
        products = await self._locked(rows)
        skipped: list[Skipped] = []
        done = 0
        for row in rows:
            product = products.get(row.product_id) if row.product_id is not None else None
            kept = await self._revert_price(row, product, tag)
            if row.old_stock is not None:
                kept += await self._revert_stock(row, product, tag)
            skipped += kept
            done += not kept
        schedule.state = ScheduleState.REVERTED
        schedule.ended_at, schedule.ended_by = now, ended_by
        await self._session.flush()
        log.info("schedule reverted", schedule=schedule.id, rows=len(rows), kept=len(skipped))
        return await self._outcome(ScheduleAction.REVERTED, len(rows), done, skipped)

    async def _revert_price(
        self, row: PriceScheduleRow, product: Product | None, tag: str
    ) -> list[Skipped]:
        assert row.old_price is not None
        if product is None:
            row.price_reverted = RowResult.GONE
            return [Skipped(row.row_number, row.sku, RowResult.GONE)]
        if product.price != row.price:
            row.price_reverted = RowResult.CHANGED
            return [
                Skipped(
                    row.row_number,
                    row.sku,
                    RowResult.CHANGED,
                    "price",
                    product.price,
                    row.price,
                    product.currency,
                    await self._changes.price(product.id),
                )
            ]
        row.price_reverted = RowResult.DONE
        if product.price != row.old_price:
            self._products.write_price(
                product, row.old_price, source=PriceSource.SCHEDULE, reason=tag
            )
        return []

    async def _revert_stock(
        self, row: PriceScheduleRow, product: Product | None, tag: str
    ) -> list[Skipped]:
        assert row.old_stock is not None and row.stock is not None
        if product is None:
            row.stock_reverted = RowResult.GONE
            return []  # the row is reported gone once, with its price
        if product.stock != row.stock:
            row.stock_reverted = RowResult.CHANGED
            return [
                Skipped(
                    row.row_number,
                    row.sku,
                    RowResult.CHANGED,
                    "stock",
                    product.stock,
                    row.stock,
                    changed_by=await self._changes.stock(product.id),
                )
            ]
        row.stock_reverted = RowResult.DONE
        if product.stock != row.old_stock:
            self._products.write_stock(
                product, row.old_stock, reason=StockReason.SCHEDULE, note=tag
            )
        return []


# Called in the transaction of each schedule run, after it: queues the staff's summary.
Announce = Callable[[AsyncSession, ScheduleOutcome], Awaitable[object]]


class ScheduleRunner:
    """Applies and reverts the schedules that are due, one transaction each."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def apply_due(
        self, now: datetime, announce: Announce | None = None
    ) -> list[ScheduleOutcome]:
        """Apply every pending schedule whose time has come."""
        due = (PriceSchedule.state == ScheduleState.PENDING, PriceSchedule.apply_at <= now)
        return await self._each(due, PriceSchedule.apply_at, now, announce, revert=False)

    async def revert_due(
        self, now: datetime, announce: Announce | None = None
    ) -> list[ScheduleOutcome]:
        """Revert every active schedule whose revert time has come."""
        due = (PriceSchedule.state == ScheduleState.ACTIVE, PriceSchedule.revert_at <= now)
        return await self._each(due, PriceSchedule.revert_at, now, announce, revert=True)

    async def _each(
        self,
        due: tuple[ColumnElement[bool], ...],
        order: InstrumentedAttribute[Any],
        now: datetime,
        announce: Announce | None,
        *,
        revert: bool,
    ) -> list[ScheduleOutcome]:
        outcomes: list[ScheduleOutcome] = []
        failed: list[int] = []  # left for the next run, so one bad schedule blocks no other
        while True:
            current: int | None = None
            try:
                async with self._session_factory() as session, session.begin():
                    schedule = await session.scalar(
                        select(PriceSchedule)
                        .where(*due, PriceSchedule.id.not_in(failed))
                        .order_by(order, PriceSchedule.id)
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    )
                    if schedule is None:
                        return outcomes
                    current = schedule.id
                    run = ScheduleRun(session, schedule, actor=schedule.created_by)
                    outcome = await (run.revert(now) if revert else run.apply(now))
                    if announce is not None:
                        await announce(session, outcome)
                outcomes.append(outcome)
            except Exception:
                if current is None:  # not one schedule's fault: the next beat tries again
                    raise
                log.exception("schedule run failed", schedule=current, revert=revert)
                failed.append(current)
