"""Delivery statuses the platforms report about the messages we sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import ChannelKind, DeliveryStatus, OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class ReportedStatus:
    """What became of a message we sent: sent, delivered, read or failed."""

    phone_number_id: str
    message_id: str
    status: str
    recipient: str
    occurred_at: datetime
    error_code: int | None = None
    error_title: str | None = None


async def record_statuses(
    session: AsyncSession, channel: ChannelKind, statuses: Sequence[ReportedStatus]
) -> None:
    """Store each status once (a redelivered webhook changes nothing); a push that
    failed after the platform accepted it is marked failed with the platform's reason."""
    if not statuses:
        return
    await session.execute(
        insert(DeliveryStatus)
        .values(
            [
                {
                    "channel": channel,
                    "receiver": s.phone_number_id,
                    "provider_message_id": s.message_id,
                    "recipient": s.recipient[:128],
                    "status": s.status[:16],
                    "error_code": s.error_code,
                    "error_title": s.error_title,
                    "occurred_at": s.occurred_at,
                }
                for s in statuses
            ]
        )
        .on_conflict_do_nothing()
    )
    for failed in (s for s in statuses if s.status == "failed"):
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.receiver == failed.phone_number_id,
                OutboxMessage.provider_message_id == failed.message_id,
            )
            .values(
                status=OutboxStatus.FAILED,
                last_error=f"{failed.error_code} {failed.error_title or ''}".strip(),
            )
        )
