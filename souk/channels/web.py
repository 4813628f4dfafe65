"""The demo web chat: a third channel through the same bridge and the same handlers.

The page at / posts what the visitor types or taps as WhatsApp-shaped messages (text,
a button or list reply), so `InboundBridge` turns them into aiogram updates exactly as
it does for WhatsApp; they are stored in the inbox under (the shop's web channel, the
visitor's session) first. Replies are rendered by the same rules as WhatsApp
(`RenderedSession`) and kept in a short Redis list per visitor that the page polls.
A visitor is a random session id in a cookie; nothing else identifies them.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.methods import SendChatAction, TelegramMethod
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.cache import ChannelCache, channel_loader
from souk.channels.rendered import (
    AddressBook,
    MenuMemory,
    RecipientLookup,
    RenderedSession,
    rendered_bot,
)
from souk.db.models import ChannelKind
from souk.services.shops import ChannelInfo

COOKIE = "souk_chat"
# What the page may send, and the bounds of each part.
KINDS = frozenset({"text", "interactive", "location"})
TEXT_LIMIT = 4096
ID_LIMIT = 256
_KEEP_MESSAGES = 200
_KEEP_SECONDS = 24 * 3600
# "typing…" shows this long after the bot said it is typing, as on Telegram (aiogram
# repeats it every 4.5 s while the answer is prepared); the answer ends it at once.
_TYPING_SECONDS = 5


def new_visitor() -> str:
    return secrets.token_urlsafe(18)


_VISITOR = re.compile(r"[A-Za-z0-9_-]{16,64}")


def valid_visitor(value: str | None) -> bool:
    """A session id as `new_visitor` makes them (URL-safe base64)."""
    return value is not None and _VISITOR.fullmatch(value) is not None


class InvalidChatMessage(ValueError):
    """What the page posted is not a message the chat takes."""


def inbound_message(posted: object, visitor: str, now: float) -> dict[str, Any]:
    """The WhatsApp-shaped message of what the page posted, checked and bounded."""
    if not isinstance(posted, dict):
        raise InvalidChatMessage("not an object")
    client_id, kind = posted.get("id"), posted.get("type")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise InvalidChatMessage("id: 1 to 64 characters")
    if kind not in KINDS:
        raise InvalidChatMessage(f"type: one of {', '.join(sorted(KINDS))}")
    message: dict[str, Any] = {
        "from": visitor,
        "id": client_id,
        "timestamp": str(int(now)),
        "type": kind,
    }
    if kind == "text":
        body = (
            (posted.get("text") or {}).get("body") if isinstance(posted.get("text"), dict) else None
        )
        if not isinstance(body, str) or not 1 <= len(body) <= TEXT_LIMIT:
            raise InvalidChatMessage(f"text.body: 1 to {TEXT_LIMIT} characters")
        message["text"] = {"body": body}
    elif kind == "interactive":
        reply = (
            (posted.get("interactive") or {}).get("button_reply")
            if isinstance(posted.get("interactive"), dict)
            else None
        )
        reply_id = reply.get("id") if isinstance(reply, dict) else None
        if not isinstance(reply_id, str) or not 1 <= len(reply_id) <= ID_LIMIT:
            raise InvalidChatMessage(f"interactive.button_reply.id: 1 to {ID_LIMIT} characters")
        message["interactive"] = {
            "type": "button_reply",
            "button_reply": {"id": reply_id, "title": ""},
        }
    else:
        place = posted.get("location")
        try:
            latitude, longitude = float(place["latitude"]), float(place["longitude"])  # type: ignore[index]
        except (TypeError, KeyError, ValueError) as error:
            raise InvalidChatMessage("location: latitude and longitude") from error
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InvalidChatMessage("location: out of range")
        message["location"] = {"latitude": latitude, "longitude": longitude}
    return message


class ChatLog:
    """The messages each visitor is shown, newest last, numbered from 1, and whether the
    bot is typing to them."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def _keys(visitor: str) -> tuple[str, str, str]:
        return (
            f"souk:web:{visitor}:seq",
            f"souk:web:{visitor}:out",
            f"souk:web:{visitor}:typing",
        )

    async def append(self, visitor: str, body: dict[str, Any]) -> int:
        seq_key, out_key, typing_key = self._keys(visitor)
        number = int(await self._redis.incr(seq_key))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(out_key, json.dumps({"n": number, **body}))
            pipe.ltrim(out_key, -_KEEP_MESSAGES, -1)
            pipe.expire(out_key, _KEEP_SECONDS)
            pipe.expire(seq_key, _KEEP_SECONDS)
            pipe.delete(typing_key)  # the answer is here
            await pipe.execute()
        return number

    async def typing(self, visitor: str) -> None:
        """The bot is preparing an answer: "typing…" for the next few seconds."""
        _, _, typing_key = self._keys(visitor)
        await self._redis.set(typing_key, 1, ex=_TYPING_SECONDS)

    async def after(self, visitor: str, number: int) -> tuple[list[dict[str, Any]], bool]:
        """The messages after number `number`, and whether the bot is typing."""
        _, out_key, typing_key = self._keys(visitor)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.lrange(out_key, 0, -1)
            pipe.exists(typing_key)
            stored, typing = await pipe.execute()
        found = [json.loads(raw) for raw in stored]
        return [message for message in found if message["n"] > number], bool(typing)


class WebSession(RenderedSession):
    """Puts the rendered messages of the web channel's bot in each visitor's chat log."""

    def __init__(
        self, *, receiver: str, recipients: RecipientLookup, menus: MenuMemory, log: ChatLog
    ) -> None:
        super().__init__(receiver=receiver, recipients=recipients, menus=menus, timeout=5.0)
        self._log = log

    async def deliver(
        self, method: TelegramMethod[Any], chat_id: int, recipient: str, body: dict[str, Any]
    ) -> str | None:
        return str(await self._log.append(recipient, body))

    async def show_chat_action(self, method: SendChatAction) -> None:
        """Shows "typing…" under the visitor's chat (the page polls for it)."""
        if method.action == "typing" and isinstance(method.chat_id, int):
            await self._log.typing(await self.recipient(method, method.chat_id))


@dataclass(frozen=True)
class WebBot:
    bot: Bot
    channel: ChannelInfo


class WebChats:
    """The shops' web chat channels as bots (the demo shop's is the one the page uses)."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        redis: Redis,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self.menus = MenuMemory(redis)
        self.log = ChatLog(redis)
        self._cache: ChannelCache[WebBot] = ChannelCache(
            channel_loader(session_factory, ChannelKind.WEB, needs_token=False),
            self._make,
            clock=clock,
        )
        self.addresses = AddressBook(session_factory, ChannelKind.WEB)

    def _make(self, channel: ChannelInfo) -> WebBot:
        session = WebSession(
            receiver=channel.external_id,
            recipients=self.addresses.address,
            menus=self.menus,
            log=self.log,
        )
        return WebBot(bot=rendered_bot(channel.external_id, session), channel=channel)

    async def get(self, receiver: str) -> WebBot | None:
        """The web chat of the shop whose slug is `receiver`, or None."""
        return await self._cache.get(receiver)
