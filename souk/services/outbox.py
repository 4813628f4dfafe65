"""The outbox: every push is a row first, delivered by the notifier afterwards.

A push is enqueued in the same transaction as the change it announces, so neither
can exist without the other. The notifier claims due rows with a lease (status
`sending`, `lease_until`); a worker killed mid-run leaves its rows to come back when
the lease runs out. A row becomes `sent` only after the platform accepted the call, and
a push to a customer is then logged in their conversation (`messages`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import OutboxSettings
from souk.db.models import ChannelKind, OutboxMessage, OutboxPriority, OutboxStatus
from souk.db.session import after_commit

_KICK_REGISTERED = "souk.outbox.kick"
# How the deliverer records a 403 (the user blocked the bot): its exception's name first.
BLOCKED_ERROR_PREFIX = "TelegramForbiddenError:"
# A payload key of a WhatsApp push known to fall outside the customer's 24-hour window:
# send the text as this approved template ("name:language") at once, not a message first.
TEMPLATE_KEY = "whatsapp_template"
# The kind of a push carrying a staff member's message to a customer.
STAFF_REPLY_KIND = "staff_reply"


# Settles a delivered push and, if it went to a customer, logs it in their conversation
# (kind: the push's, e.g. "order_status", "campaign") in the same statement. Staff
# replies are logged when queued, with their author (`MessageLogService.add_sent`).
_MARK_SENT = text(f"""
WITH sent AS (
    UPDATE outbox SET status = 'sent', sent_at = now(), lease_until = NULL,
        provider_message_id = :provider_message_id, last_error = NULL
    WHERE id = :id
    RETURNING customer_id, channel, kind, payload
)
INSERT INTO messages (shop_id, conversation_id, channel, direction, kind, text)
SELECT c.shop_id, c.id, sent.channel, 'out', sent.kind,
    coalesce(sent.payload ->> 'text', sent.payload ->> 'caption')
