"""The conversation log: what customers wrote and what they were sent, read back for
staff (/history, the takeover push) and deleted after MESSAGE_RETENTION_DAYS.

Rows are written on paths that already talk to the database (see `souk.channels.logging`),
never with a round trip of their own per update."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import ChannelKind, Conversation, Direction, MessageLog


@dataclass(frozen=True)
class MessageRow:
    """A message to log, as collected while an update is handled."""

    shop_id: int
    conversation_id: int
    channel: ChannelKind
    direction: Direction
    kind: str
    text: str | None
    at: datetime
    staff_telegram_id: int | None = None


# The rows of one update, written in the statement that marks the update done (as arrays:
# one statement, whatever their number).
LOG_ROWS = """
INSERT INTO messages
    (shop_id, conversation_id, channel, direction, kind, text, staff_telegram_id, created_at)
SELECT * FROM unnest(
    $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[],
    $11::timestamptz[]
)
"""


def log_columns(rows: Sequence[MessageRow]) -> list[list[object]]:
    """`rows` as the arrays LOG_ROWS takes ($4..$11)."""
    return [
        [row.shop_id for row in rows],
        [row.conversation_id for row in rows],
        [row.channel.value for row in rows],
        [row.direction.value for row in rows],
        [row.kind for row in rows],
        [row.text for row in rows],
        [row.staff_telegram_id for row in rows],
        [row.at for row in rows],
    ]


@dataclass(frozen=True)
class LoggedMessage:
    direction: Direction
    kind: str
    text: str | None
    channel: ChannelKind
    created_at: datetime
    staff_telegram_id: int | None = None


@dataclass(frozen=True)
class HistoryPage:
    messages: list[LoggedMessage]  # oldest first
    page: int  # 0 is the most recent
    pages: int


class MessageLogService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_sent(
        self,
        *,
        shop_id: int,
        customer_id: int,
        channel: ChannelKind,
        text: str,
        staff_telegram_id: int,
    ) -> None:
        """Log what a staff member sent the customer (queued in the outbox)."""
        conversation_id = await self._session.scalar(
            select(Conversation.id).where(
                Conversation.shop_id == shop_id, Conversation.customer_id == customer_id
            )
        )
        if conversation_id is None:
            return
        self._session.add(
            MessageLog(
                shop_id=shop_id,
                conversation_id=conversation_id,
                channel=channel,
                direction=Direction.OUT,
                kind="staff",
                body=text,
                staff_telegram_id=staff_telegram_id,
            )
        )
        await self._session.flush()

    async def recent(self, conversation_id: int, limit: int) -> list[LoggedMessage]:
        """The last `limit` messages of a conversation, oldest first."""
        return (await self._page(conversation_id, limit, 0))[::-1]

    async def history(self, shop_id: int, customer_id: int, *, size: int, page: int) -> HistoryPage:
        """Page `page` (0: the most recent) of a customer's log with the shop, oldest
        message of the page first; an empty page for a customer of another shop."""
        conversation_id = await self._session.scalar(
            select(Conversation.id).where(
                Conversation.shop_id == shop_id, Conversation.customer_id == customer_id
            )
        )
        if conversation_id is None:
            return HistoryPage([], 0, 0)
        total = int(
            await self._session.scalar(
                select(func.count(MessageLog.id)).where(
                    MessageLog.conversation_id == conversation_id
                )
            )
            or 0
        )
        pages = -(-total // size)
        page = min(max(page, 0), max(pages - 1, 0))
        messages = await self._page(conversation_id, size, page)
        return HistoryPage(messages[::-1], page, pages)

    async def _page(self, conversation_id: int, size: int, page: int) -> list[LoggedMessage]:
        rows = await self._session.scalars(
            select(MessageLog)
            .where(MessageLog.conversation_id == conversation_id)
            .order_by(MessageLog.created_at.desc(), MessageLog.id.desc())
            .limit(size)
            .offset(page * size)
        )
        return [
            LoggedMessage(
                row.direction,
                row.kind,
                row.body,
                row.channel,
                row.created_at,
                row.staff_telegram_id,
            )
            for row in rows
        ]

    async def purge(self, now: datetime, retention: timedelta, *, batch: int = 5000) -> int:
        """Delete messages older than `retention`, `batch` at a time; how many went."""
        cutoff = now - retention
        oldest = select(MessageLog.id).where(MessageLog.created_at < cutoff).limit(batch)
        deleted = await self._session.execute(
            delete(MessageLog).where(MessageLog.id.in_(oldest.scalar_subquery()))
        )
        return int(deleted.rowcount or 0)  # type: ignore[attr-defined]
