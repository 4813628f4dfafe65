"""The inbox: inbound updates stored before we acknowledge them, processed exactly once.

Storing is a single INSERT ... ON CONFLICT DO NOTHING on the platform's own id, so a
redelivered update is recognised and dropped. Processing takes a transaction-scoped
advisory lock on the user's chat key and then the oldest pending update of that user:
whoever holds the lock handles that user's updates one at a time, in arrival order,
whichever process received them. The row is marked done in the same transaction as
the handler's own writes, so a crash before commit leaves it pending for a retry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from souk.db.models import ChannelKind, InboundStatus, InboundUpdate


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
    """Set by the error router when a handler failed, read by the processor afterwards."""

    error: str | None = None


@dataclass(frozen=True)
class StoredUpdate:
    id: int
    channel: ChannelKind
    receiver: str
    external_id: str
    kind: str
    payload: dict[str, object]
    received_at: datetime


# Built once: on the hot path, building a statement costs more than running it.
_STORE = (
    insert(InboundUpdate)
    .values(
        channel=bindparam("channel"),
        receiver=bindparam("receiver"),
        external_id=bindparam("external_id"),
        chat_key=bindparam("chat_key"),
        kind=bindparam("kind"),
        payload=bindparam("payload"),
    )
    .on_conflict_do_nothing(
        index_elements=[InboundUpdate.channel, InboundUpdate.receiver, InboundUpdate.external_id]
    )
    .returning(InboundUpdate.id)
)
_LOCK_CHAT = select(func.pg_advisory_xact_lock(bindparam("lock_id", type_=BigInteger)))
_OLDEST_PENDING = (
    select(
        InboundUpdate.id,
        InboundUpdate.channel,
        InboundUpdate.receiver,
        InboundUpdate.external_id,
        InboundUpdate.kind,
        InboundUpdate.payload,
        InboundUpdate.received_at,
    )
    .where(
        InboundUpdate.channel == bindparam("channel"),
        InboundUpdate.receiver == bindparam("receiver"),
        InboundUpdate.chat_key == bindparam("chat_key"),
        InboundUpdate.status == InboundStatus.PENDING,
    )
    .order_by(InboundUpdate.id)
    .limit(1)
)
_COMPLETE = (
    update(InboundUpdate)
    .where(InboundUpdate.id == bindparam("update_id"))
    .values(
        status=bindparam("status"),
        error=bindparam("error"),
        processed_at=func.now(),
        attempts=InboundUpdate.attempts + 1,
    )
)


class InboxService:
    """Stores, claims and completes inbound updates."""

    @staticmethod
    async def store(
        connection: AsyncConnection,
        *,
        channel: ChannelKind,
        receiver: str,
        external_id: str,
        chat_key: str,
        kind: str,
        payload: dict[str, object],
    ) -> bool:
        """Store an update; False when it was already stored (a duplicate)."""
        params = {
            "channel": channel,
            "receiver": receiver,
            "external_id": external_id,
            "chat_key": chat_key,
            "kind": kind,
            "payload": payload,
        }
        return (await connection.execute(_STORE, params)).scalar_one_or_none() is not None

    @staticmethod
    async def claim_next(connection: AsyncConnection, chat: ChatRef) -> StoredUpdate | None:
        """Lock the user's queue for this transaction and take their oldest pending update.

        Core statements, not the ORM: on the hot path the ORM adds nothing but cost.
        """
        # Two statements: the SELECT must take its snapshot after the lock is held.
        lock_id = chat_lock_id(chat.receiver, chat.chat_key)
        await connection.execute(_LOCK_CHAT, {"lock_id": lock_id})
        params = {"channel": chat.channel, "receiver": chat.receiver, "chat_key": chat.chat_key}
        row = (await connection.execute(_OLDEST_PENDING, params)).one_or_none()
        if row is None:
            return None
        update_id, channel, receiver, external_id, kind, payload, received_at = row
        return StoredUpdate(update_id, channel, receiver, external_id, kind, payload, received_at)

    @staticmethod
    async def complete(
        connection: AsyncConnection, update_id: int, *, error: str | None = None
    ) -> None:
        """Mark the update done, or failed with `error`."""
        status = InboundStatus.DONE if error is None else InboundStatus.FAILED
        await connection.execute(
            _COMPLETE, {"update_id": update_id, "status": status, "error": error}
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
    async def purge(session: AsyncSession, *, older_than: timedelta) -> int:
        """Delete processed updates past retention; pending ones are never deleted."""
        result = await session.execute(
            delete(InboundUpdate).where(
                InboundUpdate.status != InboundStatus.PENDING,
                InboundUpdate.received_at < func.now() - older_than,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    @staticmethod
    async def counts(session: AsyncSession) -> dict[str, int]:
        rows = await session.execute(
            text("SELECT status, count(*) FROM inbound_updates GROUP BY status")
        )
        return {str(status): int(count) for status, count in rows}
