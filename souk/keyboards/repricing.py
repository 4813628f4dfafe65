"""Repricing keyboards: Yes/No on a proposed price, Revert on applied ones. No logic."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import RepriceAction, RepriceCD


def approval_keyboard(decision_id: int) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(
        text=_("✅ Yes, apply"),
        callback_data=RepriceCD(action=RepriceAction.YES, decision_id=decision_id),
    )
    builder.button(
        text=_("✖ No"), callback_data=RepriceCD(action=RepriceAction.NO, decision_id=decision_id)
    )
    builder.adjust(2)
    return builder.as_markup()


def revert_keyboard(decision_ids: list[int]) -> InlineKeyboardMarkup | None:
    """A Revert button per applied decision (none: no keyboard)."""
    if not decision_ids:
        return None
    builder = KeyboardBuilder()
    for decision_id in decision_ids:
        builder.button(
            text=_("↩ Revert #{id}").format(id=decision_id),
            callback_data=RepriceCD(action=RepriceAction.REVERT, decision_id=decision_id),
        )
    builder.adjust(1)
    return builder.as_markup()
