"""Whatever no other handler took: a hint, never silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)


@router.message()
async def unknown_message(message: Message) -> None:
    await message.answer(_("I did not understand that. Send /help to see what I can do."))


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is out of date. Please open the menu again."),
                       show_alert=True)
