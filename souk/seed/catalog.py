"""The demo shop's catalog: typed, validated access to ``demo_catalog.json``.

The JSON file next to this module is the single source of the demo data (categories,
products, FAQ and shipping options of "Souk Demo Store"). :func:`load_demo_catalog` reads
it through :mod:`importlib.resources`, so it also works from an installed wheel, and turns
it into frozen dataclasses. Money is always :class:`~decimal.Decimal`: the file stores
prices as strings such as ``"129.90"`` and a JSON number in a money field is rejected.

Every rule the rest of the code relies on is checked while loading, and a broken file
raises :class:`ValueError` naming the offending entry, for example
``products[0] (sku 'PH-SAM-S24-128-BLK'): cost 900.00 must be lower than price 799.99``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Final, TypeAlias

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

AttributeValue: TypeAlias = str | int | float | bool
"""A product attribute value; attributes are a flat mapping of these."""

CATALOG_LANGUAGES: Final[tuple[str, ...]] = ("en", "ru", "ar")
"""Languages of category names, shipping names and FAQ entries."""

PRODUCT_LANGUAGES: Final[tuple[str, ...]] = ("en", "ru")
"""Languages every product title and description is written in."""

SCHEMA_VERSION: Final = 1
DATA_FILE: Final = "demo_catalog.json"
_PACKAGE: Final = "souk.seed"

_SLUG_RE: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SKU_RE: Final = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_CODE_RE: Final = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_CURRENCY_RE: Final = re.compile(r"^[A-Z]{3}$")
_SKU_MAX_LEN: Final = 64
_MONEY_PLACES: Final = 2


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """One text in English and Russian, optionally in Arabic."""

    en: str
    ru: str
    ar: str | None = None

    @classmethod
    def from_mapping(cls, texts: Mapping[str, str]) -> LocalizedText:
        """Build from a ``{"en": ..., "ru": ..., "ar": ...}`` mapping (``ar`` may be absent)."""
        return cls(en=texts["en"], ru=texts["ru"], ar=texts.get("ar"))

    def get(self, language: str) -> str:
        """The text in ``language``, falling back to English when it is not available."""
        if language == "ru":
            return self.ru
        if language == "ar" and self.ar is not None:
            return self.ar
        return self.en

    def as_dict(self) -> dict[str, str]:
        """The texts as a ``{language: text}`` dict, without missing languages."""
        out = {"en": self.en, "ru": self.ru}
        if self.ar is not None:
            out["ar"] = self.ar
        return out


@dataclass(frozen=True, slots=True)
class CategorySeed:
    """A catalog category; ``names`` has ``en``, ``ru`` and ``ar``."""

    slug: str
    names: dict[str, str]
    parent: str | None

    @property
    def localized_name(self) -> LocalizedText:
        """``names`` as a :class:`LocalizedText`."""
        return LocalizedText.from_mapping(self.names)


@dataclass(frozen=True, slots=True)
class ProductSeed:
    """A product of the demo shop; ``title`` and ``description`` have ``en`` and ``ru``."""

    sku: str
    category: str
    brand: str
    title: dict[str, str]
    description: dict[str, str]
    price: Decimal
    cost: Decimal
    currency: str
    stock: int
    attributes: dict[str, AttributeValue]
    photo_url: str | None

    @property
    def localized_title(self) -> LocalizedText:
        """``title`` as a :class:`LocalizedText`."""
        return LocalizedText.from_mapping(self.title)

    @property
    def localized_description(self) -> LocalizedText:
        """``description`` as a :class:`LocalizedText`."""
        return LocalizedText.from_mapping(self.description)

    @property
    def in_stock(self) -> bool:
        """Whether at least one unit can be sold."""
        return self.stock > 0


@dataclass(frozen=True, slots=True)
class FaqSeed:
    """One FAQ entry in one language."""

    language: str
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class ShippingSeed:
    """A delivery option; ``names`` has ``en``, ``ru`` and ``ar``; 0 days means same day."""

    code: str
    names: dict[str, str]
    price: Decimal
    eta_days_min: int
    eta_days_max: int

    @property
    def localized_name(self) -> LocalizedText:
        """``names`` as a :class:`LocalizedText`."""
        return LocalizedText.from_mapping(self.names)


@dataclass(frozen=True, slots=True)
class DemoCatalog:
    """Everything the demo shop is seeded with, validated."""

    shop_name: str
    currency: str
    timezone: str
    categories: tuple[CategorySeed, ...]
    products: tuple[ProductSeed, ...]
    faq: tuple[FaqSeed, ...]
    shipping: tuple[ShippingSeed, ...]

    def category(self, slug: str) -> CategorySeed:
        """The category with ``slug``; raises :class:`KeyError` if there is none."""
        for category in self.categories:
            if category.slug == slug:
                return category
        raise KeyError(slug)

    def product(self, sku: str) -> ProductSeed:
        """The product with ``sku``; raises :class:`KeyError` if there is none."""
        for product in self.products:
            if product.sku == sku:
                return product
        raise KeyError(sku)

    def products_in(self, category: str) -> tuple[ProductSeed, ...]:
        """The products of one category, in file order."""
        return tuple(p for p in self.products if p.category == category)

    def faq_for(self, language: str) -> tuple[FaqSeed, ...]:
        """The FAQ entries in one language, in file order."""
        return tuple(entry for entry in self.faq if entry.language == language)


# --------------------------------------------------------------------------- loading


def load_demo_catalog() -> DemoCatalog:
    """Read, parse and validate the ``demo_catalog.json`` shipped next to this module.

    Raises :class:`ValueError` if the file breaks any rule (see :func:`parse_demo_catalog`).
    """
    text = resources.files(_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    try:
        data: object = json.loads(text, parse_float=_exact_number)
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
    root = _object(data, "catalog")
    _known_keys(
        root, "catalog", {"schema_version", "shop", "categories", "products", "faq", "shipping"}
    )
    version = _integer(root, "schema_version", "catalog")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"catalog: schema_version {version} is not supported (expected {SCHEMA_VERSION})"
        )

    shop = _object(root.get("shop"), "shop")
    _known_keys(shop, "shop", {"name", "currency", "timezone"})
    shop_name = _text(shop, "name", "shop")
    currency = _text(shop, "currency", "shop")
    if not _CURRENCY_RE.match(currency):
        raise ValueError(f"shop: currency {currency!r} is not a 3-letter ISO 4217 code")
    timezone = _text(shop, "timezone", "shop")

    categories = _parse_categories(_array(root.get("categories"), "categories"))
    slugs = {c.slug for c in categories}
    products = _parse_products(_array(root.get("products"), "products"), slugs, currency)
    faq = _parse_faq(_array(root.get("faq"), "faq"))
    shipping = _parse_shipping(_array(root.get("shipping"), "shipping"))

    return DemoCatalog(
        shop_name=shop_name,
        currency=currency,
        timezone=timezone,
        categories=categories,
        products=products,
        faq=faq,
        shipping=shipping,
    )


def _parse_categories(items: list[object]) -> tuple[CategorySeed, ...]:
    categories: list[CategorySeed] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"categories[{i}]"
        obj = _object(item, where)
        _known_keys(obj, where, {"slug", "names", "parent"})
        slug = _text(obj, "slug", where)
        where = f"{where} (slug {slug!r})"
        if not _SLUG_RE.match(slug):
            raise ValueError(f"{where}: slug must be lowercase words joined by '-'")
        if slug in seen:
            raise ValueError(f"{where}: duplicate slug")
        seen.add(slug)
        names = _texts(obj, "names", where, CATALOG_LANGUAGES)
        parent = _optional_text(obj, "parent", where)
        categories.append(CategorySeed(slug=slug, names=names, parent=parent))

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
    return tuple(categories)


def _parse_products(
    items: list[object], categories: set[str], currency: str
) -> tuple[ProductSeed, ...]:
    products: list[ProductSeed] = []
    seen: set[str] = set()
    keys = {
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
    for i, item in enumerate(items):
        where = f"products[{i}]"
        obj = _object(item, where)
        _known_keys(obj, where, keys)
        sku = _text(obj, "sku", where)
        where = f"{where} (sku {sku!r})"
        if not _SKU_RE.match(sku) or len(sku) > _SKU_MAX_LEN:
            raise ValueError(
                f"{where}: SKU must be at most {_SKU_MAX_LEN} characters of "
                "A-Z and 0-9 in groups joined by '-'"
            )
        if sku in seen:
            raise ValueError(f"{where}: duplicate SKU")
        seen.add(sku)

        category = _text(obj, "category", where)
        if category not in categories:
            raise ValueError(f"{where}: category {category!r} does not exist")
        brand = _text(obj, "brand", where)
        title = _texts(obj, "title", where, PRODUCT_LANGUAGES)
        description = _texts(obj, "description", where, PRODUCT_LANGUAGES)

        price = _money(obj, "price", where)
        cost = _money(obj, "cost", where)
        if price <= 0:
            raise ValueError(f"{where}: price must be greater than 0, got {price}")
        if cost < 0:
            raise ValueError(f"{where}: cost must not be negative, got {cost}")
        if cost >= price:
            raise ValueError(f"{where}: cost {cost} must be lower than price {price}")
        product_currency = _text(obj, "currency", where)
        if product_currency != currency:
            raise ValueError(
                f"{where}: currency {product_currency!r} differs from the "
                f"shop currency {currency!r}"
            )

        stock = _integer(obj, "stock", where)
        if stock < 0:
            raise ValueError(f"{where}: stock must not be negative, got {stock}")
        attributes = _attributes(obj.get("attributes", {}), f"{where}.attributes")
        photo_url = _optional_text(obj, "photo_url", where)
        if photo_url is not None and not photo_url.startswith(("https://", "http://")):
            raise ValueError(f"{where}: photo_url must be an http(s) URL or null")

        products.append(
            ProductSeed(
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
        )
    return tuple(products)


def _parse_faq(items: list[object]) -> tuple[FaqSeed, ...]:
    """FAQ topics hold one question/answer pair per language; the result is per language."""
    by_language: dict[str, list[FaqSeed]] = {language: [] for language in CATALOG_LANGUAGES}
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"faq[{i}]"
        obj = _object(item, where)
        _known_keys(obj, where, {"topic", *CATALOG_LANGUAGES})
        topic = _text(obj, "topic", where)
        where = f"{where} (topic {topic!r})"
        if topic in seen:
            raise ValueError(f"{where}: duplicate topic")
        seen.add(topic)
        for language in CATALOG_LANGUAGES:
            entry_where = f"{where}.{language}"
            entry = _object(obj.get(language), entry_where)
            _known_keys(entry, entry_where, {"question", "answer"})
            by_language[language].append(
                FaqSeed(
                    language=language,
                    question=_text(entry, "question", entry_where),
                    answer=_text(entry, "answer", entry_where),
                )
            )
    return tuple(entry for language in CATALOG_LANGUAGES for entry in by_language[language])


def _parse_shipping(items: list[object]) -> tuple[ShippingSeed, ...]:
    options: list[ShippingSeed] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"shipping[{i}]"
        obj = _object(item, where)
        _known_keys(obj, where, {"code", "names", "price", "eta_days_min", "eta_days_max"})
        code = _text(obj, "code", where)
        where = f"{where} (code {code!r})"
        if not _CODE_RE.match(code):
            raise ValueError(f"{where}: code must be lowercase words joined by '-' or '_'")
        if code in seen:
            raise ValueError(f"{where}: duplicate code")
        seen.add(code)
        names = _texts(obj, "names", where, CATALOG_LANGUAGES)
        price = _money(obj, "price", where)
        if price < 0:
            raise ValueError(f"{where}: price must not be negative, got {price}")
        eta_min = _integer(obj, "eta_days_min", where)
        eta_max = _integer(obj, "eta_days_max", where)
        if eta_min < 0:
            raise ValueError(f"{where}: eta_days_min must not be negative, got {eta_min}")
        if eta_max < eta_min:
            raise ValueError(f"{where}: eta_days_max {eta_max} is below eta_days_min {eta_min}")
        options.append(
            ShippingSeed(
                code=code, names=names, price=price, eta_days_min=eta_min, eta_days_max=eta_max
            )
        )
    return tuple(options)


# --------------------------------------------------------------------------- field readers


def _exact_number(literal: str) -> Decimal:
    """``json.loads`` hook: keep non-integer numbers exact so money checks see them."""
    return Decimal(literal)


def _object(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object, got {_kind(value)}")
    return {str(key): item for key, item in value.items()}


def _array(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a JSON array, got {_kind(value)}")
    return list(value)


def _known_keys(obj: Mapping[str, object], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")


def _text(obj: Mapping[str, object], key: str, where: str) -> str:
    if key not in obj:
        raise ValueError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key!r} must be a string, got {_kind(value)}")
    if not value.strip():
        raise ValueError(f"{where}: {key!r} must not be empty")
    return value


def _optional_text(obj: Mapping[str, object], key: str, where: str) -> str | None:
    if obj.get(key) is None:
        return None
    return _text(obj, key, where)


def _integer(obj: Mapping[str, object], key: str, where: str) -> int:
    if key not in obj:
        raise ValueError(f"{where}: missing {key!r}")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {key!r} must be an integer, got {_kind(value)}")
    return value


def _texts(
    obj: Mapping[str, object], key: str, where: str, languages: tuple[str, ...]
) -> dict[str, str]:
    """A ``{language: text}`` object holding exactly ``languages``, each non-empty."""
    texts = _object(obj.get(key), f"{where}.{key}")
    _known_keys(texts, f"{where}.{key}", set(languages))
    return {language: _text(texts, language, f"{where}.{key}") for language in languages}


def _money(obj: Mapping[str, object], key: str, where: str) -> Decimal:
    """A non-float amount written as a string such as ``"129.90"``."""
    if key not in obj:
        raise ValueError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, str):
        raise ValueError(f'{where}: {key!r} must be a string such as "129.90", got {_kind(value)}')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{where}: {key!r} {value!r} is not a decimal number") from None
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int):
        raise ValueError(f"{where}: {key!r} {value!r} is not a finite amount")
    if exponent < -_MONEY_PLACES:
        raise ValueError(f"{where}: {key!r} {value!r} has more than {_MONEY_PLACES} decimals")
    return amount


def _attributes(value: object, where: str) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    for key, item in _object(value, where).items():
        if not key.strip():
            raise ValueError(f"{where}: attribute names must not be empty")
        if isinstance(item, Decimal):  # a JSON number with a fraction, see _exact_number
            attributes[key] = float(item)
        elif isinstance(item, str | int | float | bool):
            attributes[key] = item
        else:
            raise ValueError(
                f"{where}: {key!r} must be a string, number or boolean, got {_kind(item)}"
            )
    return attributes


def _kind(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
