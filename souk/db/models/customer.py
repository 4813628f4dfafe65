"""Customers, their conversations with a shop and the message log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt
from souk.db.models.shop import ChannelKind, str_enum


class ConversationMode(enum.StrEnum):
    BOT = "bot"
    HUMAN = "human"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class Customer(Base):
    """A person buying from a shop on one channel.

    `id` is the internal integer that plays `chat.id` for channels whose users have
    no integer id (WhatsApp business-scoped ids, the web chat).
    """

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("shop_id", "channel", "external_id"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind"))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))  # chosen with /language
    client_language: Mapped[str | None] = mapped_column(String(8))  # their app's, last seen
    opted_in: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    cart_reminders: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Set by /stop or a campaign's opt-out button: no campaign is sent to them any more.
    campaigns_opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blocked: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]


class Conversation(Base):
    """One customer's thread with a shop; `mode` says who answers (bot or a human).

    In human mode `human_until` is when the bot takes over again (each staff message
    moves it on) and `staff_telegram_id` the staff member who answered last (customer
    messages are forwarded to them; to all staff while nobody has answered)."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(
            "ix_conversations_human_until",
            "human_until",
            postgresql_where=text("mode = 'human'"),
        ),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    mode: Mapped[ConversationMode] = mapped_column(
        str_enum(ConversationMode, "conversation_mode"), server_default="bot"
    )
    human_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    staff_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]


class MessageLog(Base):
    """Every message in and out of a conversation, kept for the retention period."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        Index("ix_messages_created", "created_at"),  # retention cleanup
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column("text", Text)
    payload: Mapped[dict[str, object]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    staff_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]
