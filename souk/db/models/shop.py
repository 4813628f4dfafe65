"""Shops, their channels (bots, WhatsApp numbers) and their staff."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from souk.db.models.base import Base, BigId, CreatedAt


class ChannelKind(enum.StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    WEB = "web"


class StaffRole(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"


def str_enum(kind: type[enum.StrEnum], name: str) -> Enum:
    """A portable enum column: a checked varchar, so new values need no type migration."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Shop(Base):
    """A tenant: every shop-owned row carries its `shop_id`."""

    __tablename__ = "shops"

    id: Mapped[BigId]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), server_default="USD")
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    default_language: Mapped[str] = mapped_column(String(8), server_default="en")
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    profile: Mapped[dict[str, object]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # The last order number given; the next order takes this plus one.
    order_counter: Mapped[int] = mapped_column(Integer, server_default="1000")
    # scrypt of the PIN that confirms cancelling or editing a confirmed order.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[CreatedAt]

    channels: Mapped[list[ShopChannel]] = relationship(back_populates="shop", lazy="raise")


class ShopChannel(Base):
    """A bot or WhatsApp number through which one shop talks to its customers.

    `external_id` is the Telegram bot id (the digits before ':' in its token) or the
    WhatsApp phone_number_id; webhooks are routed by it.
    """

    __tablename__ = "shop_channels"
    __table_args__ = (UniqueConstraint("kind", "external_id"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind"))
    external_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))
    # Secrets: never logged; `__repr__` below leaves them out.
    token: Mapped[str | None] = mapped_column(Text)
    webhook_secret: Mapped[str | None] = mapped_column(String(256))
    # The payment provider token @BotFather gives the bot (Telegram Payments).
    payment_token: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[CreatedAt]

    shop: Mapped[Shop] = relationship(back_populates="channels", lazy="raise")

    def __repr__(self) -> str:
        return f"ShopChannel(id={self.id}, kind={self.kind}, external_id={self.external_id})"


class Staff(Base):
    """A Telegram user who works for a shop."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("shop_id", "telegram_user_id"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"))
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[CreatedAt]
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffInvite(Base):
    """A one-time link that makes whoever opens it staff of a shop. Only the token's
    SHA-256 is kept: the link itself is shown once, to whoever created it."""

    __tablename__ = "staff_invites"

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]
