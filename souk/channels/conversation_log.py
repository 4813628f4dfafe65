"""The conversation log of customers' updates, on every channel, without a round trip.

`ConversationLogMiddleware` (after the tenant middleware, which found the customer's
conversation in its one statement) records what the customer sent and opens a
collector for the update; `OutboundLogMiddleware`, a request middleware of every bot's
session (Telegram, WhatsApp, web chat: they all answer through aiogram methods), adds
each message the handlers send to that customer. The rows travel in the update's
`UpdateOutcome`, and the processor writes them in the statement that marks the update
done (`InboxService.complete`). Staff's own updates are not a customer conversation and
are not logged; what staff send customers goes through the outbox (`souk.notify`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import (
    EditMessageCaption,
    EditMessageMedia,
    EditMessageText,
    SendContact,
    SendDocument,
    SendInvoice,
    SendLocation,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Message, ReactionTypeEmoji, TelegramObject, Update

from souk.db.models import ChannelKind, Direction
from souk.services.customers import Person
from souk.services.inbox import UpdateOutcome
from souk.services.message_log import MessageRow

TEXT_LIMIT = 4096  # of one logged text (a Telegram message's own limit)

_OUTBOUND_KINDS: dict[type[TelegramMethod[Any]], str] = {
    SendMessage: "text",
    SendPhoto: "photo",
    SendDocument: "document",
    SendMediaGroup: "media",
    SendInvoice: "invoice",
    SendLocation: "location",
    SendContact: "contact",
    EditMessageText: "edit",
    EditMessageCaption: "edit",
    EditMessageMedia: "edit",
}
_MESSAGE_KINDS = (
    "photo",
    "document",
    "contact",
    "location",
    "voice",
    "audio",
    "video",
    "video_note",
    "sticker",
    "animation",
    "successful_payment",
)
# What a customer sends that the bot can copy into another of its chats (a payment is a
# service message: it cannot be).
COPYABLE_KINDS = frozenset(_MESSAGE_KINDS) - {"successful_payment"}


@dataclass
class _Collector:
    """The customer an update came from, and the outcome their log rows go to."""

    shop_id: int
    conversation_id: int
    channel: ChannelKind
    chat_id: int
    outcome: UpdateOutcome

    def add(self, direction: Direction, kind: str, text: str | None, at: datetime) -> None:
        self.outcome.messages.append(
            MessageRow(
                self.shop_id,
                self.conversation_id,
                self.channel,
                direction,
                kind,
                text[:TEXT_LIMIT] if text else None,
                at,
            )
        )


_current: ContextVar[_Collector | None] = ContextVar("souk_conversation_log", default=None)


def message_kind(message: Message) -> tuple[str, str | None]:
    """What a customer's message is (text, command, photo, location...) and its text."""
    if message.text is not None:
        return ("command" if message.text.startswith("/") else "text"), message.text
    for kind in _MESSAGE_KINDS:
        if getattr(message, kind, None):
            return kind, message.caption
    return "other", message.caption


def inbound(update: Update) -> tuple[str, str | None, int] | None:
    """(kind, text, chat id) of a customer's update; None for updates that are not
    something they sent (a payment pre-check, a membership change, a reaction taken
    back)."""
    if update.message is not None:
        return (*message_kind(update.message), update.message.chat.id)
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        return "callback", query.data, chat
    if update.message_reaction is not None:  # a reaction taken back is not kept
        reaction = update.message_reaction
        for kind in reaction.new_reaction:
            if isinstance(kind, ReactionTypeEmoji):
                return "reaction", kind.emoji, reaction.chat.id
    return None


class ConversationLogMiddleware(BaseMiddleware):
    """Logs the customer's update and collects the replies sent while it is handled
    (only for updates the processor handles: it writes the rows)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        person: Person | None = data.get("person")
        outcome: UpdateOutcome | None = data.get("outcome")
        sent = inbound(event) if isinstance(event, Update) else None
        if (
            person is None
            or person.staff_role is not None
            or person.conversation_id is None
            or outcome is None
            or sent is None
        ):
            return await handler(event, data)
        kind, text, chat_id = sent
        collector = _Collector(
            data["shop_id"],
            person.conversation_id,
            data.get("channel", ChannelKind.TELEGRAM),
            chat_id,
            outcome,
        )
        received = data.get("received_at")
        at = datetime.fromtimestamp(received, UTC) if received else datetime.now(UTC)
        collector.add(Direction.IN, kind, text, at)
        token = _current.set(collector)
        try:
            return await handler(event, data)
        finally:
            _current.reset(token)


class OutboundLogMiddleware(BaseRequestMiddleware):
    """Adds the messages a bot sends to the customer whose update is being handled."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        collector = _current.get()
        kind = _OUTBOUND_KINDS.get(type(method)) if collector is not None else None
        response = await make_request(bot, method)  # a failed call raises: not logged
        if (
            collector is not None
            and kind is not None
            and getattr(method, "chat_id", None) == collector.chat_id
        ):
            text = getattr(method, "text", None) or getattr(method, "caption", None)
            if isinstance(method, SendInvoice):
                text = method.title
            collector.add(Direction.OUT, kind, text, datetime.now(UTC))
        return response
