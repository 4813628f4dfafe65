"""Every CallbackData factory of souk's keyboards (each packs into <= 64 bytes)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class LanguageCD(CallbackData, prefix="lang"):
    code: str


class CategoriesCD(CallbackData, prefix="cats"):
    """Back to the list of categories."""


class CategoryPageCD(CallbackData, prefix="catp"):
    category_id: int
    page: int


class ProductCD(CallbackData, prefix="prod"):
    """A product as the button showed it: `price` (in cents) tells a stale button apart."""

    product_id: int
    price: int
    category_id: int
    page: int


class CartAction(enum.StrEnum):
    ADD = "add"
    MORE = "more"
    LESS = "less"
    REMOVE = "remove"
    CLEAR = "clear"
    SHOW = "show"


class CartCD(CallbackData, prefix="cart"):
    action: CartAction
    product_id: int = 0
