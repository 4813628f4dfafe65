"""Parsers of the demo catalog's sections: the shop, categories, products, FAQ, shipping.

Each takes decoded JSON, checks the section's rules in a fixed order and raises
:class:`ValueError` naming the offending entry at the first broken one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from souk.seed.json_fields import (
    check_known_keys,
    read_attributes,
    read_integer,
    read_money,
    read_object,
    read_optional_text,
    read_text,
    read_texts,
)
from souk.seed.records import (
    CATALOG_LANGUAGES,
    PRODUCT_LANGUAGES,
    CategorySeed,
    FaqSeed,
    ProductSeed,
    ShippingSeed,
)

_SLUG_RE: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SKU_RE: Final = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_CODE_RE: Final = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_CURRENCY_RE: Final = re.compile(r"^[A-Z]{3}$")
_SKU_MAX_LEN: Final = 64
_PRODUCT_KEYS: Final = frozenset(
    {
        "sku",
        "category",
        "brand",
        "title",
        "description",
        "price",
        "cost",
        "currency",
        "stock",
        "attributes",
        "photo_url",
    }
)


def parse_shop(value: object) -> tuple[str, str, str]:
    """The shop's ``(name, currency, timezone)``; the currency is a 3-letter ISO code."""
    shop = read_object(value, "shop")
    check_known_keys(shop, "shop", {"name", "currency", "timezone"})
    shop_name = read_text(shop, "name", "shop")
    currency = read_text(shop, "currency", "shop")
    if not _CURRENCY_RE.match(currency):
        raise ValueError(f"shop: currency {currency!r} is not a 3-letter ISO 4217 code")
    timezone = read_text(shop, "timezone", "shop")
    return shop_name, currency, timezone


# --------------------------------------------------------------------------- categories


def parse_categories(items: list[object]) -> tuple[CategorySeed, ...]:
    """Categories with unique slugs whose parents exist and never loop."""
    categories: list[CategorySeed] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"categories[{i}]"
        obj = read_object(item, where)
        check_known_keys(obj, where, {"slug", "names", "parent"})
        slug = read_text(obj, "slug", where)
        where = f"{where} (slug {slug!r})"
        if not _SLUG_RE.match(slug):
            raise ValueError(f"{where}: slug must be lowercase words joined by '-'")
        if slug in seen:
            raise ValueError(f"{where}: duplicate slug")
        seen.add(slug)
        names = read_texts(obj, "names", where, CATALOG_LANGUAGES)
        parent = read_optional_text(obj, "parent", where)
        categories.append(CategorySeed(slug=slug, names=names, parent=parent))
    _check_parents(categories)
    return tuple(categories)


def _check_parents(categories: list[CategorySeed]) -> None:
    parents = {c.slug: c.parent for c in categories}
    for i, category in enumerate(categories):
        where = f"categories[{i}] (slug {category.slug!r})"
        if category.parent is not None and category.parent not in parents:
            raise ValueError(f"{where}: parent {category.parent!r} is not a category")
        chain = {category.slug}
        parent = category.parent
        while parent is not None:
            if parent in chain:
                raise ValueError(f"{where}: parent chain loops back to {parent!r}")
            chain.add(parent)
            parent = parents[parent]


# --------------------------------------------------------------------------- products


def parse_products(
    items: list[object], categories: set[str], currency: str
) -> tuple[ProductSeed, ...]:
    """Products with unique SKUs in existing ``categories``, priced in the shop's ``currency``."""
    products: list[ProductSeed] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        products.append(_parse_product(item, f"products[{i}]", seen, categories, currency))
    return tuple(products)


def _parse_product(
    item: object, where: str, seen: set[str], categories: set[str], currency: str
) -> ProductSeed:
    obj = read_object(item, where)
    check_known_keys(obj, where, _PRODUCT_KEYS)
    sku = read_text(obj, "sku", where)
    where = f"{where} (sku {sku!r})"
    _check_sku(sku, where, seen)
    category = read_text(obj, "category", where)
    if category not in categories:
        raise ValueError(f"{where}: category {category!r} does not exist")
    brand = read_text(obj, "brand", where)
    title = read_texts(obj, "title", where, PRODUCT_LANGUAGES)
    description = read_texts(obj, "description", where, PRODUCT_LANGUAGES)
    price, cost = _read_price_and_cost(obj, where)
    product_currency = read_text(obj, "currency", where)
    if product_currency != currency:
        raise ValueError(
            f"{where}: currency {product_currency!r} differs from the shop currency {currency!r}"
        )
    stock = read_integer(obj, "stock", where)
    if stock < 0:
        raise ValueError(f"{where}: stock must not be negative, got {stock}")
    attributes = read_attributes(obj.get("attributes", {}), f"{where}.attributes")
    photo_url = read_optional_text(obj, "photo_url", where)
    if photo_url is not None and not photo_url.startswith(("https://", "http://")):
        raise ValueError(f"{where}: photo_url must be an http(s) URL or null")
    return ProductSeed(
        sku=sku,
        category=category,
        brand=brand,
        title=title,
        description=description,
        price=price,
        cost=cost,
        currency=product_currency,
        stock=stock,
        attributes=attributes,
        photo_url=photo_url,
    )


