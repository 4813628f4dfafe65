"""Scheduled price and stock changes of a shop: a file checked against the catalog into a
plan, the plan stored as a schedule, the pending and active schedules listed, and one
cancelled (or, once applied, reverted now) on request. Applying and reverting at their
times is `souk.services.schedule_runs`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import PriceSchedule, PriceScheduleRow, Product, ScheduleState, Shop
from souk.errors import ConflictError, NotFoundError
from souk.services.import_reader import Table
from souk.services.import_rows import Problem, RowError
from souk.services.products import closest_skus
from souk.services.schedule_rows import ScheduleLine, read_schedule_file
from souk.services.schedule_runs import ScheduleAction, ScheduleOutcome, ScheduleRun
from souk.services.schedule_times import Window
from souk.services.shops import shop_zone

_SCHEDULE_LOCK = 0x5C4  # with the shop id: schedules of a shop are created one at a time
SUGGESTIONS = 20  # unknown SKUs of one file that get "did you mean" (a query each)
OPEN_STATES = (ScheduleState.PENDING, ScheduleState.ACTIVE)


class ScheduleNotFound(NotFoundError):
    """No schedule of this shop has the id."""


class ScheduleOver(ConflictError):
    """The schedule is already reverted, cancelled or applied for good."""

    def __init__(self, schedule_id: int, state: ScheduleState) -> None:
        super().__init__(f"schedule #{schedule_id} is {state}")
        self.schedule_id = schedule_id
        self.state = state


@dataclass(frozen=True)
class PlanSummary:
    """A plan's counts: rows read, rows to schedule, rows rejected, columns ignored."""

    rows: int
    valid: int
    rejected: int
    ignored: tuple[str, ...]


@dataclass(frozen=True)
class PlannedLine:
    line: ScheduleLine
    product_id: int


