"""The takeover pause: while a person of the shop answers a customer, the bot keeps quiet.

Runs after the conversation log (the customer's messages are still logged) and before
any handler: a message or button press of a customer in human mode reaches no handler;
each message is passed to the staff instead. Payments and other updates that are not
something the customer said go on as usual. Whether the conversation is in human mode
came with the customer from the tenant middleware's one statement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.utils.i18n import I18n

from souk.channels.conversation_log import COPYABLE_KINDS, inbound
from souk.db.models import ChannelKind, Direction
from souk.handoff import forward_to_staff
from souk.notify import SEND_FILE, Attachment, Copy, Place, StaffNotifier, WhatsAppFile
from souk.services.customers import Person
from souk.services.message_log import LoggedMessage
from souk.services.outbox import OutboxFactory

_ANIMATED_STICKER = "sticker.webp"


class TakeoverPauseMiddleware(BaseMiddleware):
    def __init__(self, i18n: I18n, outbox: OutboxFactory) -> None:
        self._i18n = i18n
        self._outbox = outbox

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        person: Person | None = data.get("person")
        sent = inbound(event) if isinstance(event, Update) else None
        if person is None or not person.human_mode or person.staff_role or sent is None:
            return await handler(event, data)
        assert isinstance(event, Update)
        if event.callback_query is not None:
            await event.callback_query.answer()  # the button stops spinning, nothing else
            return None
        kind, text, chat = sent
        session = data["session"]
        channel = data.get("channel", ChannelKind.TELEGRAM)
        message = LoggedMessage(
            Direction.IN,
            kind,
            text,
            channel,
            datetime.fromtimestamp(data.get("received_at") or datetime.now(UTC).timestamp(), UTC),
        )
        await forward_to_staff(
            session,
            StaffNotifier(session, self._outbox(session), self._i18n),
            shop_id=data["shop_id"],
            customer_id=person.customer_id,
            answered_by=person.answered_by,
            message=message,
            key=f"forward:{data['shop_id']}:{person.customer_id}:{event.update_id}",
            copy=_attachment(event, kind, chat, channel, data["shop"].external_id),
        )
        return None


def _attachment(
    event: Update, kind: str, chat: int, channel: ChannelKind, receiver: str
) -> Attachment | None:
    """What staff get after the line of a customer's message that is more than text: a
    Telegram message itself (copied: the bot is in both chats), a location (from any
    channel), or a WhatsApp file (downloaded and uploaded by the deliverer). The web
    chat sends no files."""
    message = event.message
    if message is None or kind not in COPYABLE_KINDS:
        return None
    if channel is ChannelKind.TELEGRAM:
        return Copy(chat, message.message_id)
    if message.location is not None:
        return Place(message.location.latitude, message.location.longitude)
    if channel is not ChannelKind.WHATSAPP:
        return None
    if message.sticker is not None and message.sticker.is_animated:
        # An animated WebP: Telegram takes animated stickers only as TGS or WEBM.
        return WhatsAppFile(receiver, message.sticker.file_id, "document", _ANIMATED_STICKER)
    for field in SEND_FILE:
        sent = getattr(message, field)
        if isinstance(sent, list):  # a photo's sizes, the largest last
            sent = sent[-1] if sent else None
        if sent is not None:
            return WhatsAppFile(receiver, sent.file_id, field, getattr(sent, "file_name", None))
    return None
