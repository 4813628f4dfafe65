"""Prices read from text as shops write them, and the refusals (never a guess)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from souk.connectors.prices import (
    ParsedPrice,
    PriceProblem,
    UnparseablePrice,
    parse_currency,
    parse_price,
    parse_structured_price,
)

NBSP, THIN, NARROW = "\u00a0", "\u2009", "\u202f"

# (text, stated currency, default currency, amount, currency)
READ = [
    ("1 299,00 ₸", None, None, "1299.00", "KZT"),
    ("$1,299.00", None, None, "1299.00", "USD"),
    ("1.299,00 €", None, None, "1299.00", "EUR"),
    ("19 990 руб.", None, None, "19990", "RUB"),
    ("₽ 5 490", None, None, "5490", "RUB"),
    ("KZT 12 000", None, None, "12000", "KZT"),
    ("12,000.50 USD", None, None, "12000.50", "USD"),
    ("AED 1,299", None, None, "1299", "AED"),
    ("1 299 тг", None, None, "1299", "KZT"),
    ("1 299 тг.", None, None, "1299", "KZT"),
    (f"1{NBSP}299,00{NBSP}₸", None, None, "1299", "KZT"),
    (f"1{THIN}299{THIN}₸", None, None, "1299", "KZT"),
    (f"49{NARROW}990 руб", None, None, "49990", "RUB"),
    ("١٬٢٩٩٫٠٠ د.إ", None, None, "1299", "AED"),  # Arabic-Indic digits and separators
    ("د.إ ١٢٩٩", None, None, "1299", "AED"),
    ("۱۲۹۹ AED", None, None, "1299", "AED"),  # Persian digits
    ("1,299", None, "USD", "1299", "USD"),  # a comma and 3 digits groups thousands
    ("1.299", None, "EUR", "1299", "EUR"),
    ("12,99 €", None, None, "12.99", "EUR"),  # a comma and 2 digits is the decimal point
    ("1,5 €", None, None, "1.50", "EUR"),
    ("0,99 €", None, None, "0.99", "EUR"),
    ("1.299.000 ₸", None, None, "1299000", "KZT"),
    ("1,299,000.00 USD", None, None, "1299000", "USD"),
    ("1'299.00 CHF", None, None, "1299", "CHF"),
    ("12,- €", None, None, "12", "EUR"),
    ("Цена: 1 299 ₸", None, None, "1299", "KZT"),
    ("1 299 ₸ 1 299 ₸", None, None, "1299", "KZT"),  # the same price twice
    ("KZT 1 299 ₸", None, None, "1299", "KZT"),  # two markers, one currency
    ("US$ 12", None, None, "12", "USD"),
    ("C$ 12.50", None, None, "12.50", "CAD"),
    ("$ 12.50", None, "CAD", "12.50", "CAD"),  # "$" read as the expected dollar
    ("$ 12.50", "AUD", None, "12.50", "AUD"),
    ("kr 100", None, "SEK", "100", "SEK"),
    ("199 kr", "NOK", None, "199", "NOK"),
    ("¥1,299", None, None, "1299", "JPY"),
    ("1 299", "KZT", None, "1299", "KZT"),  # the context states the currency
    ("1 299", None, "KZT", "1299", "KZT"),
    ("1299.00", None, "KZT", "1299", "KZT"),
    ("KWD 1 299.500", None, None, "1299.500", "KWD"),  # three minor digits
    ("RUR 100", None, None, "100", "RUB"),  # the old code sites still write
    ("12 000 tenge", None, None, "12000", "KZT"),
    ("0 ₸", None, None, "0", "KZT"),
    ("19 990 ₽ / шт.", None, None, "19990", "RUB"),
]

# (text, stated currency, default currency, problem)
REFUSED = [
    ("", None, None, PriceProblem.EMPTY),
    (f"  {NBSP} ", None, None, PriceProblem.EMPTY),
    ("Цена по запросу", None, None, PriceProblem.NO_AMOUNT),
    ("₸", None, None, PriceProblem.NO_AMOUNT),
    ("1,299", None, None, PriceProblem.NO_CURRENCY),
    ("1 299", None, None, PriceProblem.NO_CURRENCY),
    ("12 Tengo", None, None, PriceProblem.NO_CURRENCY),
    ("1 299 ₸ 1 599 ₸", None, None, PriceProblem.SEVERAL_AMOUNTS),  # old and new price
    ("от 1 000 до 2 000 ₸", None, None, PriceProblem.SEVERAL_AMOUNTS),
    ("1 000-2 000 ₸", None, None, PriceProblem.SEVERAL_AMOUNTS),
    ("1299 1599 ₸", None, None, PriceProblem.SEVERAL_AMOUNTS),
    ("2 x 1 299,50 ₸", None, None, PriceProblem.SEVERAL_AMOUNTS),
    ("iPhone 15 128GB 499 990 ₸", None, None, PriceProblem.SEVERAL_AMOUNTS),
    ("₸ 1 299 руб.", None, None, PriceProblem.SEVERAL_CURRENCIES),
    ("$12 / €11", None, None, PriceProblem.SEVERAL_CURRENCIES),
    ("$12", "EUR", None, PriceProblem.SEVERAL_CURRENCIES),  # the text contradicts the context
    ("1 299 ₸", "RUB", None, PriceProblem.SEVERAL_CURRENCIES),
    ("kr 100", None, None, PriceProblem.AMBIGUOUS_CURRENCY),
    ("100 ﷼", None, None, PriceProblem.AMBIGUOUS_CURRENCY),
    ("0,500 €", None, None, PriceProblem.AMBIGUOUS_AMOUNT),
    ("1299,000 €", None, None, PriceProblem.AMBIGUOUS_AMOUNT),
    ("1 299.000 ₸", None, None, PriceProblem.AMBIGUOUS_AMOUNT),
    ("KWD 1.250", None, None, PriceProblem.AMBIGUOUS_AMOUNT),  # 1250 dinars or 1.25?
    ("1,2,3 €", None, None, PriceProblem.MALFORMED_AMOUNT),
    ("₹1,00,000", None, None, PriceProblem.MALFORMED_AMOUNT),
    ("1.299,000.00 €", None, None, PriceProblem.MALFORMED_AMOUNT),
    ("12,50,- €", None, None, PriceProblem.MALFORMED_AMOUNT),
    ("9" * 40 + " ₸", None, None, PriceProblem.MALFORMED_AMOUNT),
    ("1,299.999 USD", None, None, PriceProblem.TOO_PRECISE),
    ("¥12.50", None, None, PriceProblem.TOO_PRECISE),
    ("12.5 JPY", None, None, PriceProblem.TOO_PRECISE),
    ("-5 ₸", None, None, PriceProblem.NEGATIVE),
    ("−1 299 ₸", None, None, PriceProblem.NEGATIVE),
]


@pytest.mark.parametrize(("text", "stated", "default", "amount", "currency"), READ)
def test_prices_are_read(
    text: str, stated: str | None, default: str | None, amount: str, currency: str
) -> None:
    price = parse_price(text, currency=stated, default_currency=default)
    assert price == ParsedPrice(Decimal(amount), currency)


@pytest.mark.parametrize(("text", "stated", "default", "problem"), REFUSED)
def test_prices_are_refused_not_guessed(
    text: str, stated: str | None, default: str | None, problem: PriceProblem
) -> None:
    with pytest.raises(UnparseablePrice) as refused:
        parse_price(text, currency=stated, default_currency=default)
    assert refused.value.problem is problem
    assert refused.value.text == text


def test_amounts_carry_the_currencys_minor_digits() -> None:
    assert str(parse_price("19 990 руб.").amount) == "19990.00"
    assert str(parse_price("¥1,299").amount) == "1299"
    assert str(parse_price("1 299.5 KWD").amount) == "1299.500"


def test_refusals_say_what_they_saw() -> None:
    with pytest.raises(UnparseablePrice) as refused:
        parse_price("1 299 ₸ 1 599 ₸")
    assert refused.value.detail == "1299.00, 1599.00"
    with pytest.raises(UnparseablePrice) as refused:
        parse_price("$12", currency="EUR")
    assert refused.value.detail == "EUR, USD"


def test_context_currencies_must_be_iso_codes() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        parse_price("1 299", currency="tenge")


@pytest.mark.parametrize(
    ("text", "default", "code"),
    [
        ("KZT", None, "KZT"),
        (" kzt ", None, "KZT"),
        ("₸", None, "KZT"),
        ("руб.", None, "RUB"),
        ("руб.", "BYN", "BYN"),
        ("$", None, "USD"),
        ("د.إ", None, "AED"),
        ("RUR", None, "RUB"),
    ],
)
def test_currency_fields(text: str, default: str | None, code: str) -> None:
    assert parse_currency(text, default_currency=default) == code


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("currency", PriceProblem.NO_CURRENCY),
        ("", PriceProblem.NO_CURRENCY),
        ("kr", PriceProblem.AMBIGUOUS_CURRENCY),
        ("₸ ₽", PriceProblem.SEVERAL_CURRENCIES),
    ],
)
def test_currency_fields_refused(text: str, problem: PriceProblem) -> None:
    with pytest.raises(UnparseablePrice) as refused:
        parse_currency(text, default_currency="KZT")
    assert refused.value.problem is problem


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        (189990, "189990"),
        (34.5, "34.50"),
        ("1299.00", "1299"),
        ("1299", "1299"),
        ("1299.9900", "1299.99"),
        ("1 299,00", "1299"),
        (Decimal("12.5"), "12.50"),
    ],
)
def test_structured_values_follow_schema_org(value: str | int | float, amount: str) -> None:
    assert parse_structured_price(value, currency="KZT") == ParsedPrice(Decimal(amount), "KZT")


@pytest.mark.parametrize(
    ("value", "currency", "problem"),
    [
        ("1.299", "KZT", PriceProblem.TOO_PRECISE),  # schema.org's "." is a decimal point
        (True, "KZT", PriceProblem.MALFORMED_AMOUNT),
        (float("nan"), "KZT", PriceProblem.MALFORMED_AMOUNT),
        (-5, "KZT", PriceProblem.NEGATIVE),
        ("1299", None, PriceProblem.NO_CURRENCY),
        ("{{ product.price }}", "KZT", PriceProblem.NO_AMOUNT),
        ("", "KZT", PriceProblem.EMPTY),
    ],
)
def test_structured_values_refused(
    value: str | int | float, currency: str | None, problem: PriceProblem
) -> None:
    with pytest.raises(UnparseablePrice) as refused:
        parse_structured_price(value, currency=currency)
    assert refused.value.problem is problem
