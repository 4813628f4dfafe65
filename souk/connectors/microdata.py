"""Offers stated in attributes: schema.org microdata (`itemscope`/`itemprop`, values from
`content`, `href` or text) and OpenGraph product meta (`product:price:amount`)."""

from __future__ import annotations

from souk.connectors.candidates import (
    OfferCandidate,
    OfferSource,
    SourceFindings,
    read_availability,
    read_candidate,
)
from souk.connectors.html_tree import Element

_OFFER_TYPES = frozenset({"Offer", "AggregateOffer"})
_NOT_PAID_PRICES = ("ListPrice", "StrikethroughPrice", "MSRP", "SRP", "InvoicePrice")
Properties = dict[str, list[Element]]


def _item_types(element: Element) -> set[str]:
    return {url.rstrip("/").rsplit("/", 1)[-1] for url in (element.get("itemtype") or "").split()}


def _properties(scope: Element, *, across_items: bool = False) -> Properties:
    """The properties of the item `scope` (not those of items nested in it)."""
    found: Properties = {}
    stack = list(reversed([child for child in scope.children if isinstance(child, Element)]))
    while stack:
        element = stack.pop()
        for name in (element.get("itemprop") or "").split():
            found.setdefault(name, []).append(element)
        if across_items or "itemscope" not in element.attrs:
            children = [child for child in element.children if isinstance(child, Element)]
            stack.extend(reversed(children))
    return found


def _value(element: Element) -> tuple[str, bool]:
    """A property's value and whether it is machine-readable (an attribute, not text)."""
    for tags, attribute in (
        ({"meta"}, "content"),
        ({"a", "link", "area"}, "href"),
        ({"data", "meter"}, "value"),
        ({"time"}, "datetime"),
    ):
        if element.tag in tags and element.get(attribute) is not None:
            return element.get(attribute) or "", True
    content = element.get("content")
    if content is not None:
        return content, True
    return element.text, False


def _first(properties: Properties, name: str) -> str | None:
    elements = properties.get(name)
    if not elements:
        return None
    return _value(elements[0])[0].strip() or None


def _name(elements: list[Element] | None) -> str | None:
    if not elements:
        return None
    element = elements[0]
    if "itemscope" in element.attrs:
        return _first(_properties(element), "name")
    return element.text or None


def _price_elements(scope: Element, properties: Properties) -> tuple[list[Element], Properties]:
    """The elements holding the offer's price and the properties stating its currency."""
    if "AggregateOffer" in _item_types(scope) and "lowPrice" in properties:
        return properties["lowPrice"], properties
    if "price" in properties:
        return properties["price"], properties
    for spec in properties.get("priceSpecification", []):
        spec_properties = _properties(spec)
        if not (_first(spec_properties, "priceType") or "").endswith(_NOT_PAID_PRICES):
            currency = spec_properties if "priceCurrency" in spec_properties else properties
            return spec_properties.get("price", []), currency
    return [], properties


def _offer_candidates(
    scope: Element, default_currency: str | None, *, across_items: bool = False
) -> list[OfferCandidate]:
    properties = _properties(scope, across_items=across_items)
    prices, currency_properties = _price_elements(scope, properties)
    lowest = "AggregateOffer" in _item_types(scope) and "lowPrice" in properties
    candidates = []
    for element in prices:
        value, structured = _value(element)
        candidates.append(
            read_candidate(
                OfferSource.MICRODATA,
                value,
                _first(currency_properties, "priceCurrency"),
                default_currency=default_currency,
                structured=structured,
                availability=read_availability(_first(properties, "availability")),
                seller=_name(properties.get("seller")),
                lowest_of_several=lowest and _first(properties, "highPrice") != value,
            )
        )
    return candidates


def microdata_findings(root: Element, *, default_currency: str | None) -> SourceFindings:
    """The offers the page's microdata states: its Offer and AggregateOffer items, a
    Product item's own price, else any `itemprop=price` at all (markup without items)."""
    findings = SourceFindings(OfferSource.MICRODATA)
    items = [element for element in root.elements() if "itemscope" in element.attrs]
    products = [item for item in items if "Product" in _item_types(item)]
    for product in products:
        findings.title = findings.title or _first(_properties(product), "name")
    summed_up = {
        id(inner)
        for item in items
        if "AggregateOffer" in _item_types(item) and "lowPrice" in _properties(item)
        for inner in item.elements()
    }
    scopes = [item for item in items if _item_types(item) & _OFFER_TYPES]
    scopes += [product for product in products if "price" in _properties(product)]
    if not scopes:
        if "price" in _properties(root, across_items=True):
            findings.candidates.extend(_offer_candidates(root, default_currency, across_items=True))
        return findings
    for scope in scopes:
        if id(scope) not in summed_up:
            findings.candidates.extend(_offer_candidates(scope, default_currency))
    return findings


_AMOUNT_KEYS = (
    ("product:sale_price:amount", "product:sale_price:currency"),
    ("product:price:amount", "product:price:currency"),
    ("og:price:amount", "og:price:currency"),
)


def opengraph_findings(root: Element, *, default_currency: str | None) -> SourceFindings:
    """The offer OpenGraph product meta states; a sale price, when given, is the price."""
    findings = SourceFindings(OfferSource.OPENGRAPH)
    meta: dict[str, list[str]] = {}
    for element in root.elements():
        key = element.get("property") or element.get("name")
        if element.tag == "meta" and key and element.get("content") is not None:
            meta.setdefault(key.strip().lower(), []).append(element.get("content") or "")
    findings.title = next(iter(meta.get("og:title", [])), "").strip() or None
    availability = read_availability(
        next(iter(meta.get("product:availability", meta.get("og:availability", []))), None)
    )
    for amount_key, currency_key in _AMOUNT_KEYS:
        if amount_key not in meta:
            continue
        currencies = meta.get(currency_key) or meta.get("product:price:currency") or []
        findings.candidates.extend(
            read_candidate(
                OfferSource.OPENGRAPH,
                amount,
                currencies[0] if currencies else None,
                default_currency=default_currency,
                structured=True,
                availability=availability,
            )
            for amount in meta[amount_key]
        )
        break
    return findings
