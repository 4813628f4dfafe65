"""The inbox: inbound updates stored before we acknowledge them, processed exactly once.

Storing is a single INSERT ... ON CONFLICT DO NOTHING on the platform's own id, so a
redelivered update is recognised and dropped. Processing takes a transaction-scoped
advisory lock on the user's chat key and then the oldest pending update of that user:
whoever holds the lock handles that user's updates one at a time, in arrival order,
whichever process received them. The row is marked done in the same transaction as
the handler's own writes, so a crash before commit leaves it pending for a retry.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, Text, cast, delete, func, select
from sqlalchemy import update as update_rows
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from souk.db.models import ChannelKind, InboundStatus, InboundUpdate
from souk.db.session import driver
from souk.services.message_log import LOG_ROWS, MessageRow, log_columns


def chat_lock_id(receiver: str, chat_key: str) -> int:
    """A signed 64-bit advisory lock id for one user of one bot or number."""
    digest = hashlib.blake2b(f"{receiver}:{chat_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class ChatRef:
    """One user of one receiver (bot id or phone number id): the unit of ordering."""

    channel: ChannelKind
    receiver: str
    chat_key: str


@dataclass
class UpdateOutcome:
    """Set while the update is handled, read by the processor afterwards: the error
    router's error if a handler failed, and the conversation log's rows of the update."""

    error: str | None = None
    messages: list[MessageRow] = field(default_factory=list)


@dataclass(frozen=True)
class StoredUpdate:
    id: int
    channel: ChannelKind
    receiver: str
    external_id: str
    kind: str
    payload: dict[str, object]
    received_at: datetime


# The hot path speaks to the driver directly: for these four statements SQLAlchemy's
# per-call work cost three times what the round trip itself does (bench/ and
# docs/architecture.md). Everything else about the inbox goes through SQLAlchemy.
_STORE_MANY = """
INSERT INTO inbound_updates (channel, receiver, external_id, chat_key, kind, payload)
SELECT channel, receiver, external_id, chat_key, kind, payload::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
     AS batch(channel, receiver, external_id, chat_key, kind, payload)
