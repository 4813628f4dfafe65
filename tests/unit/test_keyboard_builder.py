"""The keyboard builder without deep copies still builds what aiogram's does, and a
keyboard it made does not change when the builder goes on."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder

from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import CartAction, CartCD


def _build(builder: InlineKeyboardBuilder) -> InlineKeyboardBuilder:
    for number in range(5):
        builder.button(
            text=f"{number}", callback_data=CartCD(action=CartAction.ADD, product_id=number)
        )
    builder.button(text="Next", callback_data="next")
    return builder.adjust(2, 2, 1)


def test_it_builds_what_aiograms_builder_builds() -> None:
    ours, theirs = (
        _build(KeyboardBuilder()).as_markup(),
        _build(InlineKeyboardBuilder()).as_markup(),
    )
    assert ours == theirs
    assert [len(row) for row in ours.inline_keyboard] == [2, 2, 1, 1]


def test_a_finished_keyboard_keeps_its_rows_when_the_builder_goes_on() -> None:
    builder = _build(KeyboardBuilder())
    first = builder.as_markup()
    builder.row(InlineKeyboardButton(text="More", callback_data="more"))
    builder.adjust(3)
    assert [len(row) for row in first.inline_keyboard] == [2, 2, 1, 1]
    assert [len(row) for row in builder.as_markup().inline_keyboard] == [3, 3, 1]
