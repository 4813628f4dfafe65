"""Offers stated as schema.org JSON-LD: Product (or anything else with `offers`: a Book, a
ProductGroup's variants) and Offer nodes, in arrays, `@graph`s and `mainEntity`, offers
given inline, as lists or by `@id`; AggregateOffer's `lowPrice`; `priceSpecification`
(list and strike-through prices left out). A block that is not JSON is noted and skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from souk.connectors.candidates import (
    OfferCandidate,
    OfferSource,
    SourceFindings,
    read_availability,
    read_candidate,
)
from souk.connectors.html_tree import Element

_WRAPPING = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
_SCHEMA_PREFIX = re.compile(r"^(?:https?://schema\.org/|schema:)")
# priceSpecification entries that are not what the buyer pays now.
_NOT_PAID_PRICES = ("ListPrice", "StrikethroughPrice", "MSRP", "SRP", "InvoicePrice")
_NESTED_ITEMS = ("@graph", "mainEntity", "hasVariant")
Node = dict[str, Any]


def _types(node: Node) -> set[str]:
    value = node.get("@type")
    names = value if isinstance(value, list) else [value]
    return {_SCHEMA_PREFIX.sub("", name) for name in names if isinstance(name, str)}


def _scalar(value: object) -> str | int | float | None:
    """A property's first plain value (JSON-LD allows lists and {"@value": ...})."""
    if isinstance(value, list):
        return _scalar(value[0]) if value else None
    if isinstance(value, dict):
        return _scalar(value.get("@value"))
    if isinstance(value, str | int | float):
        return value
    return None


def _text(value: object) -> str | None:
    found = _scalar(value)
    if found is None:
        return None
    return str(found).strip() or None


def _price_value(value: object) -> str | int | float:
    found = _scalar(value)
    return "" if found is None else found


def _nodes(document: object) -> Iterator[Node]:
    if isinstance(document, list):
        for item in document:
            yield from _nodes(item)
    elif isinstance(document, dict):
        yield document
        for key in _NESTED_ITEMS:
            if key in document:
                yield from _nodes(document[key])


class _Reader:
    def __init__(self, nodes: list[Node], default_currency: str | None) -> None:
        self.by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
        self.default_currency = default_currency
        self.seen: set[int] = set()

    def resolve(self, value: object) -> list[Node]:
        """The nodes a property holds: inline, in (nested) lists, or named by `@id`."""
        if isinstance(value, list):
            return [node for item in value for node in self.resolve(item)]
        if not isinstance(value, dict):
            return []
        return [self.by_id.get(value["@id"], value) if set(value) == {"@id"} else value]

    def offers(self, offer: Node) -> list[OfferCandidate]:
        if id(offer) in self.seen:
            return []
        self.seen.add(id(offer))
        types = _types(offer)
        seller = self.seller(offer)
        availability = read_availability(_text(offer.get("availability")))
        if "AggregateOffer" in types and offer.get("lowPrice") is None and "offers" in offer:
            return [
                found for inner in self.resolve(offer["offers"]) for found in self.offers(inner)
            ]
        if "AggregateOffer" in types and offer.get("lowPrice") is not None:
            # Its own offers are summed up by lowPrice: not candidates of their own.
            self.seen.update(id(inner) for inner in self.resolve(offer.get("offers")))
            several = _scalar(offer.get("highPrice")) != _scalar(offer.get("lowPrice"))
            prices = [(offer.get("lowPrice"), offer.get("priceCurrency"))]
        elif offer.get("price") is not None:
            several = False
            prices = [(offer.get("price"), offer.get("priceCurrency"))]
        else:
            several = False
            prices = self.specified_prices(offer)
        return [
            read_candidate(
                OfferSource.JSON_LD,
                _price_value(price),
                _text(currency),
                default_currency=self.default_currency,
                structured=True,
                availability=availability,
                seller=seller,
                lowest_of_several=several,
            )
            for price, currency in prices
        ]

    def specified_prices(self, offer: Node) -> list[tuple[object, object]]:
        specs = self.resolve(offer.get("priceSpecification"))
        paid = [
            spec
            for spec in specs
            if not str(_text(spec.get("priceType")) or "").endswith(_NOT_PAID_PRICES)
        ]
        if not paid:
            return [("", offer.get("priceCurrency"))]
        return [
            (spec.get("price"), spec.get("priceCurrency") or offer.get("priceCurrency"))
            for spec in paid
        ]

    def seller(self, offer: Node) -> str | None:
        for key in ("seller", "offeredBy"):
            for party in self.resolve(offer.get(key)):
                name = _text(party.get("name"))
                if name:
                    return name
            if isinstance(offer.get(key), str):
                return _text(offer[key])
        return None


def _blocks(root: Element, findings: SourceFindings) -> Iterator[object]:
    scripts = [
        script
        for script in root.elements()
        if script.tag == "script"
        and (script.get("type") or "").split(";")[0].strip().lower() == "application/ld+json"
    ]
    for number, script in enumerate(scripts, start=1):
        source = _WRAPPING.sub("", script.raw_text.strip())
        try:
            yield json.loads(source, strict=False)
        except ValueError as error:
            findings.notes.append(f"JSON-LD block {number} is not JSON: {error}")


def jsonld_findings(root: Element, *, default_currency: str | None) -> SourceFindings:
    """The offers the page's JSON-LD blocks state."""
    findings = SourceFindings(OfferSource.JSON_LD)
    nodes = [node for block in _blocks(root, findings) for node in _nodes(block)]
    reader = _Reader(nodes, default_currency)
    for node in nodes:
        if "offers" in node:
            findings.title = findings.title or _text(node.get("name"))
            for offer in reader.resolve(node["offers"]):
                findings.candidates.extend(reader.offers(offer))
    for node in nodes:
        if _types(node) & {"Offer", "AggregateOffer"}:
            offered = reader.resolve(node.get("itemOffered"))
            if offered and not findings.title:
                findings.title = _text(offered[0].get("name"))
            findings.candidates.extend(reader.offers(node))
    return findings