ON CONFLICT (channel, receiver, external_id) DO NOTHING
RETURNING channel, receiver, external_id
"""
_LOCK_CHAT = "SELECT pg_advisory_xact_lock($1)"
_OLDEST_PENDING = """
SELECT id, channel, receiver, external_id, kind, payload, received_at FROM inbound_updates
WHERE channel = $1 AND receiver = $2 AND chat_key = $3 AND status = 'pending'
ORDER BY id LIMIT 1
"""
_COMPLETE = """
UPDATE inbound_updates SET status = $2, error = $3, processed_at = now(), attempts = attempts + 1
WHERE id = $1
"""
_COMPLETE_LOGGED = f"WITH completed AS ({_COMPLETE}) {LOG_ROWS}"


@dataclass(frozen=True)
class NewUpdate:
    """An update as received: `payload` is the JSON text exactly as the platform sent it."""

    chat: ChatRef
    external_id: str
    kind: str
    payload: str


class InboxService:
    """Stores, claims and completes inbound updates."""

    @staticmethod
    async def store_many(connection: AsyncConnection, updates: Sequence[NewUpdate]) -> set[int]:
        """Store updates in one statement; returns the indexes of those that were new."""
        columns: list[list[str]] = [[], [], [], [], [], []]
        for update in updates:
            values = (
                update.chat.channel.value,
                update.chat.receiver,
                update.external_id,
                update.chat.chat_key,
                update.kind,
                update.payload,
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        rows = await (await driver(connection)).fetch(_STORE_MANY, *columns)
        stored = {(row[0], row[1], row[2]) for row in rows}
        first: dict[tuple[str, str, str], int] = {}
        for index, update in enumerate(updates):  # the same update twice in one batch
            first.setdefault((columns[0][index], update.chat.receiver, update.external_id), index)
        return {index for key, index in first.items() if key in stored}

    @staticmethod
    async def claim_next(connection: AsyncConnection, chat: ChatRef) -> StoredUpdate | None:
        """Lock the user's queue for this transaction and take their oldest pending update.

        Core statements, not the ORM: on the hot path the ORM adds nothing but cost.
        """
        database = await driver(connection)
        # Two statements: the SELECT must take its snapshot after the lock is held.
        await database.execute(_LOCK_CHAT, chat_lock_id(chat.receiver, chat.chat_key))
        row = await database.fetchrow(
            _OLDEST_PENDING, chat.channel.value, chat.receiver, chat.chat_key
        )
        if row is None:
            return None
        return StoredUpdate(row[0], ChannelKind(row[1]), row[2], row[3], row[4], row[5], row[6])

    @staticmethod
    async def complete(
        connection: AsyncConnection,
        update_id: int,
        *,
        error: str | None = None,
        messages: Sequence[MessageRow] = (),
    ) -> None:
        """Mark the update done, or failed with `error`, and log its `messages` in the
        same statement (no round trip of their own)."""
        status = InboundStatus.DONE if error is None else InboundStatus.FAILED
        database = await driver(connection)
        if not messages:
            await database.execute(_COMPLETE, update_id, status.value, error)
            return
        await database.execute(
            _COMPLETE_LOGGED, update_id, status.value, error, *log_columns(messages)
        )

    @staticmethod
    async def pending_chats(
        session: AsyncSession, *, older_than: timedelta, limit: int = 1000
    ) -> list[ChatRef]:
        """Users with updates stored but not processed (a crash, a deploy, a lost task)."""
        rows = await session.execute(
            select(InboundUpdate.channel, InboundUpdate.receiver, InboundUpdate.chat_key)
            .where(
                InboundUpdate.status == InboundStatus.PENDING,
                InboundUpdate.received_at < func.now() - older_than,
            )
            .group_by(InboundUpdate.channel, InboundUpdate.receiver, InboundUpdate.chat_key)
            .order_by(func.min(InboundUpdate.id))
            .limit(limit)
        )
        return [ChatRef(channel, receiver, chat_key) for channel, receiver, chat_key in rows]

    @staticmethod
    async def redact_text(session: AsyncSession, *, receiver: str, update_id: int) -> None:
        """Blank the text of a stored Telegram message (a PIN typed into the chat must not
        stay in the inbox until retention ends); within the caller's transaction."""
        await session.execute(
            update_rows(InboundUpdate)
            .where(
                InboundUpdate.channel == ChannelKind.TELEGRAM,
                InboundUpdate.receiver == receiver,
                InboundUpdate.external_id == str(update_id),
            )
            .values(
                payload=func.jsonb_set(
                    InboundUpdate.payload,
                    cast(["message", "text"], ARRAY(Text)),
                    cast("[redacted]", JSONB),  # bound as JSON: the string [redacted]
                )
            )
        )

    @staticmethod
    async def purge(session: AsyncSession, *, older_than: timedelta) -> int:
        """Delete processed updates past retention; pending ones are never deleted."""
        result = await session.execute(
            delete(InboundUpdate).where(
                InboundUpdate.status != InboundStatus.PENDING,
                InboundUpdate.received_at < func.now() - older_than,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


_MAX_BATCH = 256


class InboxWriter:
    """Stores updates for many concurrent callers with as few INSERTs as possible.

    Group commit: the first caller of a batch starts a flush; callers who arrive while it
    runs wait for the next one. Each caller returns only after the INSERT holding its
    update has committed, so a webhook may answer 200 right after.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._queue: list[tuple[NewUpdate, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def store(self, update: NewUpdate) -> bool:
        """True once the update is committed; False if it had been stored before."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((update, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:_MAX_BATCH], self._queue[_MAX_BATCH:]
                try:
                    async with self._engine.connect() as connection:  # autocommit engine
                        new = await InboxService.store_many(connection, [u for u, _ in batch])
                except Exception as error:  # every caller answers 500: the platform retries
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for index, (_, future) in enumerate(batch):
                    if not future.done():  # the caller may have gone away
                        future.set_result(index in new)
        finally:
            self._flusher = None
