"""/ping for staff: proves the outbox path end to end (handler -> outbox -> worker -> bot)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import ChannelKind
from souk.services.outbox import OutboxFactory, Push
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


@router.message(Command("ping"))
async def ping(
    message: Message, shop: ChannelInfo, session: AsyncSession, outbox: OutboxFactory
) -> None:
    assert message.bot is not None
    await outbox(session).enqueue(
        Push(
            channel=ChannelKind.TELEGRAM,
            receiver=str(message.bot.id),
            chat_id=message.chat.id,
            method="sendMessage",
            payload={
                "chat_id": message.chat.id,
                "text": _("Pong from {shop}: pushes reach you.").format(shop=shop.shop_name),
            },
            kind="ping",
            shop_id=shop.shop_id,
            # The update id makes a reprocessed /ping enqueue nothing new.
            idempotency_key=f"ping:{message.bot.id}:{message.chat.id}:{message.message_id}",
        )
    )
