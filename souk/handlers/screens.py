"""Showing a screen in place of the one whose button was pressed, and product cards
(a photo with a caption when the product has one)."""

from __future__ import annotations

import contextlib

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from souk.db.models import Product
from souk.formatting import CAPTION_LIMIT, money, product_card
from souk.keyboards.catalog import price_fingerprint


async def replace_screen(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """Edit the message the button was on (send a new one if it can no longer be edited)."""
    if isinstance(query.message, Message) and query.message.photo:
        # A photo card cannot turn into text: the new screen takes its place.
        await query.message.answer(text, reply_markup=keyboard)
        await _delete_quietly(query.message)
    elif isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except TelegramBadRequest as error:
            if "not found" in error.message:  # deleted meanwhile: show it anew
                await query.message.answer(text, reply_markup=keyboard)
            elif "not modified" not in error.message:  # the same button pressed twice
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


async def show_product(
    target: Message | CallbackQuery,
    product: Product,
    keyboard: InlineKeyboardMarkup,
    language: str,
) -> None:
    """The product's card. From a button it takes the place of the button's message."""
    if isinstance(target, CallbackQuery):
        message = target.message if isinstance(target.message, Message) else None
        if not product.photo_url or message is None:
            await replace_screen(target, product_card(product, language), keyboard)
            return
    else:
        message = target
        if not product.photo_url:
            await message.answer(product_card(product, language), reply_markup=keyboard)
            return
    try:
        await message.answer_photo(
            product.photo_url,
            caption=product_card(product, language, limit=CAPTION_LIMIT),
            reply_markup=keyboard,
        )
    except TelegramBadRequest:  # Telegram could not fetch the photo: the card without it
        await message.answer(product_card(product, language), reply_markup=keyboard)
    if isinstance(target, CallbackQuery):
        await _delete_quietly(message)


async def _delete_quietly(message: Message) -> None:
    """Remove a replaced screen; one Telegram no longer lets us delete (older than 48 h)
    simply stays."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
