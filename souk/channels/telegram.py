"""Telegram: one aiogram Bot per shop channel, many bots on one server.

All bots share one aiohttp session whose request middleware applies the shared
limits (`telegram_limits`). Bots are loaded from `shop_channels` on first use and
cached (`ChannelCache`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.cache import ChannelCache, channel_loader
from souk.channels.conversation_log import OutboundLogMiddleware
from souk.channels.telegram_limits import OutboundLimitMiddleware
from souk.config import TelegramSettings
from souk.db.models import ChannelKind
from souk.logs import register_secret
from souk.services.shops import ChannelInfo, ShopService

# The update kinds souk handles; anything else is acknowledged and ignored.
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "callback_query",
    "pre_checkout_query",
    "shipping_query",
    "my_chat_member",
)


class TelegramSession(AiohttpSession):
    """aiogram's HTTP session, holding on to the models it reads answers with.

    aiogram reads every answer as `Response[T]`, a pydantic generic model that pydantic
    builds on first use and caches only weakly: whenever the garbage collector has freed
    it, the next request builds it again, about a millisecond of CPU; in a busy process
    that is most requests (it was an eighth of an assistant turn). Each method's model
    is kept here, so it is built once per process."""

    _responses: ClassVar[dict[type[TelegramMethod[Any]], type[Response[Any]]]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in self._responses:
            self._responses[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return super().check_response(bot, method, status_code, content)


@dataclass(frozen=True)
class TelegramBot:
    """A live bot and the shop it belongs to."""

    bot: Bot
    channel: ChannelInfo

    @property
    def shop_id(self) -> int:
        return self.channel.shop_id


def update_kind(update: Mapping[str, object]) -> str | None:
    """The kind of a raw update if souk handles it, else None."""
    for kind in ALLOWED_UPDATES:
        if kind in update:
            return kind
    return None


def update_chat_key(update: Mapping[str, object], kind: str) -> str:
    """The user whose updates must be processed in order: the sender, else the chat."""
    body = update.get(kind)
    if isinstance(body, Mapping):
        sender = body.get("from")
        if isinstance(sender, Mapping) and isinstance(sender.get("id"), int):
            return str(sender["id"])
        chat = body.get("chat")
        if isinstance(chat, Mapping) and isinstance(chat.get("id"), int):
            return str(chat["id"])
    return "-"


class BotRegistry:
    """Bots by Telegram bot id, sharing one limited HTTP session."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        settings: TelegramSettings,
        request_middleware: OutboundLimitMiddleware,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._http = TelegramSession(
            api=TelegramAPIServer.from_base(settings.api_base), timeout=settings.request_timeout
        )
        self._http.middleware(request_middleware)
        self._http.middleware(OutboundLogMiddleware())
        self._cache: ChannelCache[TelegramBot] = ChannelCache(
            channel_loader(session_factory, ChannelKind.TELEGRAM, needs_token=True),
            self._make,
            clock=clock,
        )

    def _make(self, channel: ChannelInfo) -> TelegramBot:
        assert channel.token is not None
        register_secret(channel.token, channel.webhook_secret, channel.payment_token)
        bot = Bot(
            channel.token,
            session=self._http,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        return TelegramBot(bot=bot, channel=channel)

    async def get(self, bot_id: int) -> TelegramBot | None:
        """The bot with this id, or None if no active shop owns it."""
        return await self._cache.get(str(bot_id))

    async def all(self) -> list[TelegramBot]:
        """Every active bot (for `webhook set` and polling)."""
        async with self._session_factory() as session:
            channels = await ShopService(session).channels(ChannelKind.TELEGRAM)
        bots = []
        for channel in channels:
            if channel.token:
                entry = self._make(channel)
                self._cache.put(channel.external_id, entry)
                bots.append(entry)
        return bots

    def forget(self, bot_id: int) -> None:
        self._cache.forget(str(bot_id))

    async def close(self) -> None:
        await self._http.close()
