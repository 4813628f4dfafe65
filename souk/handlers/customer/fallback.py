"""Whatever no other handler took: a hint, never silence."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)
_QUOTE_LIMIT = 64


@router.message()
async def unknown_message(message: Message) -> None:
    said = (message.text or "").strip()
    if not said:
        # Stickers, voice, video, files...: a way forward instead of a shrug.
        await message.answer(
            _(
                "I can only read text for now. Please type what you are looking for, "
                "or open /catalog."
            )
        )
        return
    if len(said) > _QUOTE_LIMIT:
        said = said[: _QUOTE_LIMIT - 1] + "…"
    await message.answer(
        _("I did not understand “{text}”. Send /help to see what I can do.").format(
            text=escape(said)
        )
    )


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is out of date. Please open the menu again."), show_alert=True
    )
