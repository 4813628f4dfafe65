"""A customer opts out of the shop's campaigns (/stop, or the button under a campaign) and
back in; nothing else they get from the shop changes."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.handlers.screens import replace_screen
from souk.keyboards.callbacks import CampaignsOptCD
from souk.keyboards.campaigns import resubscribe_keyboard
from souk.services.customers import CustomerService, Person
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


async def _unsubscribe(session: AsyncSession, person: Person, shop: ChannelInfo) -> str:
    await CustomerService(session).set_campaigns(
        person.customer_id, subscribed=False, now=datetime.now(UTC)
    )
    return _(
        "You will not get news from {shop} any more. Your orders and your cart work as before."
    ).format(shop=shop.shop_name)


@router.message(Command("stop"))
async def stop_command(
    message: Message, person: Person, session: AsyncSession, shop: ChannelInfo
) -> None:
    text = await _unsubscribe(session, person, shop)
    await message.answer(text, reply_markup=resubscribe_keyboard())


@router.callback_query(CampaignsOptCD.filter())
async def campaigns_button(
    query: CallbackQuery,
    callback_data: CampaignsOptCD,
    person: Person,
    session: AsyncSession,
    shop: ChannelInfo,
) -> None:
    if callback_data.subscribe:
        await CustomerService(session).set_campaigns(
            person.customer_id, subscribed=True, now=datetime.now(UTC)
        )
        await query.answer()
        await replace_screen(
            query, _("You will get news from {shop} again.").format(shop=shop.shop_name), None
        )
        return
    text = await _unsubscribe(session, person, shop)
    await query.answer()
    if isinstance(query.message, Message):  # the campaign stays; the answer comes below it
        await query.message.answer(text, reply_markup=resubscribe_keyboard())