def _check_sku(sku: str, where: str, seen: set[str]) -> None:
    """Reject a malformed or repeated SKU; remember it in ``seen`` otherwise."""
    if not _SKU_RE.match(sku) or len(sku) > _SKU_MAX_LEN:
        raise ValueError(
            f"{where}: SKU must be at most {_SKU_MAX_LEN} characters of "
            "A-Z and 0-9 in groups joined by '-'"
        )
    if sku in seen:
        raise ValueError(f"{where}: duplicate SKU")
    seen.add(sku)


def _read_price_and_cost(obj: Mapping[str, object], where: str) -> tuple[Decimal, Decimal]:
    """``price > 0`` and ``0 <= cost < price``."""
    price = read_money(obj, "price", where)
    cost = read_money(obj, "cost", where)
    if price <= 0:
        raise ValueError(f"{where}: price must be greater than 0, got {price}")
    if cost < 0:
        raise ValueError(f"{where}: cost must not be negative, got {cost}")
    if cost >= price:
        raise ValueError(f"{where}: cost {cost} must be lower than price {price}")
    return price, cost


# --------------------------------------------------------------------------- FAQ, shipping


def parse_faq(items: list[object]) -> tuple[FaqSeed, ...]:
    """FAQ topics hold one question/answer pair per language; the result is per language."""
    by_language: dict[str, list[FaqSeed]] = {language: [] for language in CATALOG_LANGUAGES}
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"faq[{i}]"
        obj = read_object(item, where)
        check_known_keys(obj, where, {"topic", *CATALOG_LANGUAGES})
        topic = read_text(obj, "topic", where)
        where = f"{where} (topic {topic!r})"
        if topic in seen:
            raise ValueError(f"{where}: duplicate topic")
        seen.add(topic)
        for language in CATALOG_LANGUAGES:
            entry_where = f"{where}.{language}"
            entry = read_object(obj.get(language), entry_where)
            check_known_keys(entry, entry_where, {"question", "answer"})
            by_language[language].append(
                FaqSeed(
                    language=language,
                    question=read_text(entry, "question", entry_where),
                    answer=read_text(entry, "answer", entry_where),
                )
            )
    return tuple(entry for language in CATALOG_LANGUAGES for entry in by_language[language])


def parse_shipping(items: list[object]) -> tuple[ShippingSeed, ...]:
    """Shipping options with unique codes, ``price >= 0`` and ``0 <= eta min <= eta max``."""
    options: list[ShippingSeed] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"shipping[{i}]"
        obj = read_object(item, where)
        check_known_keys(
            obj, where, {"code", "names", "price", "eta_days_min", "eta_days_max", "needs_address"}
        )
        code = read_text(obj, "code", where)
        where = f"{where} (code {code!r})"
        if not _CODE_RE.match(code):
            raise ValueError(f"{where}: code must be lowercase words joined by '-' or '_'")
        if code in seen:
            raise ValueError(f"{where}: duplicate code")
        seen.add(code)
        names = read_texts(obj, "names", where, CATALOG_LANGUAGES)
        price = read_money(obj, "price", where)
        if price < 0:
            raise ValueError(f"{where}: price must not be negative, got {price}")
        eta_min = read_integer(obj, "eta_days_min", where)
        eta_max = read_integer(obj, "eta_days_max", where)
        if eta_min < 0:
            raise ValueError(f"{where}: eta_days_min must not be negative, got {eta_min}")
        if eta_max < eta_min:
            raise ValueError(f"{where}: eta_days_max {eta_max} is below eta_days_min {eta_min}")
        needs_address = obj.get("needs_address", True)
        if not isinstance(needs_address, bool):
            raise ValueError(f"{where}: needs_address must be true or false")
        options.append(
            ShippingSeed(
                code=code,
                names=names,
                price=price,
                eta_days_min=eta_min,
                eta_days_max=eta_max,
                needs_address=needs_address,
            )
        )
    return tuple(options)
