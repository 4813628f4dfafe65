"""Small text renderings shared by handlers (money, product lines)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.numbers import format_currency

from souk.db.models import Product


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
    title = product.translations.get(language, {}).get("title") or product.title
    return (
        f"<b>{escape(title)}</b>\n"
        f"{money(product.price, product.currency, language)} · {stock_state(product.stock)}\n"
        f"<code>{escape(product.sku)}</code>"
    )