FROM sent JOIN conversations AS c ON c.customer_id = sent.customer_id
WHERE sent.kind <> '{STAFF_REPLY_KIND}'
""")  # noqa: S608


@dataclass(frozen=True)
class Push:
    """One message to deliver: a platform call (`method`, `payload`) to one chat."""

    channel: ChannelKind
    receiver: str
    chat_id: int
    method: str
    payload: dict[str, object]
    kind: str
    idempotency_key: str
    shop_id: int | None = None
    customer_id: int | None = None
    not_before: datetime | None = None
    priority: OutboxPriority = OutboxPriority.TRANSACTIONAL


@dataclass(frozen=True)
class ClaimedPush:
    id: int
    channel: ChannelKind
    receiver: str
    chat_id: int
    method: str
    payload: dict[str, object]
    attempts: int
    kind: str = ""
    shop_id: int | None = None


@dataclass(frozen=True)
class OutboxStats:
    depth: int
    oldest_age_seconds: float
    sent: int
    failed: int


class OutboxService:
    """Enqueues pushes and tracks their delivery."""

    def __init__(
        self,
        session: AsyncSession,
        settings: OutboxSettings,
        *,
        on_committed: Callable[[], None] | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._on_committed = on_committed

    def _after_commit(self) -> None:
        """Wake the notifier once the pushes of this transaction are visible to it."""
        if self._on_committed is None or self._session.info.get(_KICK_REGISTERED):
            return
        self._session.info[_KICK_REGISTERED] = True
        callback, info = self._on_committed, self._session.info

        def committed() -> None:
            info.pop(_KICK_REGISTERED, None)
            callback()

        after_commit(self._session, committed, otherwise=lambda: info.pop(_KICK_REGISTERED, None))

    @staticmethod
    def _values(push: Push) -> dict[str, object]:
        values: dict[str, object] = {
            "channel": push.channel,
            "receiver": push.receiver,
            "chat_id": push.chat_id,
            "method": push.method,
            "payload": push.payload,
            "kind": push.kind,
            "idempotency_key": push.idempotency_key,
            "shop_id": push.shop_id,
            "customer_id": push.customer_id,
            "priority": int(push.priority),
        }
        if push.not_before is not None:
            values["next_attempt_at"] = push.not_before
        return values

    async def enqueue(self, push: Push) -> bool:
        """Queue a push; False if one with the same idempotency key exists already."""
        statement = (
            insert(OutboxMessage)
            .values(**self._values(push))
            .on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])
            .returning(OutboxMessage.id)
        )
        created = (await self._session.execute(statement)).scalar_one_or_none() is not None
        if created:
            self._after_commit()
        return created

    async def enqueue_many(self, pushes: Sequence[Push]) -> dict[str, int]:
        """Queue many pushes in one statement (none may set `not_before`); returns the row
        id of every key, queued now or before."""
        if not pushes:
            return {}
        assert all(push.not_before is None for push in pushes), "one INSERT: the same columns"
        keys = [push.idempotency_key for push in pushes]
        statement = (
            insert(OutboxMessage)
            .values([self._values(push) for push in pushes])
            .on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])
            .returning(OutboxMessage.idempotency_key, OutboxMessage.id)
        )
        ids: dict[str, int] = {
            key: row_id for key, row_id in await self._session.execute(statement)
        }
        if ids:
            self._after_commit()
        if len(ids) < len(keys):
            rows = await self._session.execute(
                select(OutboxMessage.idempotency_key, OutboxMessage.id).where(
                    OutboxMessage.idempotency_key.in_([key for key in keys if key not in ids])
                )
            )
            ids.update({key: row_id for key, row_id in rows})
        return ids

    async def claim(self, limit: int) -> list[ClaimedPush]:
        """Take up to `limit` due rows (or rows whose lease ran out) for this worker, those
        of the first priority first, then the longest due."""
        lease = timedelta(seconds=self._settings.lease_seconds)
        due = (
            select(OutboxMessage.id)
            .where(
                or_(
                    and_(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.next_attempt_at <= func.now(),
                    ),
                    and_(
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.lease_until < func.now(),
                    ),
                )
            )
            .order_by(OutboxMessage.priority, OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due))
            .values(
                status=OutboxStatus.SENDING,
                lease_until=func.now() + lease,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(
                OutboxMessage.id,
                OutboxMessage.channel,
                OutboxMessage.receiver,
                OutboxMessage.chat_id,
                OutboxMessage.method,
                OutboxMessage.payload,
                OutboxMessage.attempts,
                OutboxMessage.kind,
                OutboxMessage.shop_id,
            )
        )
        claimed = [ClaimedPush(*row) for row in rows]
        claimed.sort(key=lambda push: push.id)
        return claimed

    async def renew_lease(self, ids: Sequence[int]) -> None:
        """Keep rows still being worked on from going back to the queue."""
        if ids:
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING)
                .values(lease_until=func.now() + timedelta(seconds=self._settings.lease_seconds))
            )

    async def mark_sent(self, push_id: int, provider_message_id: str | None) -> None:
        """Settle a delivered push; one to a customer goes into their conversation log."""
        await self._session.execute(
            _MARK_SENT, {"id": push_id, "provider_message_id": provider_message_id}
        )

    async def retry_later(
        self, push: ClaimedPush, error: str, *, after_seconds: float | None = None
    ) -> bool:
        """Put the push back with a backoff; returns False when attempts are used up."""
        if push.attempts >= self._settings.max_attempts:
            await self.mark_failed(push.id, f"gave up after {push.attempts} attempts: {error}")
            return False
        if after_seconds is None:
            after_seconds = min(
                self._settings.backoff_seconds * 2 ** (push.attempts - 1),
                self._settings.backoff_max_seconds,
            )
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == push.id)
            .values(
                status=OutboxStatus.PENDING,
                lease_until=None,
                last_error=error[:2000],
                next_attempt_at=func.now() + timedelta(seconds=after_seconds),
            )
        )
        return True

    async def mark_failed(self, push_id: int, error: str) -> None:
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == push_id)
            .values(status=OutboxStatus.FAILED, lease_until=None, last_error=error[:2000])
        )

    async def has_due(self) -> bool:
        statement = text(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE (status = 'pending' AND "
            "next_attempt_at <= now()) OR (status = 'sending' AND lease_until < now()))"
        )
        return bool(await self._session.scalar(statement))

    async def stats(self) -> OutboxStats:
        row = (
            await self._session.execute(
                text(
                    "SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')), "
                    "coalesce(extract(epoch FROM now() - min(created_at) FILTER "
                    "(WHERE status IN ('pending', 'sending'))), 0), "
                    "count(*) FILTER (WHERE status = 'sent'), "
                    "count(*) FILTER (WHERE status = 'failed') FROM outbox"
                )
            )
        ).one()
        return OutboxStats(int(row[0]), float(row[1]), int(row[2]), int(row[3]))


class OutboxFactory:
    """Builds an `OutboxService` on a session; given to handlers as `outbox`."""

    def __init__(
        self, settings: OutboxSettings, on_committed: Callable[[], None] | None = None
    ) -> None:
        self.settings = settings
        self._on_committed = on_committed

    def __call__(self, session: AsyncSession) -> OutboxService:
        return OutboxService(session, self.settings, on_committed=self._on_committed)
