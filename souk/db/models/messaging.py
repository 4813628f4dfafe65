"""The inbox (durable inbound updates) and the outbox (every push we owe)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId
from souk.db.models.shop import ChannelKind, str_enum


class InboundStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxPriority(enum.IntEnum):
    """Claimed in this order: a push owed to someone now never waits behind a campaign."""

    TRANSACTIONAL = 0  # orders, payments, replies staff and customers wait for
    BULK = 10  # campaigns and announcements


class InboundUpdate(Base):
    """A raw update as the platform sent it, stored before we answer 200.

    (channel, receiver, external_id) is the platform's own dedupe key: the bot id and
    update_id for Telegram, the phone_number_id and wamid for WhatsApp. `chat_key`
    groups one user's updates so they are processed one at a time, in order.
    """

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("channel", "receiver", "external_id"),
        Index(
            "ix_inbound_updates_pending",
            "receiver",
            "chat_key",
            "id",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[BigId]
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind"))
    receiver: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    chat_key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    status: Mapped[InboundStatus] = mapped_column(
        str_enum(InboundStatus, "inbound_status"), server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """A push we owe someone: delivered by the notifier, marked sent only when accepted.

    `method` and `payload` are the platform call (e.g. sendMessage and its parameters);
    `idempotency_key` makes enqueuing the same push twice a no-op; rows of a lower
    `priority` value are claimed first (`OutboxPriority`).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_due",
            "priority",
            "next_attempt_at",
            "id",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind"))
    receiver: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), server_default="pending"
    )
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryStatus(Base):
    """What the platform reported about a message we sent (WhatsApp: sent, delivered,
    read, failed with an error code), one row per message and status."""

    __tablename__ = "delivery_statuses"
    __table_args__ = (UniqueConstraint("channel", "receiver", "provider_message_id", "status"),)

    id: Mapped[BigId]
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind"))
    receiver: Mapped[str] = mapped_column(String(64))
    provider_message_id: Mapped[str] = mapped_column(String(128), index=True)
    recipient: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_title: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
