"""The outbox delivered by `souk worker` processes: nothing lost, nothing sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import Settings
from souk.db.models import ChannelKind, OutboxMessage, OutboxStatus, StaffRole
from souk.embedded import ServiceURLs
from souk.services.outbox import OutboxService, Push
from souk.workers.app import DELIVER_TASK, create_celery
from tests.conftest import MakeShop, TestShop
from tests.e2e.processes import WITHIN, SoukProcess, souk_env, start_server
from tests.e2e.test_intake import post
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import message


@pytest.fixture
def env(urls: ServiceURLs, fake_api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    return souk_env(urls, fake_api.base_url, tmp_path, WORKER_CONCURRENCY="2")


async def enqueue(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    shop: TestShop,
    chats: range,
) -> None:
    run = uuid.uuid4().hex[:8]
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings.outbox)
        for chat_id in chats:
            await outbox.enqueue(
                Push(
                    channel=ChannelKind.TELEGRAM,
                    receiver=str(shop.bot_id),
                    chat_id=chat_id,
                    method="sendMessage",
                    payload={"chat_id": chat_id, "text": f"news {chat_id}"},
                    kind="test",
                    shop_id=shop.shop_id,
                    idempotency_key=f"{run}:{chat_id}",
                )
            )


def kick(settings: Settings, urls: ServiceURLs) -> None:
    create_celery(settings, urls).send_task(DELIVER_TASK)


async def wait_until_delivered(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop, within: float = WITHIN
) -> None:
    for _ in range(int(within / 0.1)):
        async with session_factory() as session:
            open_rows = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.shop_id == shop.shop_id,
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                )
            )
        if open_rows == 0:
            return
        await asyncio.sleep(0.1)  # workers are other processes
    raise AssertionError(f"{open_rows} pushes still open")


async def deliver_the_rest(
    env: dict[str, str],
    tmp_path: Path,
    settings: Settings,
    urls: ServiceURLs,
    session_factory: async_sessionmaker[AsyncSession],
    shop: TestShop,
) -> None:
    """A new worker delivers what the shop's outbox still holds."""
    worker = await SoukProcess("worker", env, tmp_path / "second.log").start()
    try:
        await asyncio.to_thread(kick, settings, urls)
        await wait_until_delivered(session_factory, shop)
    finally:
        await worker.stop()


def deliveries(fake_api: FakeBotAPI, shop: TestShop) -> Counter[int]:
    return Counter(
        int(call.params["chat_id"])
        for call in fake_api.calls("sendMessage")
        if call.bot_id == shop.bot_id
    )


async def test_staff_ping_is_answered_through_the_outbox_by_a_worker(
    env: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
) -> None:
    shop = await make_shop(staff={7001: StaffRole.MANAGER})
    worker = await SoukProcess("worker", env, tmp_path / "worker.log").start()
    server, base = await start_server(env, tmp_path, "serve")
    try:
        assert await post(base, shop, message(7001, "/ping")) == 200
        await fake_api.wait_for(
            lambda api: api.delivered_texts(7001, bot_id=shop.bot_id), timeout=WITHIN
        )
        assert fake_api.delivered_texts(7001, bot_id=shop.bot_id)[0].startswith("Pong")
    finally:
        await asyncio.gather(server.stop(), worker.stop())


async def test_a_429_storm_delays_only_the_limited_chats_and_loses_nothing(
    env: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    urls: ServiceURLs,
) -> None:
    shop = await make_shop()
    chats = range(710_000, 710_040)
    stormy = list(chats)[::4]
    for chat_id in stormy:
        fake_api.force_retry_after(chat_id, retry_after=1, count=2)
    await enqueue(session_factory, settings, shop, chats)
    worker = await SoukProcess("worker", env, tmp_path / "worker.log").start()
    try:
        await asyncio.to_thread(kick, settings, urls)
        await wait_until_delivered(session_factory, shop)
    finally:
        await worker.stop()
    assert deliveries(fake_api, shop) == Counter(dict.fromkeys(chats, 1))
    refused = [
        c
        for c in fake_api.calls("sendMessage", ok_only=False)
        if c.bot_id == shop.bot_id and c.status == 429
    ]
    assert {int(c.params["chat_id"]) for c in refused} == set(stormy)
    last_calm = max(
        c.at
        for c in fake_api.calls("sendMessage")
        if c.bot_id == shop.bot_id and c.params["chat_id"] not in stormy
    )
    first_refusal = min(c.at for c in refused)
    # The calm chats did not wait out the storm: they were done within seconds of it.
    assert last_calm - first_refusal < 3.0


