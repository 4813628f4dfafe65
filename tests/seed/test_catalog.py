"""The demo shop's seed catalog: the shipped data and the loader's validation."""

from __future__ import annotations

import copy
import json
import unicodedata
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from souk.seed.catalog import (
    CATALOG_LANGUAGES,
    PRODUCT_LANGUAGES,
    DemoCatalog,
    LocalizedText,
    load_demo_catalog,
    parse_demo_catalog,
)

Raw = dict[str, Any]


@pytest.fixture(scope="module")
def catalog() -> DemoCatalog:
    return load_demo_catalog()


@pytest.fixture(scope="module")
def raw_catalog() -> Raw:
    text = resources.files("souk.seed").joinpath("demo_catalog.json").read_text("utf-8")
    data: Raw = json.loads(text)
    return data


def _scripts(text: str) -> Counter[str]:
    """How many letters of each Unicode script (LATIN, CYRILLIC, ARABIC, ...) text has."""
    return Counter(unicodedata.name(ch, "UNKNOWN").split(" ")[0] for ch in text if ch.isalpha())


def _is_english(text: str) -> bool:
    letters = _scripts(text)
    return letters["LATIN"] > 0 and set(letters) == {"LATIN"}


def _is_russian(text: str, min_cyrillic_share: float = 0.0) -> bool:
    """Cyrillic text; Latin letters are allowed for model and brand names."""
    letters = _scripts(text)
    if letters["CYRILLIC"] == 0 or set(letters) - {"CYRILLIC", "LATIN"}:
        return False
    return letters["CYRILLIC"] / sum(letters.values()) >= min_cyrillic_share


def _is_arabic(text: str) -> bool:
    letters = _scripts(text)
    if set(letters) - {"ARABIC", "LATIN"}:
        return False
    return letters["ARABIC"] / max(sum(letters.values()), 1) >= 0.6


# --------------------------------------------------------------------------- shipped data


def test_shop_settings(catalog: DemoCatalog) -> None:
    assert catalog.shop_name == "Souk Demo Store"
    assert catalog.currency == "USD"
    assert catalog.timezone == "Asia/Almaty"


def test_catalog_size_and_spread(catalog: DemoCatalog) -> None:
    assert len(catalog.products) >= 200
    assert len(catalog.categories) >= 8
    per_category = Counter(p.category for p in catalog.products)
    for category in catalog.categories:
        assert per_category[category.slug] > 0, f"category {category.slug} has no products"
        assert 15 <= per_category[category.slug] <= 30, (category.slug, per_category)


def test_skus_are_unique(catalog: DemoCatalog) -> None:
    duplicates = [sku for sku, n in Counter(p.sku for p in catalog.products).items() if n > 1]
    assert duplicates == []


def test_every_product_category_exists(catalog: DemoCatalog) -> None:
    slugs = {c.slug for c in catalog.categories}
    assert len(slugs) == len(catalog.categories)
    for product in catalog.products:
        assert product.category in slugs, product.sku
    for category in catalog.categories:
        assert category.parent is None or category.parent in slugs


def test_prices_costs_and_stock(catalog: DemoCatalog) -> None:
    for p in catalog.products:
        assert isinstance(p.price, Decimal) and isinstance(p.cost, Decimal), p.sku
        assert p.price > 0, p.sku
        assert 0 <= p.cost < p.price, p.sku
        assert p.price == p.price.quantize(Decimal("0.01")), p.sku
        assert p.currency == catalog.currency, p.sku
        assert isinstance(p.stock, int) and p.stock >= 0, p.sku


def test_money_is_stored_as_strings(raw_catalog: Raw) -> None:
    for product in raw_catalog["products"]:
        assert isinstance(product["price"], str), product["sku"]
        assert isinstance(product["cost"], str), product["sku"]
    for option in raw_catalog["shipping"]:
        assert isinstance(option["price"], str), option["code"]


