"""The demo shop's catalog: typed, validated access to ``demo_catalog.json``.

The JSON file next to this module is the single source of the demo data (categories,
products, FAQ and shipping options of "Souk Demo Store"). :func:`load_demo_catalog` reads
it through :mod:`importlib.resources`, so it also works from an installed wheel, and turns
it into frozen dataclasses. Money is always :class:`~decimal.Decimal`: the file stores
prices as strings such as ``"129.90"`` and a JSON number in a money field is rejected.

Every rule the rest of the code relies on is checked while loading, and a broken file
raises :class:`ValueError` naming the offending entry, for example
``products[0] (sku 'PH-SAM-S24-128-BLK'): cost 900.00 must be lower than price 799.99``.

This module is the entry point: the records live in :mod:`souk.seed.records`, the
section parsers in :mod:`souk.seed.parsing` and the field readers in
:mod:`souk.seed.json_fields`; the records are re-exported here.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Final

from souk.seed.json_fields import (
    check_known_keys,
    exact_number,
    read_array,
    read_integer,
    read_object,
)
from souk.seed.parsing import (
    parse_categories,
    parse_faq,
    parse_products,
    parse_shipping,
    parse_shop,
)
from souk.seed.records import (
    CATALOG_LANGUAGES,
    PRODUCT_LANGUAGES,
    AttributeValue,
    CategorySeed,
    DemoCatalog,
    FaqSeed,
    LocalizedText,
    ProductSeed,
    ShippingSeed,
)

__all__ = [
    "CATALOG_LANGUAGES",
    "PRODUCT_LANGUAGES",
    "AttributeValue",
    "CategorySeed",
    "DemoCatalog",
    "FaqSeed",
    "LocalizedText",
    "ProductSeed",
    "ShippingSeed",
    "load_demo_catalog",
    "parse_demo_catalog",
]

SCHEMA_VERSION: Final = 1
DATA_FILE: Final = "demo_catalog.json"
_PACKAGE: Final = "souk.seed"


def load_demo_catalog() -> DemoCatalog:
    """Read, parse and validate the ``demo_catalog.json`` shipped next to this module.

    Raises :class:`ValueError` if the file breaks any rule (see :func:`parse_demo_catalog`).
    """
    text = resources.files(_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    try:
        data: object = json.loads(text, parse_float=exact_number)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{DATA_FILE}: invalid JSON: {exc}") from exc
    return parse_demo_catalog(data)


def parse_demo_catalog(data: object) -> DemoCatalog:
    """Validate already-decoded catalog JSON and build a :class:`DemoCatalog`.

    Rules: known keys only; unique category slugs with existing parents; unique SKUs whose
    category exists; product texts non-empty in English and Russian; ``price > 0`` and
    ``0 <= cost < price`` as strings with at most two decimals, in the shop's currency;
    ``stock >= 0``; flat scalar attributes; FAQ topics complete in English, Russian and
    Arabic; unique shipping codes with ``price >= 0`` and ``0 <= eta_days_min <=
    eta_days_max``. The first broken rule raises :class:`ValueError`.
    """
    root = read_object(data, "catalog")
    check_known_keys(
        root, "catalog", {"schema_version", "shop", "categories", "products", "faq", "shipping"}
    )
    version = read_integer(root, "schema_version", "catalog")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"catalog: schema_version {version} is not supported (expected {SCHEMA_VERSION})"
        )

    shop_name, currency, timezone = parse_shop(root.get("shop"))

    categories = parse_categories(read_array(root.get("categories"), "categories"))
    slugs = {c.slug for c in categories}
    products = parse_products(read_array(root.get("products"), "products"), slugs, currency)
    faq = parse_faq(read_array(root.get("faq"), "faq"))
    shipping = parse_shipping(read_array(root.get("shipping"), "shipping"))

    return DemoCatalog(
        shop_name=shop_name,
        currency=currency,
        timezone=timezone,
        categories=categories,
        products=products,
        faq=faq,
        shipping=shipping,
    )
