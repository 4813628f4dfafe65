"""The demo catalog's typed records: frozen dataclasses built by the catalog loader.

Money is :class:`~decimal.Decimal`; localized texts are ``{language: text}`` dicts whose
languages are :data:`CATALOG_LANGUAGES` or :data:`PRODUCT_LANGUAGES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeAlias

AttributeValue: TypeAlias = str | int | float | bool
"""A product attribute value; attributes are a flat mapping of these."""

CATALOG_LANGUAGES: Final[tuple[str, ...]] = ("en", "ru", "ar")
"""Languages of category names, shipping names and FAQ entries."""

PRODUCT_LANGUAGES: Final[tuple[str, ...]] = ("en", "ru")
"""Languages every product title and description is written in."""


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
    needs_address: bool = True  # False for a pickup point

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
