"""Scheduled changes for staff: /schedule lists the pending and active schedules with a
"New schedule" button and a cancel button each; /unschedule ID (or that button) cancels a
pending schedule, or reverts an applied one now. Making a schedule is `schedule_flow`."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.handlers.screens import replace_screen
from souk.keyboards.callbacks import ScheduleButton, ScheduleCD
from souk.keyboards.schedules import schedules_keyboard
from souk.schedule_texts import outcome_text, schedule_list, state_name
from souk.services.schedules import PriceSchedules, ScheduleNotFound, ScheduleOver
from souk.services.shops import ChannelInfo

router = Router(name=__name__)

SHOWN = 20  # schedules in the list (each with its button)


def schedules_of(session: AsyncSession, shop: ChannelInfo, actor: int) -> PriceSchedules:
    return PriceSchedules(session, shop.shop_id, actor=actor)


async def _list_screen(schedules: PriceSchedules) -> tuple[str, InlineKeyboardMarkup]:
    found = await schedules.open_schedules(limit=SHOWN + 1)
    text = schedule_list(found[:SHOWN], await schedules.zone())
    if len(found) > SHOWN:
        text += "\n" + _("Only the first {count} are shown.").format(count=SHOWN)
    return text, schedules_keyboard(found[:SHOWN])


@router.message(Command("schedule"))
async def schedule_command(message: Message, session: AsyncSession, shop: ChannelInfo) -> None:
    assert message.from_user is not None
    text, keyboard = await _list_screen(schedules_of(session, shop, message.from_user.id))
    await message.answer(text, reply_markup=keyboard)


async def _unschedule(
    session: AsyncSession, shop: ChannelInfo, actor: int, schedule_id: int, language: str
) -> str:
    """Cancel or revert now; what it did, or why not."""
    try:
        outcome = await schedules_of(session, shop, actor).unschedule(
            schedule_id, datetime.now(UTC)
        )
    except ScheduleNotFound:
        return _("This shop has no schedule #{id}. See /schedule.").format(id=schedule_id)
    except ScheduleOver as over:
        return _("Schedule #{id} is {state} already; nothing to cancel.").format(
            id=over.schedule_id, state=state_name(over.state)
        )
    return outcome_text(outcome, language)


@router.message(Command("unschedule"))
async def unschedule_command(
    message: Message, command: CommandObject, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    assert message.from_user is not None
    raw = (command.args or "").strip().removeprefix("#")
    if not raw.isdecimal() or len(raw) > 18:
        await message.answer(_("Write the schedule's number: /unschedule 7 (see /schedule)."))
        return
    await message.answer(
        await _unschedule(session, shop, message.from_user.id, int(raw), i18n.current_locale)
    )


@router.callback_query(ScheduleCD.filter(F.action == ScheduleButton.UNSCHEDULE))
async def unschedule_button(
    query: CallbackQuery,
    callback_data: ScheduleCD,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    actor = query.from_user.id
    text = await _unschedule(session, shop, actor, callback_data.schedule_id, i18n.current_locale)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text)
    await replace_screen(query, *await _list_screen(schedules_of(session, shop, actor)))
