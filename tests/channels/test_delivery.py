"""The notifier's engine in-process: what is sent, retried, given up; leases taken over."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.delivery import OutboxDeliverer
from souk.config import OutboxSettings
from souk.db.models import ChannelKind, OutboxMessage, OutboxStatus
from souk.runtime import Runtime
from souk.services.outbox import OutboxService, Push
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI


async def enqueue(
    session_factory: async_sessionmaker[AsyncSession],
    shop: TestShop,
    chat_id: int,
    payload: dict[str, object],
    *,
    receiver: str | None = None,
    method: str = "sendMessage",
) -> str:
    key = uuid.uuid4().hex
    async with session_factory() as session, session.begin():
        await OutboxService(session, OutboxSettings()).enqueue(
            Push(
                channel=ChannelKind.TELEGRAM,
                receiver=receiver or str(shop.bot_id),
                chat_id=chat_id,
                method=method,
                payload=payload,
                kind="test",
                shop_id=shop.shop_id,
                idempotency_key=key,
            )
        )
    return key


async def row(session_factory: async_sessionmaker[AsyncSession], key: str) -> OutboxMessage:
    async with session_factory() as session:
        found = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
        )
    assert found is not None
    return found


def deliverer(runtime: Runtime, **settings: float) -> OutboxDeliverer:
    return OutboxDeliverer(
        session_factory=runtime.session_factory,
        registry=runtime.registry,
        settings=OutboxSettings(**settings),
    )


async def test_sent_failed_and_retried_pushes_are_settled(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    fake_api.block(9102)
    ok = await enqueue(session_factory, shop, 9101, {"chat_id": 9101, "text": "hello"})
    blocked = await enqueue(session_factory, shop, 9102, {"chat_id": 9102, "text": "hello"})
    too_long = await enqueue(session_factory, shop, 9103, {"chat_id": 9103, "text": "x" * 5000})
    no_bot = await enqueue(
        session_factory, shop, 9104, {"chat_id": 9104, "text": "hi"}, receiver="1"
    )
    bad_method = await enqueue(session_factory, shop, 9105, {"chat_id": 9105}, method="sendNothing")
    report = await deliverer(runtime).run(time_budget=20)
    assert report.sent >= 1
    sent = await row(session_factory, ok)
    assert sent.status is OutboxStatus.SENT and sent.sent_at is not None
    assert sent.provider_message_id is not None
    for key in (blocked, too_long, no_bot, bad_method):
        failed = await row(session_factory, key)
        assert failed.status is OutboxStatus.FAILED and failed.last_error, key
        assert failed.attempts == 1  # a permanent error is not retried


async def test_a_server_error_is_retried_later_with_backoff(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    flaky = await enqueue(session_factory, shop, 9106, {"chat_id": 9106, "text": "again"})
    fake_api.fail_next(1, status=502)
    report = await deliverer(runtime, backoff_seconds=30).run(time_budget=10)
    assert report.retried == 1 and report.sent == 0
    waiting = await row(session_factory, flaky)
    assert waiting.status is OutboxStatus.PENDING and waiting.attempts == 1
    assert "Bad Gateway" in (waiting.last_error or "")
    assert (waiting.next_attempt_at - waiting.created_at).total_seconds() >= 29
    async with session_factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key == flaky)
            .values(next_attempt_at=OutboxMessage.created_at)
        )
    await deliverer(runtime).run(time_budget=10)
    assert (await row(session_factory, flaky)).status is OutboxStatus.SENT
    assert fake_api.delivered_texts(9106, bot_id=shop.bot_id) == ["again"]


async def test_a_lease_that_ran_out_is_taken_over_and_sent_once(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    key = await enqueue(session_factory, shop, 9201, {"chat_id": 9201, "text": "orphan"})
    async with session_factory() as session, session.begin():
        claimed = await OutboxService(session, OutboxSettings()).claim(1000)
    assert any(push.chat_id == 9201 for push in claimed)  # a worker took it, then died
    await deliverer(runtime).run(time_budget=5)
    assert fake_api.delivered_texts(9201, bot_id=shop.bot_id) == []  # leased: not touched
    async with session_factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key == key)
            .values(lease_until=OutboxMessage.created_at)
        )
    await deliverer(runtime).run(time_budget=10)
    assert fake_api.delivered_texts(9201, bot_id=shop.bot_id) == ["orphan"]
    taken_over = await row(session_factory, key)
    assert taken_over.status is OutboxStatus.SENT and taken_over.attempts == 2


async def test_one_chats_pushes_arrive_in_the_order_they_were_queued(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    statuses = ["confirmed", "shipped", "delivered", "return requested", "returned"]
    for chat_id in (9111, 9112):
        for status in statuses:
            await enqueue(session_factory, shop, chat_id, {"chat_id": chat_id, "text": status})
    await deliverer(runtime).run(time_budget=20)
    for chat_id in (9111, 9112):
        assert fake_api.delivered_texts(chat_id, bot_id=shop.bot_id) == statuses
