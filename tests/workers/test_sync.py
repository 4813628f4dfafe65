"""The sync jobs: wired into beat, which stores are due, and a run's conflicts told to the
staff through the outbox (once per distinct news)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import OutboxMessage, StaffRole, SyncKind, SyncSource
from souk.embedded import ServiceURLs
from souk.runtime import Runtime
from souk.services.products import ProductAdmin
from souk.services.sync_sources import SyncSources
from souk.workers.app import SYNC_DUE_TASK, SYNC_RUN_TASK, create_celery
from souk.workers.sync import due_syncs, sync_store
from tests.conftest import MakeShop
from tests.fakes.shopify_api import FakeShopify
from tests.fakes.store_faults import WallClock
from tests.services.test_sync_shopify import TOKEN, FakeTime, Harness, sync_settings

OWNER = 7601


def test_beat_starts_due_syncs_every_check_interval(runtime: Runtime, urls: ServiceURLs) -> None:
    app = create_celery(runtime.settings, urls)
    entry = app.conf.beat_schedule["catalog-sync"]
    assert entry["task"] == SYNC_DUE_TASK
    assert entry["schedule"] == timedelta(seconds=runtime.settings.sync.check_seconds)
    import souk.workers.tasks  # noqa: F401  (registers the tasks)

    assert {SYNC_DUE_TASK, SYNC_RUN_TASK} <= set(app.tasks)


async def test_due_sources_follow_the_interval_and_the_full_run_period(
    runtime: Runtime, make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop()
    now = datetime(2033, 3, 1, 12, 0, tzinfo=UTC)
    async with session_factory() as session, session.begin():
        sources = SyncSources(session)
        fresh = await sources.add(
            shop.shop_id, SyncKind.SHOPIFY, "https://a.example", api_secret="t1"
        )
        recent = await sources.add(
            shop.shop_id, SyncKind.SHOPIFY, "https://b.example", api_secret="t2"
        )
        held = await sources.add(
            shop.shop_id, SyncKind.SHOPIFY, "https://c.example", api_secret="t3"
        )
        await session.flush()
        await session.execute(
            update(SyncSource)
            .where(SyncSource.id == recent.id)
            .values(last_run_at=now - timedelta(minutes=5), last_full_at=now - timedelta(hours=1))
        )
        await session.execute(
            update(SyncSource)
            .where(SyncSource.id == held.id)
            .values(lease_until=now + timedelta(minutes=5))
        )
    due = dict(await due_syncs(runtime, now))
    assert due.get(fresh.id) is True  # never read in full
    assert recent.id not in due and held.id not in due
    later = dict(await due_syncs(runtime, now + timedelta(minutes=11)))
    assert later.get(recent.id) is False  # due, incremental


async def test_conflicts_are_pushed_to_the_staff_once(
    runtime: Runtime, make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    time = FakeTime()
    # sync_store runs on the real clock: the store's changes must come after its runs.
    wall = WallClock(datetime.now(UTC) + timedelta(minutes=1))
    async with FakeShopify(token=TOKEN, clock=time.clock, wall=wall) as store:
        store.add_product("Lamp", [("LM-1", "40.00", 2)])
        async with session_factory() as session, session.begin():
            source = await SyncSources(session).add(
                shop.shop_id, SyncKind.SHOPIFY, store.root_url, api_secret=TOKEN
            )
        harness = Harness(
            shop.shop_id, source.id, session_factory, sync_settings(), time, store.wall
        )
        await sync_store(runtime, source.id, connect=harness.connect)
        async with session_factory() as session, session.begin():
            await ProductAdmin(session, shop.shop_id, OWNER).set_price("LM-1", Decimal("45.00"))
        store.change("LM-1", price="42.00")
        for _ in range(2):
            store.wall.tick()
            report = await sync_store(runtime, source.id, connect=harness.connect)
            assert len(report.conflicts) == 1
    async with session_factory() as session:
        pushes = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.shop_id == shop.shop_id, OutboxMessage.kind == "sync"
                )
            )
        )
    (push,) = pushes
    assert push.chat_id == OWNER
    text = str(push.payload["text"])
    assert "LM-1: price 45.00 here, 42.00 in the store (was 40.00)" in text
    assert TOKEN not in text
