"""Scheduled price and stock changes with a chosen clock: checked against the catalog,
applied and reverted exactly, values changed meanwhile kept and reported with who changed
them, products gone or off sale skipped, overlapping schedules refused, and two runs at
once applying a schedule only once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    PaymentMethod,
    PriceChange,
    PriceSchedule,
    PriceSource,
    Product,
    RowResult,
    ScheduleState,
    ShippingOption,
    Staff,
    StaffRole,
    StockMovement,
    StockReason,
)
from souk.services.import_reader import FileProblem, ImportRefused, read_table
from souk.services.import_rows import Problem, RowError
from souk.services.orders import OrderService, cents
from souk.services.products import ProductAdmin
from souk.services.schedule_changes import ChangeKind
from souk.services.schedule_runs import ScheduleAction, ScheduleOutcome, ScheduleRunner
from souk.services.schedule_times import Window
from souk.services.schedules import PriceSchedules, ScheduleNotFound, ScheduleOver
from tests.channels.test_catalog import stock_shop
from tests.conftest import MakeShop
from tests.fixtures.catalog_files import csv_bytes
from tests.workers.test_shopping import shop_with_cart

MANAGER, OTHER = 7301, 7302
# Far from the real clock and from the other tests' times.
MONDAY = datetime(2032, 3, 1, 9, 0, tzinfo=UTC)


def window(start: datetime, hours: float | None) -> Window:
    return Window(start, None if hours is None else start + timedelta(hours=hours))


async def schedule(
    session_factory: async_sessionmaker[AsyncSession],
    shop_id: int,
    rows: Sequence[Sequence[object]],
    when: Window,
    *,
    header: Sequence[str] = ("sku", "price", "stock"),
) -> tuple[int | None, list[RowError]]:
    """Check the file and create the schedule of its valid rows (None if it has none)."""
    table = read_table(csv_bytes([header, *rows]), "plan.csv")
    async with session_factory() as session, session.begin():
        schedules = PriceSchedules(session, shop_id, actor=MANAGER)
        plan = await schedules.check(table, when, lock=True)
        if not plan.lines:
            return None, plan.errors
        created = await schedules.create(plan, when, "plan.csv")
        return created.id, plan.errors


def of_shop(outcomes: list[ScheduleOutcome], shop_id: int) -> list[ScheduleOutcome]:
    """Runs see every shop's due schedules; a test looks at its own shop's."""
    return [outcome for outcome in outcomes if outcome.shop_id == shop_id]


async def values(
    session_factory: async_sessionmaker[AsyncSession], *ids: int
) -> list[tuple[Decimal, int]]:
    async with session_factory() as session:
        return [
            (product.price, product.stock)
            for product in [await session.get_one(Product, i) for i in ids]
        ]


async def test_a_schedule_applies_at_its_time_and_reverts_exactly(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    phone, case = ids["PH-1"], ids["CS-1"]
    when = window(MONDAY, 48)
    schedule_id, errors = await schedule(
        session_factory, shop.shop_id, [["PH-1", "150", "3"], ["cs-1", "19 990,50", ""]], when
    )
    assert errors == [] and schedule_id is not None
    runner = ScheduleRunner(session_factory)

    assert of_shop(await runner.apply_due(MONDAY - timedelta(seconds=1)), shop.shop_id) == []
    (applied,) = of_shop(await runner.apply_due(MONDAY), shop.shop_id)
    assert (applied.action, applied.rows, applied.done, applied.skipped) == (
        ScheduleAction.APPLIED,
        2,
        2,
        [],
    )
    assert await values(session_factory, phone, case) == [
        (Decimal("150.00"), 3),
        (Decimal("19990.50"), 3),  # an empty stock cell leaves the stock as it is
    ]
    assert of_shop(await runner.apply_due(MONDAY + timedelta(hours=1)), shop.shop_id) == []
    assert of_shop(await runner.revert_due(MONDAY + timedelta(hours=47)), shop.shop_id) == []

    (reverted,) = of_shop(await runner.revert_due(MONDAY + timedelta(hours=48)), shop.shop_id)
    assert (reverted.action, reverted.done, reverted.skipped) == (ScheduleAction.REVERTED, 2, [])
    assert await values(session_factory, phone, case) == [
        (Decimal("200.90"), 10),
        (Decimal("9.99"), 3),
    ]
    async with session_factory() as session:
        prices = [
            (c.source, c.old_price, c.new_price, c.actor_telegram_id, c.reason)
            for c in await session.scalars(
                select(PriceChange).where(PriceChange.product_id == phone).order_by(PriceChange.id)
            )
        ]
        moves = [
            (m.reason, m.delta, m.stock_after, m.note)
            for m in await session.scalars(
                select(StockMovement)
                .where(StockMovement.product_id == phone)
                .order_by(StockMovement.id)
            )
        ]
        stored = await session.get_one(PriceSchedule, schedule_id)
    tag = f"schedule #{schedule_id}"
    assert prices == [
        (PriceSource.SCHEDULE, Decimal("200.90"), Decimal("150.00"), MANAGER, tag),
        (PriceSource.SCHEDULE, Decimal("150.00"), Decimal("200.90"), MANAGER, f"{tag} reverted"),
    ]
    assert moves == [
        (StockReason.SCHEDULE, -7, 3, tag),
        (StockReason.SCHEDULE, 7, 10, f"{tag} reverted"),
    ]
    assert stored.state is ScheduleState.REVERTED
    assert (stored.applied_at, stored.ended_at, stored.ended_by) == (
        MONDAY,
        MONDAY + timedelta(hours=48),
        None,
    )
    assert of_shop(await runner.revert_due(MONDAY + timedelta(days=3)), shop.shop_id) == []


async def test_values_changed_since_the_apply_are_kept_and_who_changed_them_named(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, customer_id, kettle = await shop_with_cart(
        make_shop, session_factory, user_id=7303, touched=MONDAY
    )  # two kettles in the cart; KT-1 costs 39.00, 4 in stock
    async with session_factory() as session, session.begin():
        session.add(Staff(shop_id=shop.shop_id, telegram_user_id=OTHER, role=StaffRole.MANAGER))
        session.add(ShippingOption(shop_id=shop.shop_id, code="pickup", price=Decimal("0")))
        lamp = Product(shop_id=shop.shop_id, sku="LM-1", title="Lamp", price=10, currency="USD")
        session.add(lamp)
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Staff).where(Staff.telegram_user_id == OTHER).values(name="Dana")
        )
    when = window(MONDAY + timedelta(days=1), 24)
    schedule_id, _ = await schedule(
        session_factory,
        shop.shop_id,
        [["KT-1", "35", "10"], ["LM-1", "12", ""]],
        when,
    )
    runner = ScheduleRunner(session_factory)
    (applied,) = of_shop(await runner.apply_due(when.apply_at), shop.shop_id)
    assert applied.done == 2

    async with session_factory() as session, session.begin():
        # A customer orders two kettles at the scheduled price; a manager reprices the lamp.
        order = await OrderService(session, shop.shop_id).place(
            customer_id,
            shipping_code="pickup",
            phone="+77011234567",
            address=None,
            method=PaymentMethod.CASH_ON_DELIVERY,
            expected_total=cents(Decimal("70.00")),
        )
        await ProductAdmin(session, shop.shop_id, OTHER).set_price("LM-1", Decimal("11"))
    assert await values(session_factory, kettle) == [(Decimal("35.00"), 8)]

    assert when.revert_at is not None
    (reverted,) = of_shop(await runner.revert_due(when.revert_at), shop.shop_id)
    assert (reverted.rows, reverted.done) == (2, 0)
    stock, price = reverted.skipped
    assert (stock.row, stock.sku, stock.result, stock.field, stock.now, stock.wanted) == (
        2,
        "KT-1",
        RowResult.CHANGED,
        "stock",
        8,
        10,
    )
    assert stock.changed_by is not None
    assert (stock.changed_by.kind, stock.changed_by.who) == (ChangeKind.ORDER, order.number)
    assert (price.sku, price.field, price.now, price.wanted, price.currency) == (
        "LM-1",
        "price",
        Decimal("11.00"),
        Decimal("12.00"),
        "USD",
    )
    assert price.changed_by is not None
    assert (price.changed_by.kind, price.changed_by.who) == (ChangeKind.STAFF, "Dana")
    # The kettle's price was still the scheduled one: restored; its stock was kept.
    async with session_factory() as session:
        assert (await session.get_one(Product, kettle)).price == Decimal("39.00")
        assert (await session.get_one(Product, kettle)).stock == 8
        stored = await session.get_one(PriceSchedule, schedule_id)
    assert stored.state is ScheduleState.REVERTED


async def test_products_deleted_off_sale_or_under_cost_by_then_are_skipped(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    when = window(MONDAY + timedelta(days=3), 24)
    rows = [["PH-1", "150", "1"], ["PH-2", "150", ""], ["PH-3", "150", ""], ["PH-4", "150", "2"]]
    schedule_id, _ = await schedule(session_factory, shop.shop_id, rows, when)
    async with session_factory() as session, session.begin():
        await session.execute(delete(Product).where(Product.id == ids["PH-1"]))
        await session.execute(
            update(Product).where(Product.id == ids["PH-2"]).values(is_active=False)
        )
        await session.execute(update(Product).where(Product.id == ids["PH-3"]).values(cost=160))
    runner = ScheduleRunner(session_factory)
    (applied,) = of_shop(await runner.apply_due(when.apply_at), shop.shop_id)
    assert (applied.rows, applied.done) == (4, 1)
    assert [(s.row, s.sku, s.result) for s in applied.skipped] == [
        (2, "PH-1", RowResult.GONE),
        (3, "PH-2", RowResult.INACTIVE),
        (4, "PH-3", RowResult.BELOW_FLOOR),
    ]
    assert (applied.skipped[2].now, applied.skipped[2].wanted) == (
        Decimal("160.00"),
        Decimal("150.00"),
    )
    assert await values(session_factory, ids["PH-2"], ids["PH-3"], ids["PH-4"]) == [
        (Decimal("201.90"), 10),
        (Decimal("202.90"), 10),
        (Decimal("150.00"), 2),
    ]

    async with session_factory() as session, session.begin():
        await session.execute(delete(Product).where(Product.id == ids["PH-4"]))
    assert when.revert_at is not None
    (reverted,) = of_shop(await runner.revert_due(when.revert_at), shop.shop_id)
    assert (reverted.rows, reverted.done) == (1, 0)
    assert [(s.sku, s.result) for s in reverted.skipped] == [("PH-4", RowResult.GONE)]
    async with session_factory() as session:
        assert (await session.get_one(PriceSchedule, schedule_id)).state is ScheduleState.REVERTED


async def test_rows_are_checked_against_the_catalog_and_overlapping_schedules(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    async with session_factory() as session, session.begin():
        await session.execute(update(Product).where(Product.id == ids["PH-2"]).values(cost=150))
    start = MONDAY + timedelta(days=10)
    first, _ = await schedule(
        session_factory, shop.shop_id, [["PH-1", "150", ""]], window(start, 24)
    )
    assert first is not None

    bad = [
        ["PH-9", "10", ""],  # unknown: the closest SKUs suggested
        ["PH-2", "149.99", ""],  # under its cost
        ["PH-3", "abc", ""],
        ["PH-4", "-5", ""],
        ["PH-5", "99999999999", ""],
        ["PH-6", "10", "-1"],
        ["CS-1", "10", "2.5"],
        ["PH-0", "", ""],
        ["PH-1", "10", ""],  # in the first schedule, whose times overlap
    ]
    second, errors = await schedule(
        session_factory, shop.shop_id, bad, window(start + timedelta(hours=23), 5)
    )
    assert second is None
    assert [(e.row, e.column, e.problem, e.value, e.detail) for e in errors] == [
        (2, "sku", Problem.UNKNOWN_SKU, "PH-9", "PH-0, PH-1, PH-2"),
        (3, "price", Problem.BELOW_FLOOR, "149.99", "150.00"),
        (4, "price", Problem.NOT_A_NUMBER, "abc", ""),
        (5, "price", Problem.NEGATIVE, "-5", ""),
        (6, "price", Problem.TOO_LARGE, "99999999999", ""),
        (7, "stock", Problem.NEGATIVE, "-1", ""),
        (8, "stock", Problem.NOT_WHOLE, "2.5", ""),
        (9, "price", Problem.REQUIRED, "", ""),
        (10, "sku", Problem.SCHEDULED, "PH-1", str(first)),
    ]

    cases = {
        window(start + timedelta(hours=24), 5): False,  # starts as the first reverts
        window(start - timedelta(hours=5), 5): False,  # reverts as the first applies
        window(start - timedelta(hours=5), 6): True,
        window(start, None): True,  # the same moment
        window(start + timedelta(hours=3), None): True,  # inside the first's window
        window(start + timedelta(hours=24), None): False,
    }
    for when, expected in cases.items():
        async with session_factory() as session:
            table = read_table(csv_bytes([["sku", "price"], ["PH-1", "120"]]), "p.csv")
            plan = await PriceSchedules(session, shop.shop_id, actor=MANAGER).check(table, when)
        assert bool(plan.errors) is expected, when

    duplicated, errors = await schedule(
        session_factory,
        shop.shop_id,
        [["PH-3", "10", "", "x"], ["ph-3", "11", ""], ["PH-4", "12", ""]],
        window(start, 1),
    )
    assert duplicated is not None
    assert [(e.row, e.problem, e.detail) for e in errors] == [
        (2, Problem.DUPLICATE_SKU, "3"),
        (2, Problem.EXTRA_CELLS, "3"),
        (3, Problem.DUPLICATE_SKU, "2"),
    ]

    with pytest.raises(ImportRefused) as refused:
        await schedule(
            session_factory,
            shop.shop_id,
            [["PH-1", "1"]],
            window(start, 1),
            header=("sku", "stock"),
        )
    assert (refused.value.problem, refused.value.detail) == (FileProblem.MISSING_COLUMNS, "price")


async def test_two_runs_at_once_apply_a_schedule_once(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    when = window(MONDAY + timedelta(days=20), None)
    rows = [[f"PH-{index}", "111", "7"] for index in range(1, 7)]
    schedule_id, _ = await schedule(session_factory, shop.shop_id, rows, when)
    runner = ScheduleRunner(session_factory)
    first, second = await asyncio.gather(
        runner.apply_due(when.apply_at), ScheduleRunner(session_factory).apply_due(when.apply_at)
    )
    outcomes = of_shop(first, shop.shop_id) + of_shop(second, shop.shop_id)
    assert [(o.schedule_id, o.done) for o in outcomes] == [(schedule_id, 6)]
    async with session_factory() as session:
        changes = list(
            await session.scalars(
                select(PriceChange.old_price).where(PriceChange.product_id == ids["PH-3"])
            )
        )
        assert (await session.get_one(PriceSchedule, schedule_id)).state is ScheduleState.APPLIED
    assert changes == [Decimal("202.90")]
    assert of_shop(await runner.revert_due(when.apply_at + timedelta(days=400)), shop.shop_id) == []


async def test_unschedule_cancels_a_pending_schedule_and_reverts_an_active_one_now(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    other, _ = await stock_shop(make_shop, session_factory)
    start = MONDAY + timedelta(days=30)
    pending, _ = await schedule(
        session_factory, shop.shop_id, [["PH-1", "100", ""]], window(start + timedelta(days=1), 1)
    )
    active, _ = await schedule(
        session_factory, shop.shop_id, [["PH-2", "100", "1"]], window(start, 24)
    )
    assert pending is not None and active is not None
    await ScheduleRunner(session_factory).apply_due(start)
    assert await values(session_factory, ids["PH-2"]) == [(Decimal("100.00"), 1)]

    async def unschedule(shop_id: int, schedule_id: int) -> ScheduleOutcome:
        async with session_factory() as session, session.begin():
            schedules = PriceSchedules(session, shop_id, actor=OTHER)
            return await schedules.unschedule(schedule_id, start + timedelta(hours=1))

    cancelled = await unschedule(shop.shop_id, pending)
    assert (cancelled.action, cancelled.rows) == (ScheduleAction.CANCELLED, 1)
    reverted = await unschedule(shop.shop_id, active)
    assert (reverted.action, reverted.done) == (ScheduleAction.REVERTED, 1)
    assert await values(session_factory, ids["PH-1"], ids["PH-2"]) == [
        (Decimal("200.90"), 10),
        (Decimal("201.90"), 10),
    ]
    async with session_factory() as session:
        states = [
            (s.state, s.ended_by)
            for s in [await session.get_one(PriceSchedule, i) for i in (pending, active)]
        ]
    assert states == [(ScheduleState.CANCELLED, OTHER), (ScheduleState.REVERTED, OTHER)]

    with pytest.raises(ScheduleOver):
        await unschedule(shop.shop_id, active)
    with pytest.raises(ScheduleNotFound):
        await unschedule(other.shop_id, pending)  # another shop's schedule
    with pytest.raises(ScheduleNotFound):
        await unschedule(shop.shop_id, 10**12)
    runner = ScheduleRunner(session_factory)
    assert of_shop(await runner.apply_due(start + timedelta(days=2)), shop.shop_id) == []
    assert of_shop(await runner.revert_due(start + timedelta(days=2)), shop.shop_id) == []
