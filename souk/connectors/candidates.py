"""What each source of a product page says about its offer, before the sources are
reconciled (`pages.py`): the price as read (or why it could not be), availability, seller.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from souk.connectors.prices import (
    ParsedPrice,
    PriceProblem,
    UnparseablePrice,
    parse_currency,
    parse_price,
    parse_structured_price,
)


class Availability(enum.StrEnum):
    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    UNKNOWN = "unknown"


class OfferSource(enum.StrEnum):
    """Where a page states its offer, in the order pages are read."""

    JSON_LD = "json-ld"
    MICRODATA = "microdata"
    OPENGRAPH = "opengraph"
    SELECTORS = "selectors"


@dataclass(frozen=True)
class OfferCandidate:
    """One price a source states: read (`price`) or not (`problem`, with the raw value)."""

    source: OfferSource
    raw: str
    price: ParsedPrice | None = None
    problem: PriceProblem | None = None
    availability: Availability = Availability.UNKNOWN
    seller: str | None = None
    lowest_of_several: bool = False  # an AggregateOffer's lowPrice


@dataclass
class SourceFindings:
    """What one source of a page holds: its candidates, the title it gives, and notes on
    what it could not read (for logs)."""

    source: OfferSource
    candidates: list[OfferCandidate] = field(default_factory=list)
    title: str | None = None
    notes: list[str] = field(default_factory=list)


def read_candidate(
    source: OfferSource,
    value: str | int | float | Decimal,
    currency: str | None,
    *,
    default_currency: str | None,
    structured: bool,
    availability: Availability = Availability.UNKNOWN,
    seller: str | None = None,
    lowest_of_several: bool = False,
) -> OfferCandidate:
    """A candidate from a price value and the currency stated beside it (an ISO code or a
    symbol); `structured` values follow schema.org (a "." decimal point)."""
    raw = str(value).strip()
    candidate = OfferCandidate(
        source,
        raw,
        availability=availability,
        seller=seller,
        lowest_of_several=lowest_of_several,
    )
    try:
        stated = (
            parse_currency(currency, default_currency=default_currency)
            if currency and currency.strip()
            else None
        )
        if structured:
            price = parse_structured_price(
                value, currency=stated, default_currency=default_currency
            )
        else:
            price = parse_price(raw, currency=stated, default_currency=default_currency)
    except UnparseablePrice as refused:
        return replace(candidate, problem=refused.problem)
    return replace(candidate, price=price)


# schema.org ItemAvailability names (and OpenGraph's words), spaces and case dropped.
_AVAILABILITY_NAMES = {
    "instock": Availability.IN_STOCK,
    "limitedavailability": Availability.IN_STOCK,
    "instoreonly": Availability.IN_STOCK,
    "onlineonly": Availability.IN_STOCK,
    "available": Availability.IN_STOCK,
    "outofstock": Availability.OUT_OF_STOCK,
    "oos": Availability.OUT_OF_STOCK,
    "soldout": Availability.OUT_OF_STOCK,
    "discontinued": Availability.OUT_OF_STOCK,
}
# Words on pages, most specific first: "нет в наличии" holds "в наличии", "available for
# pre-order" holds "available".
_NOT_NOW_WORDS = ("pre-order", "preorder", "backorder", "под заказ", "предзаказ")
_OUT_OF_STOCK_WORDS = (
    "out of stock",
    "sold out",
    "unavailable",
    "not available",
    "нет в наличии",
    "нет на складе",
    "отсутствует",
    "распродан",
    "закончился",
    "қоймада жоқ",
    "غير متوفر",
    "غير متاح",
    "نفد",
)
_IN_STOCK_WORDS = (
    "in stock",
    "available",
    "в наличии",
    "есть на складе",
    "қоймада бар",
    "متوفر",
    "متاح",
)
_NAME_NOISE = re.compile(r"^(?:https?://)?(?:www\.)?(?:schema\.org/|schema:)|[\s_-]")


def read_availability(value: str | None) -> Availability:
    """Availability from a schema.org value (`https://schema.org/InStock`), an OpenGraph
    one (`instock`, `oos`) or a page's words ("Нет в наличии"). Back-orders, pre-orders
    and reservations are neither in nor out of stock: unknown."""
    if not value:
        return Availability.UNKNOWN
    name = _NAME_NOISE.sub("", value.strip().casefold())
    if name in _AVAILABILITY_NAMES:
        return _AVAILABILITY_NAMES[name]
    words = " ".join(value.casefold().split())
    if any(word in words for word in _NOT_NOW_WORDS):
        return Availability.UNKNOWN
    if any(word in words for word in _OUT_OF_STOCK_WORDS):
        return Availability.OUT_OF_STOCK
    if any(word in words for word in _IN_STOCK_WORDS):
        return Availability.IN_STOCK
    return Availability.UNKNOWN
