"""Showing a screen in place of the one whose button was pressed."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def replace_screen(query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup) -> None:
    """Edit the message the button was on (send a new one if it can no longer be edited)."""
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except TelegramBadRequest as error:
            if "not modified" not in error.message:  # the same button pressed twice
                raise
    elif query.message is not None and query.bot is not None:
        await query.bot.send_message(query.message.chat.id, text, reply_markup=keyboard)
