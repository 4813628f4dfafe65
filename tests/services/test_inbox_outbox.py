"""The inbox (stored inbound updates) and the outbox (pushes we owe) on the real database.

The database is shared by the whole session, so every test works on its own shop's rows
and looks only at them. Most tests run in one transaction that is rolled back: Postgres
keeps `now()` fixed within a transaction, which makes leases and backoffs exact. Rows of
this test are made due first by dating them in the year 2000 (claims take the oldest).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Select, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from souk.config import OutboxSettings, Settings
from souk.db.models import ChannelKind, InboundStatus, InboundUpdate, OutboxMessage, OutboxStatus
from souk.services.inbox import ChatRef, InboxService, NewUpdate, chat_lock_id
from souk.services.outbox import ClaimedPush, OutboxService, Push
from tests.conftest import MakeShop, TestShop

ANCIENT = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)
ALL = 10_000  # a claim limit that takes every due row (inside a transaction rolled back)


@pytest.fixture
async def shop(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[TestShop]:
    made = await make_shop()
    yield made
    async with session_factory() as session, session.begin():
        await session.execute(delete(OutboxMessage).where(OutboxMessage.shop_id == made.shop_id))
        await session.execute(
            delete(InboundUpdate).where(InboundUpdate.receiver == str(made.bot_id))
        )


async def db_now(session: AsyncSession) -> datetime:
    now = await session.scalar(select(func.now().label("now")))
    assert isinstance(now, datetime)
    return now


# --- inbox ------------------------------------------------------------------------------------


def chat(shop: TestShop, key: str) -> ChatRef:
    return ChatRef(ChannelKind.TELEGRAM, str(shop.bot_id), key)


async def store(
    session: AsyncSession,
    shop: TestShop,
    external_id: str,
    chat_key: str,
    *,
    receiver: str | None = None,
    text: str = "hi",
) -> bool:
    chat = ChatRef(
        ChannelKind.TELEGRAM, str(shop.bot_id) if receiver is None else receiver, chat_key
    )
    payload = json.dumps({"update_id": int(external_id), "text": text})
    new = await InboxService.store_many(
        await session.connection(), [NewUpdate(chat, external_id, "message", payload)]
    )
    return new == {0}


async def inbound(session: AsyncSession, shop: TestShop, external_id: str) -> InboundUpdate:
    row = await session.scalar(
        select(InboundUpdate)
        .where(InboundUpdate.receiver == str(shop.bot_id), InboundUpdate.external_id == external_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def test_store_drops_duplicates(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        assert await store(session, shop, "100", "u1", text="first") is True
        assert await store(session, shop, "100", "u1", text="again") is False
        # The same update id of another bot is another update.
        assert await store(session, shop, "100", "u1", receiver=f"{shop.bot_id}0") is True
        rows = (
            await session.scalars(
                select(InboundUpdate).where(InboundUpdate.receiver == str(shop.bot_id))
            )
        ).all()
        assert [(row.external_id, row.payload["text"], row.status) for row in rows] == [
            ("100", "first", InboundStatus.PENDING)
        ]
        await session.rollback()


async def test_claim_next_takes_oldest_pending_of_the_chat(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        for external_id, chat_key in (("1", "alice"), ("2", "bob"), ("3", "alice")):
            assert await store(session, shop, external_id, chat_key)

        first = await InboxService.claim_next(await session.connection(), chat(shop, "alice"))
        assert first is not None
        assert (first.external_id, first.receiver, first.kind) == ("1", str(shop.bot_id), "message")
        assert first.payload == {"update_id": 1, "text": "hi"}
        # Until it is completed, it stays the next one.
        again = await InboxService.claim_next(await session.connection(), chat(shop, "alice"))
        assert again is not None and again.id == first.id

        bob = await InboxService.claim_next(await session.connection(), chat(shop, "bob"))
        assert bob is not None and bob.external_id == "2"
        assert (
            await InboxService.claim_next(await session.connection(), chat(shop, "carol")) is None
        )

        await InboxService.complete(await session.connection(), first.id)
        second = await InboxService.claim_next(await session.connection(), chat(shop, "alice"))
        assert second is not None and second.external_id == "3"
        await InboxService.complete(await session.connection(), second.id)
        assert (
            await InboxService.claim_next(await session.connection(), chat(shop, "alice")) is None
        )
        await session.rollback()


async def test_complete_marks_done_or_failed(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        await store(session, shop, "1", "alice")
        await store(session, shop, "2", "alice")
        done, failed = await inbound(session, shop, "1"), await inbound(session, shop, "2")
        await InboxService.complete(await session.connection(), done.id)
        await InboxService.complete(await session.connection(), failed.id, error="handler crashed")

        done, failed = await inbound(session, shop, "1"), await inbound(session, shop, "2")
        assert (done.status, done.error, done.attempts) == (InboundStatus.DONE, None, 1)
        assert done.processed_at == await db_now(session)
        assert (failed.status, failed.error, failed.attempts) == (
            InboundStatus.FAILED,
            "handler crashed",
            1,
        )
        assert failed.processed_at is not None
        await session.rollback()


async def test_pending_chats_lists_chats_with_pending_updates(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        await store(session, shop, "1", "alice")
        await store(session, shop, "2", "alice")
        await store(session, shop, "3", "bob")
        await InboxService.complete(
            await session.connection(), (await inbound(session, shop, "3")).id
        )
        # Stored in this transaction: not older than its own now().
        listed = await InboxService.pending_chats(session, older_than=timedelta(0), limit=ALL)
        assert chat(shop, "alice") not in listed

    # A later transaction: the rows are now older than zero seconds.
    async with session_factory() as session, session.begin():
        listed = await InboxService.pending_chats(session, older_than=timedelta(0), limit=ALL)
        mine = [ref for ref in listed if ref.receiver == str(shop.bot_id)]
        assert mine == [chat(shop, "alice")]
        recent = await InboxService.pending_chats(session, older_than=timedelta(hours=1), limit=ALL)
        assert chat(shop, "alice") not in recent


async def test_purge_never_deletes_pending(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        for external_id in ("1", "2", "3"):
            await store(session, shop, external_id, "alice")
        await InboxService.complete(
            await session.connection(), (await inbound(session, shop, "2")).id
        )
        await InboxService.complete(
            await session.connection(), (await inbound(session, shop, "3")).id, error="x"
        )

    def mine() -> Select[str]:
        return (
            select(InboundUpdate.external_id)
            .where(InboundUpdate.receiver == str(shop.bot_id))
            .order_by(InboundUpdate.external_id)
        )

    # Purging deletes other tests' processed rows too: rolled back, not committed.
    async with session_factory() as session, session.begin():
        assert await InboxService.purge(session, older_than=timedelta(days=7)) >= 0
        assert (await session.scalars(mine())).all() == ["1", "2", "3"]
        assert await InboxService.purge(session, older_than=timedelta(0)) >= 2
        assert (await session.scalars(mine())).all() == ["1"]
        await session.rollback()


# --- outbox -----------------------------------------------------------------------------------


def make_push(
    shop: TestShop,
    *,
    chat_id: int = 1,
    not_before: datetime | None = ANCIENT,
    key: str | None = None,
    text: str = "hello",
) -> Push:
    return Push(
        channel=ChannelKind.TELEGRAM,
        receiver=str(shop.bot_id),
        chat_id=chat_id,
        method="sendMessage",
        payload={"chat_id": chat_id, "text": text},
        kind="test",
        idempotency_key=key or f"test:{uuid.uuid4().hex}",
        shop_id=shop.shop_id,
        not_before=not_before,
    )


async def outbox_row(session: AsyncSession, key: str) -> OutboxMessage:
    row = await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.idempotency_key == key)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def claim_mine(service: OutboxService, shop: TestShop, limit: int = ALL) -> list[ClaimedPush]:
    return [push for push in await service.claim(limit) if push.receiver == str(shop.bot_id)]


async def test_enqueue_is_idempotent_by_key(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings.outbox)
        push = make_push(shop, text="first")
        assert await outbox.enqueue(push) is True
        assert await outbox.enqueue(make_push(shop, key=push.idempotency_key, text="2nd")) is False
        count = await session.scalar(
            select(func.count()).where(OutboxMessage.idempotency_key == push.idempotency_key)
        )
        assert count == 1
        row = await outbox_row(session, push.idempotency_key)
        assert (row.status, row.attempts, row.payload["text"]) == (OutboxStatus.PENDING, 0, "first")
        assert row.next_attempt_at == ANCIENT
        await session.rollback()


async def test_enqueue_kicks_the_notifier_once_per_commit(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    kicks: list[str] = []
    future = datetime.now(UTC) + timedelta(days=1)  # committed, but never due for others
    async with session_factory() as session:
        async with session.begin():
            outbox = OutboxService(session, settings.outbox, on_committed=lambda: kicks.append("k"))
            first = make_push(shop, not_before=future)
            await outbox.enqueue(first)
            await outbox.enqueue(make_push(shop, not_before=future))
            assert kicks == []
        assert kicks == ["k"]

        async with session.begin():
            await outbox.enqueue(first)  # a duplicate: nothing new to deliver
        async with session.begin():
            await outbox.enqueue(make_push(shop, not_before=future))
            await session.rollback()
        assert kicks == ["k"]

        async with session.begin():
            await outbox.enqueue(make_push(shop, not_before=future))
        assert kicks == ["k", "k"]


async def test_claim_takes_due_rows_only(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings.outbox)
        due, later = make_push(shop, chat_id=5), make_push(shop, chat_id=6, not_before=FAR_FUTURE)
        await outbox.enqueue(due)
        await outbox.enqueue(later)
        due_id = (await outbox_row(session, due.idempotency_key)).id

        claimed = await claim_mine(outbox, shop)
        assert claimed == [
            ClaimedPush(
                due_id,
                ChannelKind.TELEGRAM,
                str(shop.bot_id),
                5,
                "sendMessage",
                {"chat_id": 5, "text": "hello"},
                1,
                "test",
                shop.shop_id,
            )
        ]
        row = await outbox_row(session, due.idempotency_key)
        assert (row.status, row.attempts) == (OutboxStatus.SENDING, 1)
        assert row.lease_until == await db_now(session) + timedelta(
            seconds=settings.outbox.lease_seconds
        )
        not_due = await outbox_row(session, later.idempotency_key)
        assert (not_due.status, not_due.attempts) == (OutboxStatus.PENDING, 0)
        # Under lease: not claimed again.
        assert await claim_mine(outbox, shop) == []
        await session.rollback()


async def test_claim_respects_limit_oldest_first(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings.outbox)
        pushes = [
            make_push(shop, chat_id=chat_id, not_before=ANCIENT + timedelta(minutes=-chat_id))
            for chat_id in range(1, 4)
        ]
        for push in pushes:
            await outbox.enqueue(push)
        # The two due longest are taken (returned in id order).
        assert [p.chat_id for p in await outbox.claim(2)] == [2, 3]
        assert [p.chat_id for p in await claim_mine(outbox, shop)] == [1]
        await session.rollback()


async def test_concurrent_claims_never_share_a_row(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings.outbox)
        for chat_id in range(6):
            await outbox.enqueue(make_push(shop, chat_id=chat_id))

    async with session_factory() as first, session_factory() as second:
        claims = await asyncio.wait_for(
            asyncio.gather(
                OutboxService(first, settings.outbox).claim(4),
                OutboxService(second, settings.outbox).claim(4),
            ),
            timeout=30,  # a claim that blocks on the other's row locks would hang here
        )
        # Rolled back: rows of other tests that were claimed stay as they were.
        await first.rollback()
        await second.rollback()
    ids = [{push.id for push in claim} for claim in claims]
    assert ids[0] and ids[1]
    assert ids[0].isdisjoint(ids[1])
    mine = [push.chat_id for claim in claims for push in claim if push.receiver == str(shop.bot_id)]
    assert sorted(mine) == list(range(6))


async def test_claim_takes_back_an_expired_lease(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    settings = OutboxSettings(lease_seconds=0.001, max_attempts=3, backoff_seconds=1)
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings)
        push = make_push(shop)
        await outbox.enqueue(push)
        [claimed] = await claim_mine(outbox, shop)
        assert claimed.attempts == 1
        assert await claim_mine(outbox, shop) == []  # now() is fixed: the lease still holds

        # The worker died: its lease is over.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id)
            .values(lease_until=func.now() - timedelta(seconds=1))
        )
        [again] = await claim_mine(outbox, shop)
        assert (again.id, again.attempts) == (claimed.id, 2)
        row = await outbox_row(session, push.idempotency_key)
        assert row.status == OutboxStatus.SENDING
        assert row.lease_until is not None and row.lease_until > await db_now(session)
        await session.rollback()


async def test_renew_lease_extends_sending_rows_only(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings.outbox)
        push, waiting = make_push(shop), make_push(shop, not_before=FAR_FUTURE)
        await outbox.enqueue(push)
        await outbox.enqueue(waiting)
        [claimed] = await claim_mine(outbox, shop)
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id)
            .values(lease_until=func.now() - timedelta(seconds=1))
        )
        waiting_id = (await outbox_row(session, waiting.idempotency_key)).id
        await outbox.renew_lease([claimed.id, waiting_id])
        now = await db_now(session)
        row = await outbox_row(session, push.idempotency_key)
        assert row.lease_until == now + timedelta(seconds=settings.outbox.lease_seconds)
        assert (await outbox_row(session, waiting.idempotency_key)).lease_until is None
        assert await claim_mine(outbox, shop) == []
        await session.rollback()


async def test_retry_later_backs_off_then_gives_up(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    settings = OutboxSettings(lease_seconds=60, max_attempts=3, backoff_seconds=1)
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings)
        push = make_push(shop)
        await outbox.enqueue(push)
        now = await db_now(session)

        for attempt, backoff in ((1, 1), (2, 2)):
            [claimed] = await claim_mine(outbox, shop)
            assert claimed.attempts == attempt
            assert await outbox.retry_later(claimed, f"timeout {attempt}") is True
            row = await outbox_row(session, push.idempotency_key)
            assert (row.status, row.lease_until, row.last_error) == (
                OutboxStatus.PENDING,
                None,
                f"timeout {attempt}",
            )
            assert row.next_attempt_at - now == timedelta(seconds=backoff)
            assert await claim_mine(outbox, shop) == []  # not due during the backoff
            # Time passes (in the database's terms): the row is due again.
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == claimed.id)
                .values(next_attempt_at=ANCIENT)
            )

        [last] = await claim_mine(outbox, shop)
        assert last.attempts == 3
        assert await outbox.retry_later(last, "timeout 3") is False
        row = await outbox_row(session, push.idempotency_key)
        assert row.status == OutboxStatus.FAILED
        assert row.lease_until is None
        assert row.last_error == "gave up after 3 attempts: timeout 3"
        assert await claim_mine(outbox, shop) == []
        await session.rollback()


async def test_retry_later_caps_backoff_and_takes_an_explicit_delay(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    settings = OutboxSettings(max_attempts=10, backoff_seconds=1.5, backoff_max_seconds=10)
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings)
        push = make_push(shop)
        await outbox.enqueue(push)
        [claimed] = await claim_mine(outbox, shop)
        now = await db_now(session)

        for attempts, backoff in ((3, 6.0), (4, 10.0), (9, 10.0)):  # 1.5 * 2**(n-1), up to 10
            later = ClaimedPush(
                claimed.id,
                claimed.channel,
                claimed.receiver,
                claimed.chat_id,
                claimed.method,
                claimed.payload,
                attempts=attempts,
            )
            assert await outbox.retry_later(later, "429") is True
            row = await outbox_row(session, push.idempotency_key)
            assert row.next_attempt_at - now == timedelta(seconds=backoff)

        assert await outbox.retry_later(claimed, "429", after_seconds=42.5) is True
        row = await outbox_row(session, push.idempotency_key)
        assert row.next_attempt_at - now == timedelta(seconds=42.5)
        assert await outbox.retry_later(claimed, "x" * 5000) is True
        assert len((await outbox_row(session, push.idempotency_key)).last_error or "") == 2000
        await session.rollback()


async def test_mark_sent(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings.outbox)
        push = make_push(shop)
        await outbox.enqueue(push)
        [claimed] = await claim_mine(outbox, shop)
        await outbox.retry_later(claimed, "timeout")
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id)
            .values(next_attempt_at=ANCIENT)
        )
        [claimed] = await claim_mine(outbox, shop)

        await outbox.mark_sent(claimed.id, "4711")
        row = await outbox_row(session, push.idempotency_key)
        assert (row.status, row.provider_message_id, row.lease_until, row.last_error) == (
            OutboxStatus.SENT,
            "4711",
            None,
            None,
        )
        assert row.sent_at == await db_now(session)
        assert row.attempts == 2
        assert await claim_mine(outbox, shop) == []
        await session.rollback()


async def test_stats_counts_depth(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_factory() as session, session.begin():
        outbox = OutboxService(session, settings.outbox)
        before = await outbox.stats()
        pushes = [make_push(shop, chat_id=chat_id) for chat_id in range(3)]
        for push in pushes:
            await outbox.enqueue(push)
        queued = await outbox.stats()
        assert (queued.depth, queued.sent, queued.failed) == (
            before.depth + 3,
            before.sent,
            before.failed,
        )
        assert queued.oldest_age_seconds >= 0

        first, second, _third = await claim_mine(outbox, shop, limit=3)
        assert (await outbox.stats()).depth == before.depth + 3  # sending still counts
        await outbox.mark_sent(first.id, None)
        await outbox.mark_failed(second.id, "blocked by user")
        after = await outbox.stats()
        assert (after.depth, after.sent, after.failed) == (
            before.depth + 1,
            before.sent + 1,
            before.failed + 1,
        )
        await session.rollback()


async def test_claiming_holds_the_users_lock_until_the_transaction_ends(
    shop: TestShop, session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """Regression: the driver-level claim ran before SQLAlchemy's lazy BEGIN, outside it."""
    async with session_factory() as session, session.begin():
        await store(session, shop, "1", "dora")
    lock_id = chat_lock_id(str(shop.bot_id), "dora")
    probe = text("SELECT pg_try_advisory_lock(:id)")
    async with session_factory() as session:
        transaction = await session.begin()
        claimed = await InboxService.claim_next(await session.connection(), chat(shop, "dora"))
        assert claimed is not None
        async with engine.connect() as other:
            assert (await other.execute(probe, {"id": lock_id})).scalar() is False
        await transaction.commit()
    async with engine.connect() as other:
        assert (await other.execute(probe, {"id": lock_id})).scalar() is True
        await other.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
