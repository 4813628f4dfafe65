"""Telegram tells us when a user blocks or restarts the bot, and `blocked` follows."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated
from sqlalchemy.ext.asyncio import AsyncSession

from souk.services.customers import CustomerService, Person

router = Router(name=__name__)


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED))
async def blocked_the_bot(_: ChatMemberUpdated, person: Person, session: AsyncSession) -> None:
    await CustomerService(session).set_reachable(person.customer_id, reachable=False)


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=MEMBER))
async def restarted_the_bot(_: ChatMemberUpdated, person: Person, session: AsyncSession) -> None:
    await CustomerService(session).set_reachable(person.customer_id, reachable=True)
