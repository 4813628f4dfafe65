"""The one request middleware on every bot session: limits, 429 handling, blocked users.

Limits are PLATFORMS.md's (per chat, per group, per bot, a paid-broadcast lane), kept
in Redis so every process shares them. A 429 pauses only the key it concerns for
`retry_after` and the call is retried; every other chat keeps flowing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from souk.config import TelegramSettings
from souk.logs import get_logger
from souk.metrics import OUTBOUND_CALLS, RATE_LIMITED
from souk.services.ratelimit import Limit, Rate, RateLimiter

log = get_logger("souk.telegram.out")

UnreachableCallback = Callable[[int, int], Awaitable[None]]

# Calls that put a message into a chat; only these count against the send limits.
_SENDING_PREFIXES = ("send", "copyMessage", "forwardMessage", "editMessage")
_NOT_MESSAGES = frozenset({"sendChatAction"})


def counts_as_message(method_name: str) -> bool:
    return method_name.startswith(_SENDING_PREFIXES) and method_name not in _NOT_MESSAGES


class TelegramLimits:
    """Turns a Bot API call into the limits it must pass."""

    def __init__(self, settings: TelegramSettings) -> None:
        self.chat = Rate(settings.per_chat_rate, settings.per_chat_burst)
        self.group = Rate.per_minute(settings.per_group_per_minute)
        self.bot = Rate(settings.per_bot_rate, settings.per_bot_burst)
        self.paid = Rate(settings.paid_broadcast_rate, settings.per_bot_burst)

    def for_call(self, bot_id: int, method: TelegramMethod[TelegramType]) -> list[Limit]:
        """The chat (or group) limit first, then the bot-wide one."""
        if not counts_as_message(method.__api_method__):
            return []
        limits: list[Limit] = []
        chat_id = getattr(method, "chat_id", None)
        if isinstance(chat_id, int):
            if chat_id < 0:
                limits.append(Limit(f"tg:{bot_id}:group:{chat_id}", self.group))
            else:
                limits.append(Limit(f"tg:{bot_id}:chat:{chat_id}", self.chat))
        elif isinstance(chat_id, str):  # @channelusername
            limits.append(Limit(f"tg:{bot_id}:group:{chat_id}", self.group))
        if getattr(method, "allow_paid_broadcast", None):
            limits.append(Limit(f"tg:{bot_id}:paid", self.paid))
        else:
            limits.append(Limit(f"tg:{bot_id}", self.bot))
        return limits


class OutboundLimitMiddleware(BaseRequestMiddleware):
    """Waits for the shared limits, retries after 429, records blocked users."""

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        settings: TelegramSettings,
        on_unreachable: UnreachableCallback | None = None,
    ) -> None:
        self._limiter = limiter
        self._limits = TelegramLimits(settings)
        self._max_retries = settings.max_retries
        self._on_unreachable = on_unreachable

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        limits = self._limits.for_call(bot.id, method)
        attempt = 0
        while True:
            await self._limiter.acquire(limits)
            try:
                response = await make_request(bot, method)
            except TelegramRetryAfter as error:
                OUTBOUND_CALLS.labels("telegram", name, "429").inc()
                RATE_LIMITED.labels("telegram").inc()
                log.warning(
                    "telegram 429",
                    bot_id=bot.id,
                    method=name,
                    retry_after=error.retry_after,
                    attempt=attempt,
                )
                if attempt >= self._max_retries or not limits:
                    raise
                await self._limiter.pause(limits[0], error.retry_after)
                attempt += 1
                continue
            except TelegramForbiddenError:
                OUTBOUND_CALLS.labels("telegram", name, "forbidden").inc()
                chat_id = getattr(method, "chat_id", None)
                if self._on_unreachable is not None and isinstance(chat_id, int):
                    await self._on_unreachable(bot.id, chat_id)
                raise
            except Exception:
                OUTBOUND_CALLS.labels("telegram", name, "error").inc()
                raise
            OUTBOUND_CALLS.labels("telegram", name, "ok").inc()
            return response
