"""The language picker."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import LanguageCD
from souk.languages import LANGUAGES

# Each language is named in itself, so anyone can find theirs.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "ar": "العربية"}


def language_keyboard(current: str | None) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    for code in LANGUAGES:
        mark = "✓ " if code == current else ""
        builder.button(text=f"{mark}{LANGUAGE_NAMES[code]}", callback_data=LanguageCD(code=code))
    builder.adjust(3)
    return builder.as_markup()
