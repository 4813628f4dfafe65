"""Showing a screen in place of the one whose button was pressed."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from souk.db.models import Product
from souk.formatting import money
from souk.keyboards.catalog import price_fingerprint


async def replace_screen(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """Edit the message the button was on (send a new one if it can no longer be edited)."""
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except TelegramBadRequest as error:
            if "not modified" not in error.message:  # the same button pressed twice
                raise
    elif query.message is not None and query.bot is not None:
        await query.bot.send_message(query.message.chat.id, text, reply_markup=keyboard)


async def answer_opening(
    query: CallbackQuery, product: Product, shown_price: int, language: str
) -> None:
    """Answer a press on a product button; an alert if its price changed since the button
    was made (`shown_price` is the fingerprint the button carries)."""
    if price_fingerprint(product.price) == shown_price:
        await query.answer()
        return
    await query.answer(
        _("The price has changed since this list was shown: now {price}.").format(
            price=money(product.price, product.currency, language)
        ),
        show_alert=True,
    )
