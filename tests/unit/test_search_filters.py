"""Filters written into a search, in English, Russian and Arabic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from souk.services.search_filters import SearchQuery, parse_amount, parse_search

D = Decimal


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("headphones under 100", SearchQuery("headphones", max_price=D(100))),
        ("headphones below $150", SearchQuery("headphones", max_price=D(150))),
        ("наушники до 5000", SearchQuery("наушники", max_price=D(5000))),
        ("телевизор дешевле 19 990,50 руб", SearchQuery("телевизор", max_price=D("19990.50"))),
        ("سماعات أقل من 100", SearchQuery("سماعات", max_price=D(100))),
        ("سماعات أقل من ١٠٠", SearchQuery("سماعات", max_price=D(100))),
        ("laptop over 1,299.00", SearchQuery("laptop", min_price=D("1299.00"))),
        ("ноутбук от 50 тыс", SearchQuery("ноутбук", min_price=D(50000))),
        ("tv 300-500", SearchQuery("tv", min_price=D(300), max_price=D(500))),
        (
            "телевизор от 30000 до 60000",
            SearchQuery("телевизор", min_price=D(30000), max_price=D(60000)),
        ),
        ("kettle in stock", SearchQuery("kettle", in_stock=True)),
        ("чайник в наличии до 50", SearchQuery("чайник", max_price=D(50), in_stock=True)),
        ("غلاية متوفر", SearchQuery("غلاية", in_stock=True)),
        ("Sony WH-1000XM5", SearchQuery("Sony WH-1000XM5")),  # a model, not a range
        ("Samsung S24-256", SearchQuery("Samsung S24-256")),
        ("ssd 256-512GB", SearchQuery("ssd 256-512GB")),
        (
            "red blanket between 20 and 100",
            SearchQuery("red blanket", min_price=D(20), max_price=D(100)),
        ),
        ("chair 20 to 100 in stock", SearchQuery("chair", D(20), D(100), in_stock=True)),
        ("لابتوب من 500 إلى 900", SearchQuery("لابتوب", min_price=D(500), max_price=D(900))),
        ("iphone 15", SearchQuery("iphone 15")),
        ("under 5k", SearchQuery("", max_price=D(5000))),
        ("", SearchQuery("")),
    ],
)
def test_parse_search(query: str, expected: SearchQuery) -> None:
    assert parse_search(query) == expected


@pytest.mark.parametrize(
    ("raw", "thousands", "expected"),
    [
        ("19 990,50", None, D("19990.50")),
        ("1,299.00", None, D("1299.00")),
        ("1.299,00", None, D("1299.00")),
        ("5", "k", D(5000)),
        ("12", None, D(12)),
        ("١٢٫٥", None, D("12.5")),
        ("12\u00a0000", None, D(12000)),
        ("abc", None, None),
    ],
)
def test_parse_amount(raw: str, thousands: str | None, expected: Decimal | None) -> None:
    assert parse_amount(raw, thousands) == expected
