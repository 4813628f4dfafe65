"""Cart keyboards: change a line, clear, back to the catalog. No business logic."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from souk.formatting import short_title
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import (
    CartAction,
    CartCD,
    CategoriesCD,
    CheckoutAction,
    CheckoutCD,
)
from souk.services.cart import CartView
from souk.services.catalog import localized


def cart_keyboard(cart: CartView, language: str) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    for line in cart.lines:
        product_id = line.product.id
        builder.button(
            text="−", callback_data=CartCD(action=CartAction.LESS, product_id=product_id)
        )
        builder.button(
            text=f"{line.quantity} ✎",
            callback_data=CartCD(action=CartAction.TYPE, product_id=product_id),
        )
        builder.button(
            text="+", callback_data=CartCD(action=CartAction.MORE, product_id=product_id)
        )
        builder.button(
            text=f"✕ {short_title(localized(line.product, 'title', language))}",
            callback_data=CartCD(action=CartAction.REMOVE, product_id=product_id),
        )
    if cart.lines:
        builder.button(text=_("Checkout"), callback_data=CheckoutCD(action=CheckoutAction.START))
        builder.button(text=_("Empty the cart"), callback_data=CartCD(action=CartAction.CLEAR))
    builder.button(text=_("Catalog"), callback_data=CategoriesCD())
    builder.adjust(*([4] * len(cart.lines)), 1, 1, 1)
    return builder.as_markup()
