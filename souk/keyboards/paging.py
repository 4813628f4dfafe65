"""Long lists of buttons in pages: Telegram refuses a keyboard of more than 100 buttons,
and a long list is hard to read on any channel."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

T = TypeVar("T")

#: Choices on one page of a list (categories): ten rows of two.
LIST_PAGE_SIZE = 20


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # from 0
    pages: int


def page_of(items: Sequence[T], number: int, size: int = LIST_PAGE_SIZE) -> Page[T]:
    """The page `number` of `items`; a number past either end gives the nearest page."""
    pages = max(1, math.ceil(len(items) / size))
    number = min(max(number, 0), pages - 1)
    return Page(items[number * size : (number + 1) * size], number, pages)


def add_page_buttons(
    builder: InlineKeyboardBuilder, number: int, pages: int, to: Callable[[int], CallbackData]
) -> int:
    """'‹ Previous' and 'Next ›' where there is such a page; returns how many were added
    (the size of their row)."""
    added = 0
    if number > 0:
        builder.button(text=_("‹ Previous"), callback_data=to(number - 1))
        added += 1
    if number + 1 < pages:
        builder.button(text=_("Next ›"), callback_data=to(number + 1))
        added += 1
    return added


def pairs_with_page_buttons(
    builder: InlineKeyboardBuilder, page: Page[T], to: Callable[[int], CallbackData]
) -> None:
    """Lays out the page's buttons (already added) two to a row, then the page buttons."""
    navigation = add_page_buttons(builder, page.number, page.pages, to)
    builder.adjust(*[2] * math.ceil(len(page.items) / 2), *([navigation] if navigation else []))
