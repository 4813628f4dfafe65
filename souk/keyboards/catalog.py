"""Catalog keyboards: categories, a page of products, one product. No business logic."""

from __future__ import annotations

from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from souk.formatting import money, short_title
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import (
    CartAction,
    CartCD,
    CategoriesCD,
    CategoryListCD,
    CategoryPageCD,
    CompareCD,
    ProductCD,
)
from souk.keyboards.paging import Page, add_page_buttons, pairs_with_page_buttons
from souk.services.catalog import CategoryEntry, ProductPage, localized


def price_fingerprint(price: Decimal) -> int:
    return int(price * 100)


def categories_keyboard(categories: Page[CategoryEntry], language: str) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    for category in categories.items:
        builder.button(
            text=f"{category.title(language)} ({category.products})",
            callback_data=CategoryPageCD(category_id=category.id, page=0),
        )
    pairs_with_page_buttons(builder, categories, lambda number: CategoryListCD(page=number))
    return builder.as_markup()


def product_page_keyboard(page: ProductPage, language: str) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    for product in page.products:
        price = money(product.price, product.currency, language)
        builder.button(
            text=f"{short_title(localized(product, 'title', language))} · {price}",
            callback_data=ProductCD(
                product_id=product.id,
                price=price_fingerprint(product.price),
                category_id=page.category.id,
                page=page.page,
            ),
        )
    sizes = [1] * len(page.products)
    navigation = add_page_buttons(
        builder,
        page.page,
        page.pages,
        lambda number: CategoryPageCD(category_id=page.category.id, page=number),
    )
    builder.button(text=_("All categories"), callback_data=CategoriesCD())
    builder.adjust(*sizes, *([navigation] if navigation else []), 1)
    return builder.as_markup()


def back_to_category(category_id: int | None, page: int = 0) -> CallbackData | None:
    return None if category_id is None else CategoryPageCD(category_id=category_id, page=page)


def product_keyboard(product_id: int, back: CallbackData | None) -> InlineKeyboardMarkup:
    """A product's buttons; `back` returns to the list it was opened from."""
    builder = KeyboardBuilder()
    builder.button(
        text=_("Add to cart"), callback_data=CartCD(action=CartAction.ADD, product_id=product_id)
    )
    builder.button(text=_("Compare"), callback_data=CompareCD(product_id=product_id))
    if back is not None:
        builder.button(text=_("‹ Back to the list"), callback_data=back)
    builder.button(text=_("All categories"), callback_data=CategoriesCD())
    builder.adjust(1)
    return builder.as_markup()
