"""A database session per update; a handler that fails leaves none of its writes behind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class DbSessionMiddleware(BaseMiddleware):
    """Puts `session` into the handler data.

    The update processor passes the session of its own transaction, which marks the update
    done on success and is rolled back when a handler failed (see `UpdateProcessor`);
    without one (updates fed directly) a transaction is opened and committed here.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(data.get("session"), AsyncSession):
            return await handler(event, data)
        async with self._session_factory() as session, session.begin():
            data["session"] = session
            return await handler(event, data)
