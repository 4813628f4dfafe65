"""Tenant and person: which shop received the update and who sent it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import ChannelKind
from souk.services.customers import CustomerService


class TenantMiddleware(BaseMiddleware):
    """Upserts the sender as a customer of the receiving shop and finds their staff role.

    `shop_id` and `channel` come from the processor (the bot or number that received
    the update). Adds `person` (a `Person`) and `is_admin` to the handler data; on
    WhatsApp and the web chat the bridge has found the person already.
    """

    def __init__(self, *, admin_ids: frozenset[int]) -> None:
        self._admin_ids = admin_ids

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        session: AsyncSession = data["session"]
        if user is None or user.is_bot or "shop_id" not in data:
            return await handler(event, data)
        channel: ChannelKind = data.get("channel", ChannelKind.TELEGRAM)
        if "person" in data:  # a bridged channel found the customer already
            data["is_admin"] = False
            return await handler(event, data)
        data["person"] = await CustomerService(session).touch(
            shop_id=data["shop_id"],
            channel=channel,
            external_id=str(user.id),
            name=user.full_name,
            username=user.username,
            telegram_user_id=user.id if channel is ChannelKind.TELEGRAM else None,
            client_language=user.language_code,
        )
        data["is_admin"] = channel is ChannelKind.TELEGRAM and user.id in self._admin_ids
        return await handler(event, data)
