"""Search keyboards: a page of results (open or add each), turning pages. No business logic."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from souk.db.models import Product
from souk.formatting import short_title
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import CartAction, CartCD, SearchHitCD, SearchPageCD
from souk.keyboards.catalog import price_fingerprint
from souk.services.catalog import localized


def results_keyboard(
    products: list[Product],
    *,
    first: int,
    query_id: str,
    page: int,
    has_next: bool,
    language: str,
) -> InlineKeyboardMarkup:
    """A row per product (open it; add it to the cart), numbered from `first`."""
    builder = KeyboardBuilder()
    for number, product in enumerate(products, start=first):
        builder.button(
            text=f"{number}. {short_title(localized(product, 'title', language), 32)}",
            callback_data=SearchHitCD(
                product_id=product.id,
                price=price_fingerprint(product.price),
                query_id=query_id,
                page=page,
            ),
        )
        builder.button(
            text=_("+ Cart"), callback_data=CartCD(action=CartAction.ADD, product_id=product.id)
        )
    navigation = []
    if page > 0:
        navigation.append((_("‹ Previous"), SearchPageCD(query_id=query_id, page=page - 1)))
    if has_next:
        navigation.append((_("Next ›"), SearchPageCD(query_id=query_id, page=page + 1)))
    for text, callback_data in navigation:
        builder.button(text=text, callback_data=callback_data)
    builder.adjust(*([2] * len(products)), *([len(navigation)] if navigation else []))
    return builder.as_markup()
