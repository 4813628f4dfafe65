"""Texts shown to customers: money, stock, product lines and cards (HTML, translated)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.numbers import format_currency

from souk.db.models import Product
from souk.services.cart import CartView
from souk.services.catalog import localized

_DESCRIPTION_LIMIT = 700  # a card stays well under the 4096 of a message and 1024 of a caption


def short_title(text: str, limit: int = 40) -> str:
    """A title that fits a button or a callback answer (200 characters at most)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def money(amount: Decimal, currency: str, language: str) -> str:
    """12990.5 USD -> '$12,990.50' (en) / '12 990,50 $' (ru)."""
    return str(format_currency(amount, currency, locale=language))


def stock_state(stock: int) -> str:
    if stock <= 0:
        return _("out of stock")
    if stock <= 3:
        return _("only {count} left").format(count=stock)
    return _("in stock")


def product_summary(product: Product, language: str) -> str:
    """Title, price and stock on three short lines."""
    return (
        f"<b>{escape(localized(product, 'title', language))}</b>\n"
        f"{money(product.price, product.currency, language)} · {stock_state(product.stock)}\n"
        f"<code>{escape(product.sku)}</code>"
    )


def product_card(product: Product, language: str) -> str:
    """The product's own page: summary, description and its attributes."""
    description = localized(product, "description", language).strip()
    if len(description) > _DESCRIPTION_LIMIT:
        description = description[: _DESCRIPTION_LIMIT - 1] + "…"
    lines = [product_summary(product, language)]
    if product.brand:
        lines.append(_("Brand: {brand}").format(brand=escape(product.brand)))
    if description:
        lines += ["", escape(description)]
    details = [
        f"• {escape(str(key)).replace('_', ' ')}: {escape(str(value))}"
        for key, value in product.attributes.items()
    ]
    if details:
        lines += ["", *details]
    return "\n".join(lines)


def cart_text(cart: CartView, language: str) -> str:
    """Each line with its total, then the total; or how to fill an empty cart."""
    notes = []
    if cart.dropped:
        notes.append(_("Some products in your cart are no longer sold and were removed."))
    if not cart.lines:
        return "\n".join([*notes, _("Your cart is empty. Browse the products with /catalog.")])
    lines = [_("Your cart:")]
    for line in cart.lines:
        product = line.product
        lines.append(
            f"• {escape(localized(product, 'title', language))} × {line.quantity} = "
            f"{money(line.total, product.currency, language)}"
        )
    assert cart.currency is not None
    lines += ["", _("Total: {total}").format(total=money(cart.total, cart.currency, language))]
    return "\n".join([*notes, *lines])