def test_data_looks_like_a_real_shop(catalog: DemoCatalog) -> None:
    products = catalog.products
    for p in products:
        assert Decimal("0.55") <= p.cost / p.price <= Decimal("0.85"), p.sku
        assert p.stock <= 60, p.sku
        assert p.photo_url is None, p.sku
        assert p.brand.strip(), p.sku
    out_of_stock = sum(1 for p in products if not p.in_stock)
    assert 0.04 <= out_of_stock / len(products) <= 0.12
    assert any(1 <= p.stock <= 3 for p in products)
    assert len({p.brand for p in products}) >= 30


def test_attributes_are_flat_scalars(catalog: DemoCatalog) -> None:
    for p in catalog.products:
        assert p.attributes, p.sku
        for key, value in p.attributes.items():
            assert key.strip(), p.sku
            assert isinstance(value, str | int | float | bool), (p.sku, key, value)


def test_product_texts_are_english_and_russian(catalog: DemoCatalog) -> None:
    for p in catalog.products:
        for field in (p.title, p.description):
            assert set(field) == set(PRODUCT_LANGUAGES), p.sku
            assert field["en"].strip() and field["ru"].strip(), p.sku
            assert field["en"] != field["ru"], p.sku
        assert _is_english(p.title["en"]), (p.sku, p.title["en"])
        assert _is_english(p.description["en"]), (p.sku, p.description["en"])
        assert _is_russian(p.title["ru"]), (p.sku, p.title["ru"])
        assert _is_russian(p.description["ru"], min_cyrillic_share=0.4), (
            p.sku,
            p.description["ru"],
        )


def test_category_names(catalog: DemoCatalog) -> None:
    for category in catalog.categories:
        assert set(category.names) == set(CATALOG_LANGUAGES), category.slug
        assert _is_english(category.names["en"]), category.slug
        assert _is_russian(category.names["ru"], min_cyrillic_share=1.0), category.slug
        assert _is_arabic(category.names["ar"]), category.slug


def test_faq_in_three_languages(catalog: DemoCatalog) -> None:
    per_language = Counter(entry.language for entry in catalog.faq)
    assert set(per_language) == set(CATALOG_LANGUAGES)
    assert per_language["en"] >= 10
    assert per_language["en"] == per_language["ru"] == per_language["ar"]
    for entry in catalog.faq:
        assert entry.question.strip() and entry.answer.strip()
    for entry in catalog.faq_for("en"):
        assert _is_english(entry.question) and _is_english(entry.answer), entry
    for entry in catalog.faq_for("ru"):
        assert _is_russian(entry.question, 0.6) and _is_russian(entry.answer, 0.6), entry
    for entry in catalog.faq_for("ar"):
        assert _is_arabic(entry.question) and _is_arabic(entry.answer), entry


def test_faq_covers_the_usual_questions(catalog: DemoCatalog) -> None:
    answers = " ".join(e.question + " " + e.answer for e in catalog.faq_for("en")).lower()
    for phrase in (
        "cash on delivery",
        "14 days",
        "warranty",
        "track",
        "cancel",
        "pickup",
        "09:00",
        "person",
        "ship internationally",
    ):
        assert phrase in answers, phrase


def test_shipping_options(catalog: DemoCatalog) -> None:
    assert 3 <= len(catalog.shipping) <= 4
    codes = [option.code for option in catalog.shipping]
    assert len(set(codes)) == len(codes)
    for option in catalog.shipping:
        assert isinstance(option.price, Decimal) and option.price >= 0, option.code
        assert 0 <= option.eta_days_min <= option.eta_days_max, option.code
        assert set(option.names) == set(CATALOG_LANGUAGES), option.code
        assert _is_english(option.names["en"]), option.code
        assert _is_russian(option.names["ru"], min_cyrillic_share=1.0), option.code
        assert _is_arabic(option.names["ar"]), option.code
    assert any(option.price == 0 for option in catalog.shipping)


