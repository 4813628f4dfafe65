"""`souk serve` as a separate process, spoken to only over HTTP: durability and order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from souk.db.models import InboundStatus, InboundUpdate
from souk.embedded import ServiceURLs
from souk.services.inbox import chat_lock_id
from souk.web import SECRET_HEADER
from tests.conftest import MakeShop, TestShop
from tests.e2e.processes import WITHIN, souk_env, start_server
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import message


@pytest.fixture
def env(urls: ServiceURLs, fake_api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    return souk_env(urls, fake_api.base_url, tmp_path)


async def post(
    base: str, shop: TestShop, update: dict[str, Any], *, secret: str | None = None
) -> int:
    headers = {SECRET_HEADER: shop.secret if secret is None else secret}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/webhook/telegram/{shop.bot_id}", data=json.dumps(update), headers=headers
        ) as response,
    ):
        return response.status


@asynccontextmanager
async def user_locked(engine: AsyncEngine, shop: TestShop, user_id: int) -> AsyncIterator[None]:
    """Hold the user's processing lock, as a busy process would: updates queue up behind it."""
    async with engine.connect() as connection:
        lock = chat_lock_id(str(shop.bot_id), str(user_id))
        await connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock})
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock})


async def statuses(session_factory: async_sessionmaker[AsyncSession], shop: TestShop) -> list[str]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(InboundUpdate.status)
            .where(InboundUpdate.receiver == str(shop.bot_id))
            .order_by(InboundUpdate.id)
        )
        return [status.value for status in rows]


async def test_wrong_secret_and_duplicates_over_http(
    env: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    server, base = await start_server(env, tmp_path, "serve")
    try:
        shop = await make_shop()
        assert await post(base, shop, message(6001, "/start"), secret="nope") == 401
        assert await statuses(session_factory, shop) == []
        update = message(6001, "/help")
        assert [await post(base, shop, update) for _ in range(3)] == [200, 200, 200]
        await fake_api.wait_for(lambda api: api.delivered_texts(6001, bot_id=shop.bot_id))
        for _ in range(100):
            if await statuses(session_factory, shop) == ["done"]:
                break
            await asyncio.sleep(0.05)  # the background processor marks the row
        assert await statuses(session_factory, shop) == ["done"]
        assert len(fake_api.delivered_texts(6001, bot_id=shop.bot_id)) == 1
    finally:
        await server.stop()


async def test_kill_after_store_before_processing_replies_exactly_once(
    env: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    first, base = await start_server(env, tmp_path, "first")
    try:
        async with user_locked(engine, shop, 6002):
            assert await post(base, shop, message(6002, "/start")) == 200
            # Stored (200 came after the INSERT) and stuck behind the lock: not processed.
            assert await statuses(session_factory, shop) == ["pending"]
            await first.kill()
        assert fake_api.delivered_texts(6002, bot_id=shop.bot_id) == []
    finally:
        await first.kill()
    second, _ = await start_server(env, tmp_path, "second")
    try:
        await fake_api.wait_for(
            lambda api: api.delivered_texts(6002, bot_id=shop.bot_id), timeout=20
        )
        for _ in range(100):
            if await statuses(session_factory, shop) == ["done"]:
                break
            await asyncio.sleep(0.05)
        assert await statuses(session_factory, shop) == ["done"]
        (reply,) = fake_api.delivered_texts(6002, bot_id=shop.bot_id)
        assert reply.startswith("Hello")
    finally:
        await second.stop()


@pytest.fixture
def fast_chats(fake_api: FakeBotAPI) -> Iterator[dict[str, str]]:
    """Send limits and the flood throttle out of the way: ordering, not pacing, is under test."""
    before = fake_api.limits
    fake_api.configure_limits(per_chat_rate=100.0, per_chat_burst=100)
    # 25 messages in half a second is a flood the throttle would rightly cut.
    yield {
        "TELEGRAM_PER_CHAT_RATE": "100",
        "TELEGRAM_PER_CHAT_BURST": "100",
        "INBOX_THROTTLE_RATE": "1000",
        "INBOX_THROTTLE_BURST": "1000",
    }
    fake_api.configure_limits(
        per_chat_rate=before.per_chat_rate, per_chat_burst=before.per_chat_burst
    )


async def test_one_users_updates_are_processed_in_order_across_processes(
    env: dict[str, str],
    fast_chats: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    env = {**env, **fast_chats}
    (a, base_a), (b, base_b) = await asyncio.gather(
        start_server(env, tmp_path, "a"), start_server(env, tmp_path, "b")
    )
    try:
        count = 12
        async with user_locked(engine, shop, 6003):
            # Sequential deliveries, as Telegram makes them for one chat, to both processes.
            for index in range(count):
                # Commands nobody handles: the fallback quotes each one back.
                update = message(6003, f"/seq_{index:02d}")
                assert await post(base_a if index % 2 else base_b, shop, update) == 200
            # And concurrent ones, whose arrival order the database decides.
            burst = [message(6003, f"/burst_{index:02d}") for index in range(count)]
            results = await asyncio.gather(
                *(
                    post(base_a if index % 2 else base_b, shop, update)
                    for index, update in enumerate(burst)
                )
            )
            assert results == [200] * count
            # Other users are not held up by this one.
            assert await post(base_a, shop, message(6004, "/other")) == 200
            await fake_api.wait_for(lambda api: api.delivered_texts(6004, bot_id=shop.bot_id))
            assert fake_api.delivered_texts(6003, bot_id=shop.bot_id) == []
        await fake_api.wait_for(
            lambda api: len(api.delivered_texts(6003, bot_id=shop.bot_id)) == 2 * count,
            timeout=WITHIN,
        )
        async with session_factory() as session:
            arrival = list(
                await session.scalars(
                    select(InboundUpdate.payload["message"]["text"].astext)
                    .where(
                        InboundUpdate.receiver == str(shop.bot_id), InboundUpdate.chat_key == "6003"
                    )
                    .order_by(InboundUpdate.id)
                )
            )
        replies = fake_api.delivered_texts(6003, bot_id=shop.bot_id)
        quoted = [reply.split("“")[1].split("”")[0] for reply in replies]
        assert quoted[:count] == [f"/seq_{index:02d}" for index in range(count)]
        assert quoted == arrival
        async with session_factory() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(InboundUpdate)
                .where(
                    InboundUpdate.receiver == str(shop.bot_id),
                    InboundUpdate.status == InboundStatus.PENDING,
                )
            )
        assert pending == 0
    finally:
        await asyncio.gather(a.stop(), b.stop())
