"""What a customer's free text asks for, when it is not a product: by keywords, no model.

The fallback (no LLM key, or the provider is down) answers these with the screen they
ask for: order status -> the customer's orders, a person -> the takeover, the cart ->
the cart. Only phrases that are not product searches are matched ("my order", "статус
заказа", "оператор", "корзина"): everything else is searched for.
"""

from __future__ import annotations

import enum
import re


class Intent(enum.Enum):
    HUMAN = "human"
    CART = "cart"
    ORDERS = "orders"


# Tried in this order: "оформить заказ" is the cart's, "где мой заказ" the orders'.
_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.HUMAN,
        re.compile(
            r"\b(?:human|operator|real person|live (?:agent|person|chat)|manager|"
            r"(?:talk|speak|chat) (?:to|with) (?:a |an |the )?(?:person|someone|agent|staff|"
            r"seller|support))\b|"
            r"оператор|жив\w* (?:человек|оператор)|менеджер|с человеком|продавц\w* позов|"
            r"позов\w* (?:человека|продавца|менеджера)|"
            r"موظف|إنسان|انسان|خدمة العملاء",
            re.IGNORECASE,
        ),
    ),
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
