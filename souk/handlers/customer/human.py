"""A customer asking for a person: /human, the "Talk to a person" button, or words
(TAKEOVER_KEYWORDS: "operator", "живой человек", "موظف"...). The conversation enters
human mode; from then on the takeover pause keeps the bot quiet."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import Settings
from souk.handlers.filters import PLAIN_TEXT
from souk.handoff import takeover_service
from souk.keyboards.callbacks import HumanCD
from souk.services.customers import Person
from souk.services.outbox import OutboxFactory
from souk.services.shops import ChannelInfo
from souk.services.takeover import asks_for_human

router = Router(name=__name__)


class AsksForHuman(Filter):
    """Text with one of the configured words for a person."""

    async def __call__(self, message: Message, settings: Settings) -> bool:
        return asks_for_human(message.text or "", settings.takeover.keywords)


async def _hand_over(
    reason: str,
    shop: ChannelInfo,
    person: Person,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
) -> str:
    await takeover_service(session, settings, outbox, i18n).request_human(
        shop_id=shop.shop_id, customer_id=person.customer_id, reason=reason
    )
    return handed_over_text()


def handed_over_text() -> str:
    """What the customer is told once a person of the shop was asked for (here, or by
    the assistant's handoff tool)."""
    return _(
        "I have asked a person of the shop to answer you here. Until they do, I will keep "
        "quiet: just write what you need."
    )


@router.message(Command("human"))
async def human_command(
    message: Message,
    shop: ChannelInfo,
    person: Person,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
) -> None:
    await message.answer(await _hand_over("/human", shop, person, session, settings, outbox, i18n))


@router.callback_query(HumanCD.filter())
async def human_button(
    query: CallbackQuery,
    shop: ChannelInfo,
    person: Person,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
) -> None:
    text = await _hand_over("", shop, person, session, settings, outbox, i18n)
    await query.answer()
    if query.message is not None:
        await query.message.answer(text)


@router.message(PLAIN_TEXT, AsksForHuman())
async def human_words(
    message: Message,
    shop: ChannelInfo,
    person: Person,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
) -> None:
    reason = message.text or ""
    await message.answer(await _hand_over(reason, shop, person, session, settings, outbox, i18n))
