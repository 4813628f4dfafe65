"""Texts shown to customers: money, stock, product lines and cards (HTML, translated)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.numbers import format_currency

from souk.db.models import Product
from souk.services.catalog import localized

_DESCRIPTION_LIMIT = 700  # a card stays well under the 4096 of a message and 1024 of a caption


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
