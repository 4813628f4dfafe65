"""Delivery statuses the platforms report about the messages we sent."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.channels.whatsapp_intake import DeliveryStatus as Reported
from souk.db.models import ChannelKind, DeliveryStatus, OutboxMessage, OutboxStatus


async def record_statuses(
    session: AsyncSession, channel: ChannelKind, statuses: Sequence[Reported]
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
