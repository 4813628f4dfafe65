"""Inbound flood control: a user who sends faster than the limit is ignored for a moment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from souk.logs import get_logger
from souk.metrics import UPDATES_REJECTED
from souk.services.ratelimit import Limit, Rate, RateLimiter

log = get_logger("souk.throttle")


class ThrottlingMiddleware(BaseMiddleware):
    """Shared across processes through Redis; staff and admins are never throttled."""

    def __init__(self, limiter: RateLimiter, rate: Rate) -> None:
        self._limiter = limiter
        self._rate = rate

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        person = data.get("person")
        if user is None or data.get("is_admin") or (person is not None and person.staff_role):
            return await handler(event, data)
        limit = Limit(f"in:{data.get('shop_id')}:{user.id}", self._rate)
        # Judged at arrival: updates that waited in the inbox are not a flood.
        if await self._limiter.try_acquire([limit], at=data.get("received_at")) > 0:
            UPDATES_REJECTED.labels(str(data.get("channel", "telegram")), "throttled").inc()
            log.info("update throttled", shop_id=data.get("shop_id"), user_id=user.id)
            return None
        return await handler(event, data)
