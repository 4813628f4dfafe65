"""Keyboards of scheduled changes: the list with its buttons, "no revert", confirm."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import ScheduleButton, ScheduleCD
from souk.services.schedules import ScheduleInfo


def schedules_keyboard(schedules: list[ScheduleInfo]) -> InlineKeyboardMarkup:
    """ "New schedule", then a cancel button per schedule, three to a row."""
    builder = KeyboardBuilder()
    builder.button(text=_("New schedule"), callback_data=ScheduleCD(action=ScheduleButton.NEW))
    for schedule in schedules:
        builder.button(
            text=_("Cancel #{id}").format(id=schedule.id),
            callback_data=ScheduleCD(action=ScheduleButton.UNSCHEDULE, schedule_id=schedule.id),
        )
    builder.adjust(1, 3)
    return builder.as_markup()


def no_revert_keyboard() -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(text=_("No revert"), callback_data=ScheduleCD(action=ScheduleButton.NO_REVERT))
    return builder.as_markup()


def confirm_schedule_keyboard(count: int, ticket: str) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(
        text=_("Confirm ({count})").format(count=count),
        callback_data=ScheduleCD(action=ScheduleButton.CONFIRM, ticket=ticket),
    )
    builder.button(
        text=_("Cancel"), callback_data=ScheduleCD(action=ScheduleButton.DROP, ticket=ticket)
    )
    return builder.as_markup()
