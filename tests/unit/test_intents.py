"""The fallback's keywords: the orders and the cart asked for in words, and product
searches left alone (every query of the search quality set among them)."""

from __future__ import annotations

import pytest

from bench.search_quality import load_queries
from souk.services.intents import Intent, intent_of


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where is my order?", Intent.ORDERS),
        ("Где мой заказ", Intent.ORDERS),
        ("статус заказа 1001", Intent.ORDERS),
        ("order #1002", Intent.ORDERS),
        ("track my parcel", Intent.ORDERS),
        ("أين طلبي", Intent.ORDERS),
        ("show my cart", Intent.CART),
        ("корзина", Intent.CART),
        ("хочу оформить заказ", Intent.CART),
        ("checkout", Intent.CART),
        ("headphones under 100", None),
        ("телефон до 202", None),
        ("golf cart", None),
    ],
)
def test_the_words_say_what_is_asked_for(text: str, intent: Intent | None) -> None:
    assert intent_of(text) is intent


def test_no_product_query_of_the_labelled_set_is_taken_for_a_request() -> None:
    assert [q.query for q in load_queries() if intent_of(q.query)] == []