async def test_a_worker_killed_mid_delivery_loses_nothing(
    env: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    urls: ServiceURLs,
) -> None:
    shop = await make_shop()
    chats = range(720_000, 720_120)  # about four seconds at 30 messages a second
    await enqueue(session_factory, settings, shop, chats)
    first = await SoukProcess("worker", env, tmp_path / "first.log").start()
    try:
        await asyncio.to_thread(kick, settings, urls)
        await fake_api.wait_for(
            lambda _: sum(deliveries(fake_api, shop).values()) >= 30, timeout=WITHIN
        )
    finally:
        await first.kill()
    killed_at = round(__import__("time").monotonic(), 3)
    delivered_before = sum(deliveries(fake_api, shop).values())
    assert delivered_before < len(chats), "the kill came too late to test anything"
    await deliver_the_rest(env, tmp_path, settings, urls, session_factory, shop)
    counts = deliveries(fake_api, shop)
    assert set(counts) == set(chats), f"lost: {sorted(set(chats) - set(counts))}"
    # A push is marked sent right after the platform accepts it; only one in flight at the
    # instant of the kill could go out twice. Every other push must be sent exactly once.
    duplicated = [chat for chat, n in counts.items() if n > 1]
    times = {
        chat: [round(c.at, 3) for c in fake_api.calls("sendMessage", chat_id=chat)]
        for chat in duplicated
    }
    assert len(duplicated) <= 1, (times, killed_at)


async def test_a_worker_asked_to_stop_ends_its_run_after_the_batch_in_hand(
    env: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    urls: ServiceURLs,
) -> None:
    """SIGTERM to the worker's main process only, as Docker and `souk up` send it: its
    pool process finishes the batch it claimed and takes no other, so the worker exits in
    seconds, not when the run's 50 s budget ends; what is left stays due for the next
    worker, and nothing is sent twice (no push was cut off mid-send)."""
    shop = await make_shop()
    chats = range(730_000, 731_200)  # 40 s at 30 messages a second: longer than a grace
    await enqueue(session_factory, settings, shop, chats)
    batches = {**env, "OUTBOX_BATCH_SIZE": "30"}  # a second's worth
    first = await SoukProcess("worker", batches, tmp_path / "first.log").start()
    try:
        await asyncio.to_thread(kick, settings, urls)
        await fake_api.wait_for(
            lambda _: sum(deliveries(fake_api, shop).values()) >= 60, timeout=WITHIN
        )
        os.kill(first.pid, signal.SIGTERM)
        assert first.process is not None
        code = await asyncio.wait_for(first.process.wait(), 15)
    finally:
        await first.kill()
    assert code == 0, first.output()
    delivered_before = sum(deliveries(fake_api, shop).values())
    assert delivered_before < len(chats) / 2, "the run went on after it was asked to stop"
    async with session_factory() as session:
        sending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.shop_id == shop.shop_id,
                OutboxMessage.status == OutboxStatus.SENDING,
            )
        )
    assert sending == 0  # every claimed push was finished, none left to its lease

    await deliver_the_rest(env, tmp_path, settings, urls, session_factory, shop)
    counts = deliveries(fake_api, shop)
    assert set(counts) == set(chats), f"lost: {sorted(set(chats) - set(counts))}"
    assert [chat for chat, n in counts.items() if n > 1] == []