def test_lookup_helpers(catalog: DemoCatalog) -> None:
    first = catalog.products[0]
    assert catalog.product(first.sku) is first
    assert first in catalog.products_in(first.category)
    assert catalog.category(first.category).slug == first.category
    assert first.localized_title.get("ru") == first.title["ru"]
    assert first.localized_title.get("ar") == first.title["en"]  # no Arabic: falls back
    with pytest.raises(KeyError):
        catalog.product("NO-SUCH-SKU")
    name = catalog.categories[0].localized_name
    assert isinstance(name, LocalizedText) and name.ar == catalog.categories[0].names["ar"]
    assert name.as_dict() == catalog.categories[0].names


# --------------------------------------------------------------------------- validation


def test_raw_data_parses(raw_catalog: Raw) -> None:
    parsed = parse_demo_catalog(copy.deepcopy(raw_catalog))
    assert len(parsed.products) == len(raw_catalog["products"])


def _set(path: tuple[str | int, ...], value: object) -> Callable[[Raw], None]:
    def mutate(data: Raw) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _duplicate_first_sku(data: Raw) -> None:
    data["products"][1]["sku"] = data["products"][0]["sku"]


def _cost_equals_price(data: Raw) -> None:
    data["products"][0]["cost"] = data["products"][0]["price"]


def _drop_russian_description(data: Raw) -> None:
    del data["products"][0]["description"]["ru"]


BROKEN: list[tuple[str, Callable[[Raw], None], str]] = [
    ("duplicate sku", _duplicate_first_sku, "duplicate SKU"),
    ("unknown category", _set(("products", 0, "category"), "toys"), "category 'toys' does not"),
    ("zero price", _set(("products", 0, "price"), "0.00"), "price must be greater than 0"),
    ("negative price", _set(("products", 0, "price"), "-5.00"), "price must be greater than 0"),
    ("cost equals price", _cost_equals_price, "must be lower than price"),
    ("negative cost", _set(("products", 0, "cost"), "-0.01"), "cost must not be negative"),
    ("negative stock", _set(("products", 0, "stock"), -1), "stock must not be negative"),
    ("float stock", _set(("products", 0, "stock"), 2.5), "'stock' must be an integer"),
    ("price as float", _set(("products", 0, "price"), 129.9), "must be a string"),
    ("three decimals", _set(("products", 0, "price"), "129.999"), "more than 2 decimals"),
    ("empty en title", _set(("products", 0, "title", "en"), " "), "'en' must not be empty"),
    ("empty ru title", _set(("products", 0, "title", "ru"), ""), "'ru' must not be empty"),
    ("missing ru description", _drop_russian_description, "missing 'ru'"),
    ("nested attribute", _set(("products", 0, "attributes", "x"), {"a": 1}), "'x' must be"),
    ("other currency", _set(("products", 0, "currency"), "EUR"), "differs from the shop"),
    ("unknown parent", _set(("categories", 0, "parent"), "nowhere"), "parent 'nowhere'"),
    ("empty faq answer", _set(("faq", 0, "ar", "answer"), ""), "'answer' must not be empty"),
    ("bad eta", _set(("shipping", 0, "eta_days_max"), -1), "below eta_days_min"),
    ("typo in key", _set(("products", 0, "prcie"), "1.00"), "unknown key(s) 'prcie'"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [(m, msg) for _, m, msg in BROKEN], ids=[n for n, _, _ in BROKEN]
)
def test_broken_data_is_rejected(
    raw_catalog: Raw, mutate: Callable[[Raw], None], message: str
) -> None:
    data = copy.deepcopy(raw_catalog)
    mutate(data)
    with pytest.raises(ValueError) as excinfo:
        parse_demo_catalog(data)
    assert message in str(excinfo.value)


def test_error_names_the_product(raw_catalog: Raw) -> None:
    data = copy.deepcopy(raw_catalog)
    sku = data["products"][3]["sku"]
    data["products"][3]["stock"] = -2
    with pytest.raises(ValueError, match=rf"products\[3\] \(sku '{sku}'\)"):
        parse_demo_catalog(data)
