"""Catalog keyboards: categories, a page of products, one product. No business logic."""

from __future__ import annotations

from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from souk.formatting import money
from souk.services.catalog import CategoryEntry, ProductPage, localized

_BUTTON_TITLE = 40  # long titles make unreadable buttons on phones


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


def price_fingerprint(price: Decimal) -> int:
    return int(price * 100)


def categories_keyboard(categories: list[CategoryEntry], language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for category in categories:
        builder.button(
            text=f"{category.title(language)} ({category.products})",
            callback_data=CategoryPageCD(category_id=category.id, page=0),
        )
    builder.adjust(2)
    return builder.as_markup()


def _short(text: str) -> str:
    return text if len(text) <= _BUTTON_TITLE else text[: _BUTTON_TITLE - 1] + "…"


def product_page_keyboard(page: ProductPage, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for product in page.products:
        price = money(product.price, product.currency, language)
        builder.button(
            text=f"{_short(localized(product, 'title', language))} · {price}",
            callback_data=ProductCD(
                product_id=product.id,
                price=price_fingerprint(product.price),
                category_id=page.category.id,
                page=page.page,
            ),
        )
    sizes = [1] * len(page.products)
    navigation = 0
    if page.page > 0:
        builder.button(
            text=_("‹ Previous"),
            callback_data=CategoryPageCD(category_id=page.category.id, page=page.page - 1),
        )
        navigation += 1
    if page.page + 1 < page.pages:
        builder.button(
            text=_("Next ›"),
            callback_data=CategoryPageCD(category_id=page.category.id, page=page.page + 1),
        )
        navigation += 1
    builder.button(text=_("All categories"), callback_data=CategoriesCD())
    builder.adjust(*sizes, *([navigation] if navigation else []), 1)
    return builder.as_markup()


def product_keyboard(category_id: int | None, page: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if category_id is not None:
        builder.button(
            text=_("‹ Back to the list"),
            callback_data=CategoryPageCD(category_id=category_id, page=page),
        )
    builder.button(text=_("All categories"), callback_data=CategoriesCD())
    builder.adjust(1)
    return builder.as_markup()
