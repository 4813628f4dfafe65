"""Shops and their channels: creating a shop, connecting a bot, finding a bot's shop."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ScalarSelect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import ChannelKind, Shop, ShopChannel
from souk.errors import ConflictError, InvalidInput, NotFoundError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_TOKEN = re.compile(r"^(\d{3,20}):[A-Za-z0-9_-]{20,}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def telegram_bot_id(token: str) -> int:
    """The bot's numeric id: the digits before ':' in its token."""
    match = _TOKEN.match(token.strip())
    if match is None:
        raise InvalidInput("a Telegram bot token looks like 123456789:AAH... (from @BotFather)")
    return int(match.group(1))


def new_webhook_secret() -> str:
    """A secret for X-Telegram-Bot-Api-Secret-Token: 1-256 of A-Z a-z 0-9 _ -."""
    return secrets.token_urlsafe(32)


def shop_bot(shop_id: int) -> ScalarSelect[str]:
    """The id of the shop's Telegram bot (its first active one), as a scalar subquery;
    staff and campaign pushes go through it."""
    return (
        select(ShopChannel.external_id)
        .where(
            ShopChannel.shop_id == shop_id,
            ShopChannel.kind == ChannelKind.TELEGRAM,
            ShopChannel.is_active.is_(True),
        )
        .order_by(ShopChannel.id)
        .limit(1)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class ChannelInfo:
    """What the web and worker processes need to know about one bot or number."""

    channel_id: int
    shop_id: int
    shop_slug: str
    shop_name: str
    kind: ChannelKind
    external_id: str
    token: str | None
    webhook_secret: str | None
    payment_token: str | None = None  # Telegram Payments; None: cash on delivery only

    def __repr__(self) -> str:  # never show the token or the secret
        return (
            f"ChannelInfo(shop={self.shop_slug}, kind={self.kind}, external_id={self.external_id})"
        )


class ShopService:
    """Creates shops and connects their channels."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self, *, slug: str, name: str, currency: str = "USD", timezone: str = "UTC"
    ) -> Shop:
        """Create a shop; a slug in use is a ConflictError."""
        if not _SLUG.match(slug):
            raise InvalidInput("a shop slug is 2-63 characters of a-z, 0-9 and '-'")
        currency = currency.upper()
        if not _CURRENCY.match(currency):
            raise InvalidInput("a currency is a three-letter ISO code such as USD or KZT")
        if not name.strip():
            raise InvalidInput("a shop needs a name")
        shop = Shop(slug=slug, name=name.strip(), currency=currency, timezone=timezone)
        self._session.add(shop)
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise ConflictError(f"a shop with slug {slug!r} already exists") from error
        return shop

    async def connect_whatsapp(self, shop: Shop, phone_number_id: str, token: str) -> ShopChannel:
        """Attach a WhatsApp number (its Cloud API phone_number_id and access token)."""
        number = phone_number_id.strip()
        if not number.isdigit():
            raise InvalidInput("a WhatsApp phone_number_id is digits, as Meta shows it")
        if not token.strip():
            raise InvalidInput("a WhatsApp number needs its access token")
        channel = await self._session.scalar(
            select(ShopChannel).where(
                ShopChannel.kind == ChannelKind.WHATSAPP, ShopChannel.external_id == number
            )
        )
        if channel is not None and channel.shop_id != shop.id:
            raise ConflictError(f"WhatsApp number {number} already belongs to another shop")
        if channel is None:
            channel = ShopChannel(shop_id=shop.id, kind=ChannelKind.WHATSAPP, external_id=number)
            self._session.add(channel)
        channel.token = token.strip()
        channel.is_active = True
        await self._session.flush()
        return channel

    async def connect_web(self, shop: Shop) -> ShopChannel:
        """Open the shop's web chat (its channel's id is the shop's slug)."""
        channel = await self._session.scalar(
            select(ShopChannel).where(
                ShopChannel.kind == ChannelKind.WEB, ShopChannel.shop_id == shop.id
            )
        )
        if channel is None:
            channel = ShopChannel(shop_id=shop.id, kind=ChannelKind.WEB, external_id=shop.slug)
            self._session.add(channel)
        channel.is_active = True
        await self._session.flush()
        return channel

    async def get_by_slug(self, slug: str) -> Shop:
        shop = await self._session.scalar(select(Shop).where(Shop.slug == slug))
        if shop is None:
            raise NotFoundError(f"no shop with slug {slug!r}")
        return shop

    async def connect_telegram(
        self,
        shop: Shop,
        token: str,
        *,
        secret: str | None = None,
        payment_token: str | None = None,
    ) -> ShopChannel:
        """Attach a bot to the shop (or move the bot's token and secret to it)."""
        bot_id = str(telegram_bot_id(token))
        channel = await self._session.scalar(
            select(ShopChannel).where(
                ShopChannel.kind == ChannelKind.TELEGRAM, ShopChannel.external_id == bot_id
            )
        )
        if channel is not None and channel.shop_id != shop.id:
            raise ConflictError(f"bot {bot_id} already belongs to another shop")
        if channel is None:
            channel = ShopChannel(shop_id=shop.id, kind=ChannelKind.TELEGRAM, external_id=bot_id)
            self._session.add(channel)
        channel.token = token.strip()
        channel.webhook_secret = secret or channel.webhook_secret or new_webhook_secret()
        channel.payment_token = payment_token or channel.payment_token
        channel.is_active = True
        await self._session.flush()
        return channel

    async def channel(self, kind: ChannelKind, external_id: str) -> ChannelInfo | None:
        """The active channel with this platform id, with its shop, or None."""
        row = (
            await self._session.execute(
                select(ShopChannel, Shop.slug, Shop.name)
                .join(Shop, Shop.id == ShopChannel.shop_id)
                .where(
                    ShopChannel.kind == kind,
                    ShopChannel.external_id == external_id,
                    ShopChannel.is_active.is_(True),
                    Shop.is_active.is_(True),
                )
            )
        ).one_or_none()
        return None if row is None else _info(*row)

    async def channels(self, kind: ChannelKind) -> list[ChannelInfo]:
        """Every active channel of a kind (to register webhooks or poll)."""
        rows = await self._session.execute(
            select(ShopChannel, Shop.slug, Shop.name)
            .join(Shop, Shop.id == ShopChannel.shop_id)
            .where(
                ShopChannel.kind == kind, ShopChannel.is_active.is_(True), Shop.is_active.is_(True)
            )
            .order_by(ShopChannel.id)
        )
        return [_info(*row) for row in rows]


def _info(channel: ShopChannel, slug: str, name: str) -> ChannelInfo:
    return ChannelInfo(
        channel_id=channel.id,
        shop_id=channel.shop_id,
        shop_slug=slug,
        shop_name=name,
        kind=channel.kind,
        external_id=channel.external_id,
        token=channel.token,
        webhook_secret=channel.webhook_secret,
        payment_token=channel.payment_token,
    )


def shop_zone(name: str) -> ZoneInfo:
    """A shop's time zone; an unknown name counts as UTC rather than failing a job."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
