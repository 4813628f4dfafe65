"""The beat job of scheduled changes with a chosen clock: wired into the beat schedule,
it applies and reverts through the service and tells the staff through the outbox, the
skipped rows cut to fit one message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.delivery import OutboxDeliverer
from souk.db.models import OutboxMessage, Product, RowResult, StaffRole
from souk.embedded import ServiceURLs
from souk.formatting import MESSAGE_LIMIT
from souk.notify import StaffNotifier
from souk.pushes import push_schedule_outcome
from souk.runtime import Runtime
from souk.services.schedule_runs import ScheduleAction, ScheduleOutcome, Skipped
from souk.services.schedule_times import Window
from souk.workers.app import SCHEDULE_TASK, create_celery
from souk.workers.schedules import run_price_schedules
from tests.channels.test_catalog import stock_shop
from tests.conftest import MakeShop
from tests.fakes.telegram_api import FakeBotAPI
from tests.services.test_schedules import schedule

OWNER = 7401
WHEN = datetime(2033, 2, 1, 8, 0, tzinfo=UTC)


async def staff_pushes(
    session_factory: async_sessionmaker[AsyncSession], shop_id: int
) -> list[str]:
    async with session_factory() as session:
        found = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.shop_id == shop_id, OutboxMessage.kind == "schedule")
            .order_by(OutboxMessage.id)
        )
        return [str(push.payload["text"]) for push in found]


def test_beat_runs_the_schedule_task_every_check_interval(
    runtime: Runtime, urls: ServiceURLs
) -> None:
    app = create_celery(runtime.settings, urls)
    entry = app.conf.beat_schedule["price-schedules"]
    assert entry["task"] == SCHEDULE_TASK
    assert entry["schedule"] == timedelta(seconds=runtime.settings.schedules.check_seconds)
    assert runtime.settings.schedules.check_seconds == 60
    import souk.workers.tasks  # noqa: F401  (the worker imports it: it registers the tasks)

    assert SCHEDULE_TASK in app.tasks


async def test_the_job_applies_and_reverts_and_tells_the_staff(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={OWNER: StaffRole.OWNER})
    window = Window(WHEN, WHEN + timedelta(days=2))
    schedule_id, _ = await schedule(
        session_factory, shop.shop_id, [["PH-1", "99", "1"], ["PH-2", "98", ""]], window
    )

    async def price() -> Decimal:
        async with session_factory() as session:
            return (await session.get_one(Product, ids["PH-1"])).price

    await run_price_schedules(runtime, WHEN - timedelta(minutes=1))
    assert await price() == Decimal("200.90")
    assert await run_price_schedules(runtime, WHEN) >= 1  # other tests' schedules may be due
    assert await price() == Decimal("99.00")
    assert await staff_pushes(session_factory, shop.shop_id) == [
        f"Schedule #{schedule_id} applied: 2 of 2 rows changed. It reverts at 2033-02-03 08:00."
    ]
    await run_price_schedules(runtime, WHEN + timedelta(days=2))
    pushes = await staff_pushes(session_factory, shop.shop_id)
    assert pushes[1] == f"Schedule #{schedule_id} reverted: 2 of 2 rows restored."

    deliverer = OutboxDeliverer(
        session_factory=runtime.session_factory,
        registry=runtime.registry,
        settings=runtime.settings.outbox,
    )
    await deliverer.run(time_budget=20)
    assert fake_api.delivered_texts(OWNER, bot_id=shop.bot_id) == pushes


async def test_a_long_list_of_skipped_rows_is_cut_to_one_message(
    runtime: Runtime,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    skipped = [Skipped(row, f"SKU-{row:05}", RowResult.GONE) for row in range(2, 502)]
    outcome = ScheduleOutcome(
        schedule_id=10**9,  # an id no real schedule of the run has (the push key names it)
        shop_id=shop.shop_id,
        action=ScheduleAction.APPLIED,
        rows=500,
        done=0,
        skipped=skipped,
        revert_at=None,
    )
    async with session_factory() as session, session.begin():
        notifier = StaffNotifier(session, runtime.outbox(session), runtime.i18n)
        assert await push_schedule_outcome(notifier, outcome) == 1
    (text,) = await staff_pushes(session_factory, shop.shop_id)
    lines = text.splitlines()
    assert len(text) <= MESSAGE_LIMIT
    assert lines[:3] == [
        "Schedule #1000000000 applied: 0 of 500 rows changed. It does not revert.",
        "Skipped:",
        "• SKU-00002 (row 2): the product was deleted.",
    ]
    shown = len([line for line in lines if line.startswith("• ")])
    assert lines[-1] == f"…and {500 - shown} more."
    assert shown > 50
