"""Bots whose calls are rendered, not sent to Telegram: WhatsApp numbers and the web chat.

A `RenderedSession` turns each aiogram call into messages (`whatsapp_render`, the one
place of those rules), hands them to its channel (`deliver`), remembers a numbered
menu so the number the customer types comes back as the button (`MenuMemory`), and
answers the handler with what aiogram expects (a `Message`, or True). Customers of
these channels are known by their internal id, which plays the chat id.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, SendChatAction, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.conversation_log import OutboundLogMiddleware
from souk.channels.whatsapp_render import render_call
from souk.db.models import ChannelKind
from souk.services.customers import CustomerService

_MENU_TTL_SECONDS = 24 * 3600
_PROVIDER_IDS_KEPT = 10_000
_ADDRESSES_KEPT = 100_000

# The chat id a handler uses is the customer's internal id; this finds their address on
# the channel (a wa_id, a web chat session...).
RecipientLookup = Callable[[int], Awaitable[str | None]]


@dataclass
class Answering:
    """The customer's message the handlers are answering on a rendered channel: their
    chat, the platform's id of the message (a wamid), and when a typing indicator was
    last shown for it."""

    chat_id: int
    message_id: str
    indicated_at: float | None = None


# Set by the processor while it handles an update of a rendered channel.
ANSWERING: ContextVar[Answering | None] = ContextVar("souk_answering", default=None)


class MenuMemory:
    """The numbered menu last shown to a customer: number typed -> callback data."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def _key(receiver: str, chat_id: int) -> str:
        return f"souk:menu:{receiver}:{chat_id}"

    async def remember(self, receiver: str, chat_id: int, menu: dict[str, str]) -> None:
        await self._redis.set(self._key(receiver, chat_id), json.dumps(menu), ex=_MENU_TTL_SECONDS)

    async def forget(self, receiver: str, chat_id: int) -> None:
        await self._redis.delete(self._key(receiver, chat_id))

    async def choice(self, receiver: str, chat_id: int, typed: str) -> str | None:
        raw = await self._redis.get(self._key(receiver, chat_id))
        if raw is None:
            return None
        found = json.loads(raw).get(typed.strip().rstrip("."))
        return found if isinstance(found, str) else None


class AddressBook:
    """Where each customer of a rendered channel is reached (a wa_id, a web session):
    it never changes, so the recent ones are kept in the process; the bridge adds the
    sender of each message it resolves, so a reply costs no query."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], channel: ChannelKind
    ) -> None:
        self._session_factory = session_factory
        self._channel = channel
        self._known: OrderedDict[int, str] = OrderedDict()

    def remember(self, customer_id: int, address: str) -> None:
        self._known[customer_id] = address
        self._known.move_to_end(customer_id)
        while len(self._known) > _ADDRESSES_KEPT:
            self._known.popitem(last=False)

    async def address(self, customer_id: int) -> str | None:
        found = self._known.get(customer_id)
        if found is None:
            async with self._session_factory() as session:
                found = await CustomerService(session).external_id(customer_id, self._channel)
            if found is not None:
                self.remember(customer_id, found)
        return found


_message_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)


def sent_message(chat_id: int) -> Message:
    """What a send returns to the handler: a message in the customer's chat."""
    return Message(
        message_id=next(_message_ids), date=datetime.now(UTC), chat=Chat(id=chat_id, type="private")
    )


def _callback_chat(method: TelegramMethod[Any]) -> int | None:
    """A callback answer's chat: the bridge's query ids are '<chat id>:<update id>'."""
    query_id = getattr(method, "callback_query_id", None)
    if isinstance(query_id, str) and ":" in query_id:
        head = query_id.split(":", 1)[0]
        return int(head) if head.isdigit() else None
    return None


class RenderedSession(BaseSession):
    """The aiogram session of a rendered channel; subclasses say how messages go out."""

    def __init__(
        self, *, receiver: str, recipients: RecipientLookup, menus: MenuMemory, timeout: float
    ) -> None:
        super().__init__(timeout=timeout)
        self.receiver = receiver
        self._recipients = recipients
        self._menus = menus
        # The platform's id of the last message of each recent answer (for statuses).
        self._provider_ids: OrderedDict[int, str] = OrderedDict()

    async def deliver(
        self, method: TelegramMethod[Any], chat_id: int, recipient: str, body: dict[str, Any]
    ) -> str | None:
        """Send one rendered message (a Cloud API message body) to `recipient`; the
        platform's id of it, if it gives one."""
        raise NotImplementedError

    def provider_id(self, message_id: int) -> str | None:
        """The platform's id of the message this session answered as `message_id`."""
        return self._provider_ids.get(message_id)

    async def show_chat_action(self, method: SendChatAction) -> None:
        """Show "typing…" and the like, on a channel that has it (subclasses say how);
        elsewhere the call is a success that shows nothing."""

    async def close(self) -> None:
        """Shared resources belong to the registry that made the session."""

    async def stream_content(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Any:
        raise NotImplementedError("files are not downloaded through a rendered channel")

    async def recipient(self, method: TelegramMethod[Any], chat_id: int | None) -> str:
        found = await self._recipients(chat_id) if chat_id is not None else None
        if found is None:
            raise TelegramBadRequest(method, f"no customer {chat_id} on {self.receiver}")
        return found

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        if isinstance(method, SendChatAction):
            await self.show_chat_action(method)
            return cast(TelegramType, True)
        rendered = render_call(method)
        if rendered is None or not rendered.messages:
            return cast(TelegramType, True)
        chat_id = getattr(method, "chat_id", None)
        if not isinstance(chat_id, int):  # a callback answer: reply to the query's sender
            chat_id = _callback_chat(method)
        recipient = await self.recipient(method, chat_id)
        assert chat_id is not None
        provider_id = None
        for body in rendered.messages:
            provider_id = await self.deliver(method, chat_id, recipient, body)
        if rendered.menu:
            await self._menus.remember(self.receiver, chat_id, rendered.menu)
        elif not isinstance(method, AnswerCallbackQuery):
            # A new screen without a menu: a number typed now is an answer, not a choice
            # from an older screen (a toast leaves the menu of the screen it comes with).
            await self._menus.forget(self.receiver, chat_id)
        if method.__returning__ is bool:
            return cast(TelegramType, True)
        sent = sent_message(chat_id)
        if provider_id:
            self._provider_ids[sent.message_id] = provider_id
            while len(self._provider_ids) > _PROVIDER_IDS_KEPT:
                self._provider_ids.popitem(last=False)
        return cast(TelegramType, sent)


def rendered_bot(receiver: str, session: RenderedSession) -> Bot:
    """An aiogram Bot over a rendered session. Its id is the receiver's digits (a
    phone_number_id) or 1 (the token is only the shape aiogram wants)."""
    bot_id = receiver if receiver.isdigit() else "1"
    session.middleware(OutboundLogMiddleware())
    return Bot(
        f"{bot_id}:rendered",
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
