"""What a customer's free text asks for, when it is not a product: by keywords, no model.

The fallback (no LLM key, or the provider is down) answers these with the screen they
ask for: order status -> the customer's orders, the cart -> the cart (a person is asked
for in TAKEOVER_KEYWORDS' words, see `souk.services.takeover.asks_for_human`). Only
phrases that are not product searches are matched ("my order", "статус заказа",
"корзина"): everything else is searched for.
"""

from __future__ import annotations

import enum
import re


class Intent(enum.Enum):
    CART = "cart"
    ORDERS = "orders"


# Tried in this order: "оформить заказ" is the cart's, "где мой заказ" the orders'.
_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.CART,
        re.compile(
            r"\b(?:my (?:cart|basket)|(?:view|show|open|see)(?: me)?(?: my| the)? "
            r"(?:cart|basket)|shopping cart|checkout|check out)\b|^\s*(?:cart|basket)\s*$|"
            r"корзин\w*|оформ\w* заказ|"
            r"سلة|عربة التسوق",
            re.IGNORECASE,
        ),
    ),
    (
        Intent.ORDERS,
        re.compile(
            r"\b(?:my orders?|order status|status of (?:my )?order|where is my (?:order|parcel|"
            r"package)|track(?:ing)? (?:my )?(?:order|parcel|package)|order\s*(?:#|№|no\.?|"
            r"number)?\s*\d{3,})\b|"
            r"мо\w* заказ\w*|статус\w* заказ\w*|где (?:\w+ )?(?:заказ|посылк)\w*|"
            r"отследить|заказ\w*\s*(?:#|№|номер)?\s*\d{3,}|"
            r"طلبي|حالة الطلب|أين طلبي",
            re.IGNORECASE,
        ),
    ),
)


def intent_of(text: str) -> Intent | None:
    """The non-product request `text` makes, if its words say so."""
    for intent, pattern in _PATTERNS:
        if pattern.search(text):
            return intent
    return None