@dataclass
class SchedulePlan:
    """The lines of a file that can be scheduled (with their products) and the errors
    of the others, sorted by row."""

    rows: int
    lines: list[PlannedLine]
    errors: list[RowError]
    ignored: list[str]

    @property
    def summary(self) -> PlanSummary:
        return PlanSummary(
            rows=self.rows,
            valid=len(self.lines),
            rejected=len({error.row for error in self.errors}),
            ignored=tuple(self.ignored),
        )


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as the list shows it."""

    id: int
    state: ScheduleState
    file_name: str
    rows: int
    apply_at: datetime
    revert_at: datetime | None


class _Known(NamedTuple):
    id: int
    cost: Decimal | None


class PriceSchedules:
    """One shop's schedules, handled by a staff member (a Telegram id)."""

    def __init__(self, session: AsyncSession, shop_id: int, *, actor: int | None) -> None:
        self._session = session
        self._shop_id = shop_id
        self._actor = actor

    async def zone(self) -> ZoneInfo:
        """The shop's time zone, in which schedule times are typed and shown."""
        timezone = await self._session.scalar(select(Shop.timezone).where(Shop.id == self._shop_id))
        return shop_zone(timezone or "UTC")

    async def check(
        self, table: Table, window: Window | None, *, lock: bool = False
    ) -> SchedulePlan:
        """Check every row of the file against the catalog: a known SKU, a price not under
        the product's cost and, with the window known, no other open schedule of the
        product whose times overlap. With `lock` (to create next, in this transaction)
        other creations in the shop wait."""
        found = read_schedule_file(table)
        if lock:
            await self._session.execute(
                select(func.pg_advisory_xact_lock(_SCHEDULE_LOCK, self._shop_id))
            )
        catalog = await self._catalog()
        busy = await self._busy(window) if window is not None else {}
        plan = SchedulePlan(found.rows, [], list(found.errors), found.ignored)
        suggested = 0
        for line in found.lines:
            known = catalog.get(line.sku.lower())
            if known is None:
                closest: list[str] = []
                if suggested < SUGGESTIONS:
                    suggested += 1
                    closest = await closest_skus(self._session, self._shop_id, line.sku)
                error = RowError(line.row, "sku", Problem.UNKNOWN_SKU, line.sku, ", ".join(closest))
            elif line.price < (known.cost or 0):
                error = RowError(
                    line.row, "price", Problem.BELOW_FLOOR, str(line.price), str(known.cost)
                )
            elif known.id in busy:
                error = RowError(line.row, "sku", Problem.SCHEDULED, line.sku, str(busy[known.id]))
            else:
                plan.lines.append(PlannedLine(line, known.id))
                continue
            plan.errors.append(error)
        plan.errors.sort(key=lambda error: error.row)
        return plan

    async def _catalog(self) -> dict[str, _Known]:
        found = await self._session.execute(
            select(Product.sku, Product.id, Product.cost).where(Product.shop_id == self._shop_id)
        )
        return {sku.lower(): _Known(product_id, cost) for sku, product_id, cost in found}

    async def _busy(self, window: Window) -> dict[int, int]:
        """The products of open schedules whose times overlap the window, with the id of
        such a schedule. A time without revert is a moment: it overlaps a window that
        holds it, or the same moment. Windows that only touch do not overlap: at one
        moment reverts run before applies."""
        schedule = PriceSchedule
        ends = func.coalesce(schedule.revert_at, schedule.apply_at)
        end = window.revert_at or window.apply_at
        found = await self._session.execute(
            select(PriceScheduleRow.product_id, func.min(schedule.id))
            .join(schedule, schedule.id == PriceScheduleRow.schedule_id)
            .where(
                schedule.shop_id == self._shop_id,
                schedule.state.in_(OPEN_STATES),
                PriceScheduleRow.product_id.is_not(None),
                or_(
                    schedule.apply_at == window.apply_at,
                    and_(schedule.apply_at < end, ends > window.apply_at),
                ),
            )
            .group_by(PriceScheduleRow.product_id)
        )
        return {product_id: schedule_id for product_id, schedule_id in found if product_id}

    async def create(self, plan: SchedulePlan, window: Window, file_name: str) -> PriceSchedule:
        """Store the plan's lines as a pending schedule (the plan made with `lock=True`)."""
        schedule = PriceSchedule(
            shop_id=self._shop_id,
            state=ScheduleState.PENDING,
            file_name=file_name[:200],
            apply_at=window.apply_at,
            revert_at=window.revert_at,
            created_by=self._actor,
        )
        self._session.add(schedule)
        await self._session.flush()
        await self._session.execute(
            insert(PriceScheduleRow),
            [
                {
                    "schedule_id": schedule.id,
                    "product_id": planned.product_id,
                    "row_number": planned.line.row,
                    "sku": planned.line.sku,
                    "price": planned.line.price,
                    "stock": planned.line.stock,
                }
                for planned in plan.lines
            ],
        )
        return schedule

    async def open_schedules(self, *, limit: int) -> list[ScheduleInfo]:
        """Pending and active schedules, the soonest first, with their row counts."""
        rows = func.count(PriceScheduleRow.id)
        found = await self._session.execute(
            select(PriceSchedule, rows)
            .outerjoin(PriceScheduleRow, PriceScheduleRow.schedule_id == PriceSchedule.id)
            .where(PriceSchedule.shop_id == self._shop_id, PriceSchedule.state.in_(OPEN_STATES))
            .group_by(PriceSchedule.id)
            .order_by(PriceSchedule.apply_at, PriceSchedule.id)
            .limit(limit)
        )
        return [
            ScheduleInfo(s.id, s.state, s.file_name, count, s.apply_at, s.revert_at)
            for s, count in found
        ]

    async def unschedule(self, schedule_id: int, now: datetime) -> ScheduleOutcome:
        """Cancel a pending schedule (nothing changes) or revert an active one now, under
        the same rules as at its time. Waits for a run applying it at this moment."""
        schedule = await self._session.scalar(
            select(PriceSchedule)
            .where(PriceSchedule.id == schedule_id, PriceSchedule.shop_id == self._shop_id)
            .with_for_update()
        )
        if schedule is None:
            raise ScheduleNotFound(f"no schedule #{schedule_id}")
        if schedule.state is ScheduleState.ACTIVE:
            run = ScheduleRun(self._session, schedule, actor=self._actor)
            return await run.revert(now, ended_by=self._actor)
        if schedule.state is not ScheduleState.PENDING:
            raise ScheduleOver(schedule.id, schedule.state)
        schedule.state = ScheduleState.CANCELLED
        schedule.ended_at, schedule.ended_by = now, self._actor
        await self._session.flush()
        rows = await self._session.scalar(
            select(func.count(PriceScheduleRow.id)).where(
                PriceScheduleRow.schedule_id == schedule.id
            )
        )
        timezone = await self._session.scalar(select(Shop.timezone).where(Shop.id == self._shop_id))
        return ScheduleOutcome(
            schedule_id=schedule.id,
            shop_id=self._shop_id,
            action=ScheduleAction.CANCELLED,
            rows=rows or 0,
            done=0,
            skipped=[],
            timezone=timezone or "UTC",
            revert_at=None,
        )
