"""Pushes to a customer or to a shop's staff: on their channel, in their language, through
the outbox (rendered with aiogram's keyboards and translations, so not a service)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from urllib.parse import quote, unquote

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import ChannelKind, Customer, OutboxPriority, Shop, ShopChannel, Staff
from souk.services.outbox import OutboxService, Push
from souk.services.shops import shop_bot

# Called with the customer's language, inside it: returns the text and the buttons.
Render = Callable[[str], tuple[str, InlineKeyboardMarkup | None]]


def _send_message(
    chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None
) -> dict[str, object]:
    """The parameters of a sendMessage, as the outbox stores them."""
    payload: dict[str, object] = {"chat_id": chat_id, "text": text}
    if keyboard is not None:
        payload["reply_markup"] = keyboard.model_dump(mode="json", exclude_none=True)
    return payload


@dataclass(frozen=True)
class Copy:
    """A message of a Telegram chat of the shop's bot (a customer's photo, voice...) to
    copy after a staff push, so staff see the thing itself, not "[photo]"."""

    from_chat_id: int
    message_id: int

    def call(self) -> tuple[str, dict[str, object]]:
        return "copyMessage", {"from_chat_id": self.from_chat_id, "message_id": self.message_id}


# The Bot API call that shows each kind of file, by the message field it came in (the
# call's file parameter has the field's name).
SEND_FILE = {
    "photo": "sendPhoto",
    "voice": "sendVoice",
    "audio": "sendAudio",
    "video": "sendVideo",
    "document": "sendDocument",
    "sticker": "sendSticker",
}


@dataclass(frozen=True)
class WhatsAppFile:
    """A WhatsApp customer's image, voice note, audio, video, document or sticker
    (`field`, a key of SEND_FILE), by the media id their message gave at the shop's
    number (`receiver`): the deliverer downloads it from the Cloud API and uploads it,
    under the customer's file name if it had one (a document's)."""

    receiver: str
    media_id: str
    field: str
    filename: str | None = None

    def call(self) -> tuple[str, dict[str, object]]:
        reference = whatsapp_media(self.receiver, self.media_id, self.filename)
        return SEND_FILE[self.field], {self.field: reference}


@dataclass(frozen=True)
class Place:
    """A location a customer sent on a channel the bot cannot copy from."""

    latitude: float
    longitude: float

    def call(self) -> tuple[str, dict[str, object]]:
        return "sendLocation", {"latitude": self.latitude, "longitude": self.longitude}


# What follows a staff push's line: the customer's message itself, as staff can see it.
Attachment = Copy | WhatsAppFile | Place

# A push's file field naming a WhatsApp media file instead of a Telegram file or URL.
WHATSAPP_MEDIA = "whatsapp-media:"
FILE_NAME_LIMIT = 128


def whatsapp_media(receiver: str, media_id: str, filename: str | None = None) -> str:
    reference = f"{WHATSAPP_MEDIA}{receiver}/{media_id}"
    return f"{reference}/{quote(filename, safe='')}" if filename else reference


def parse_whatsapp_media(value: object) -> tuple[str, str, str | None] | None:
    """(receiver, media id, file name or None) of a `whatsapp_media` reference, else
    None. The file name is the customer's: only its last part is kept, without control
    characters, at most FILE_NAME_LIMIT characters."""
    if not isinstance(value, str) or not value.startswith(WHATSAPP_MEDIA):
        return None
    receiver, _, rest = value.removeprefix(WHATSAPP_MEDIA).partition("/")
    media_id, _, quoted = rest.partition("/")
    if not receiver or not media_id:
        return None
    name = "".join(c for c in unquote(quoted) if c.isprintable()).replace("\\", "/")
    name = name.rsplit("/", 1)[-1].strip()
    if len(name) > FILE_NAME_LIMIT:  # shortened, its extension kept
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: FILE_NAME_LIMIT - len(suffix)] + suffix
    return receiver, media_id, name if name not in ("", ".", "..") else None


@dataclass(frozen=True)
class Recipient:
    customer_id: int
    shop_id: int
    channel: ChannelKind
    receiver: str  # the bot id or phone number id the customer talks to
    chat_id: int
    language: str


class CustomerNotifier:
    """Renders a push in the customer's language and queues it; nothing for customers who
    blocked the shop or whose channel is gone."""

    def __init__(self, session: AsyncSession, outbox: OutboxService, i18n: I18n) -> None:
        self._session = session
        self._outbox = outbox
        self._i18n = i18n

    async def recipient(self, customer_id: int) -> Recipient | None:
        row = (
            await self._session.execute(
                select(Customer, ShopChannel.external_id, Shop.default_language)
                .join(Shop, Shop.id == Customer.shop_id)
                .join(
                    ShopChannel,
                    (ShopChannel.shop_id == Customer.shop_id)
                    & (ShopChannel.kind == Customer.channel)
                    & ShopChannel.is_active.is_(True),
                )
                .where(Customer.id == customer_id, Customer.blocked.is_(False))
                .order_by(ShopChannel.id)
                .limit(1)
            )
        ).one_or_none()
        if row is None:
            return None
        customer, receiver, shop_language = row
        # Telegram chats have integer ids; other channels use the customer's own id.
        chat_id = (
            int(customer.external_id) if customer.channel is ChannelKind.TELEGRAM else customer.id
        )
        return Recipient(
            customer.id,
            customer.shop_id,
            customer.channel,
            receiver,
            chat_id,
            customer.language or customer.client_language or shop_language,
        )

    async def send(self, customer_id: int, render: Render, *, kind: str, key: str) -> bool:
        """Queue `render()`'s text and buttons for the customer; False if not queued
        (unreachable, or `key` was queued before)."""
        recipient = await self.recipient(customer_id)
        if recipient is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(recipient.language):
            text, keyboard = render(recipient.language)
        payload = _send_message(recipient.chat_id, text, keyboard)
        return await self._outbox.enqueue(
            Push(
                channel=recipient.channel,
                receiver=recipient.receiver,
                chat_id=recipient.chat_id,
                method="sendMessage",
                payload=payload,
                kind=kind,
                idempotency_key=key,
                shop_id=recipient.shop_id,
                customer_id=recipient.customer_id,
            )
        )


class StaffNotifier:
    """Pushes to every staff member of a shop, each in their language, through the shop's
    Telegram bot (staff use the same bot as the customers)."""

    def __init__(self, session: AsyncSession, outbox: OutboxService, i18n: I18n) -> None:
        self._session = session
        self._outbox = outbox
        self._i18n = i18n

    async def send(
        self,
        shop_id: int,
        render: Render,
        *,
        kind: str,
        key: str,
        priority: OutboxPriority = OutboxPriority.TRANSACTIONAL,
        only: int | None = None,
        copy: Attachment | None = None,
    ) -> int:
        """Queue `render(language)` for each staff member (or only the one whose Telegram
        id is `only`, if they still are), followed by a copy of `copy` if given; how many
        members were queued for (`key` is made unique per member)."""
        query = (
            select(Staff.telegram_user_id, Staff.language, Shop.default_language)
            .join(Shop, Shop.id == Staff.shop_id)
            .where(Staff.shop_id == shop_id)
            .order_by(Staff.id)
        )
        if only is not None:
            query = query.where(Staff.telegram_user_id == only)
        rows = await self._session.execute(query)
        members = list(rows)
        receiver = await self._session.scalar(select(shop_bot(shop_id)))
        if receiver is None:
            return 0
        queued = 0
        for telegram_user_id, language, shop_language in members:
            with self._i18n.context(), self._i18n.use_locale(language or shop_language):
                text, keyboard = render(language or shop_language)
            payload = _send_message(telegram_user_id, text, keyboard)
            push = Push(
                channel=ChannelKind.TELEGRAM,
                receiver=receiver,
                chat_id=telegram_user_id,
                method="sendMessage",
                payload=payload,
                kind=kind,
                idempotency_key=f"{key}:{telegram_user_id}",
                shop_id=shop_id,
                priority=priority,
            )
            if not await self._outbox.enqueue(push):
                continue
            queued += 1
            if copy is not None:  # after the text (a chat's pushes go out in their order)
                method, fields = copy.call()
                copied: dict[str, object] = {"chat_id": telegram_user_id, **fields}
                if "reply_markup" in payload:  # the text's buttons, on the copy too
                    copied["reply_markup"] = payload["reply_markup"]
                await self._outbox.enqueue(
                    replace(
                        push,
                        method=method,
                        payload=copied,
                        idempotency_key=f"{push.idempotency_key}:copy",
                    )
                )
        return queued
