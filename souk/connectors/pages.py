"""The offer on a competitor's product page: price with its currency, availability, title and
seller, read from every source the page has, or the reason it cannot be read.

Sources, in order: schema.org JSON-LD, microdata, OpenGraph product meta, then the CSS
selectors staff set for the competitor's host (`SelectorSet`). Every source is read and
they must agree:

- Within a source, offers in stock count before the others (a size that is sold out does
  not make the page ambiguous); the prices left must be one price.
- Across sources, every price read must be the same amount in the same currency; the
  first source's offer is returned, with the first availability and seller any agreeing
  source states.
- Sources disagreeing, or one source stating two prices, is `CONFLICTING_PRICES`; prices
  found but none readable is `UNPARSEABLE_PRICE`; nothing at all is `NO_PRICE`. Nothing
  is guessed. A price in another currency than the shop's is returned as it is: the
  caller decides.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from souk.connectors.candidates import (
    Availability,
    OfferCandidate,
    OfferSource,
    SourceFindings,
    read_availability,
    read_candidate,
)
from souk.connectors.css import compile_selector
from souk.connectors.html_tree import Element, parse_html
from souk.connectors.jsonld import jsonld_findings
from souk.connectors.microdata import microdata_findings, opengraph_findings
from souk.connectors.prices import ParsedPrice


@dataclass(frozen=True)
class SelectorSet:
    """Where a competitor's pages show the price, and optionally its currency and
    availability, as CSS selectors (see `css.py` for what is supported). An element's
    `content` attribute, when it has one, is read instead of its text."""

    price: str
    currency: str | None = None
    availability: str | None = None

    def __post_init__(self) -> None:
        # Refused when set, not when a page is read weeks later.
        for selector in (self.price, self.currency, self.availability):
            if selector is not None:
                compile_selector(selector)


class PageProblem(enum.StrEnum):
    NO_PRICE = "no_price"
    UNPARSEABLE_PRICE = "unparseable_price"
    CONFLICTING_PRICES = "conflicting_prices"


@dataclass(frozen=True)
class PageOffer:
    """The offer a page states. `lowest_of_several` marks an AggregateOffer's lowPrice;
    `notes` say what was skipped on the way (for logs)."""

    price: ParsedPrice
    availability: Availability
    title: str | None
    seller: str | None
    source: OfferSource
    lowest_of_several: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnparseablePage:
    """Why a page gives no offer; `found` holds every price candidate the sources had."""

    problem: PageProblem
    found: tuple[OfferCandidate, ...]
    title: str | None
    notes: tuple[str, ...] = ()


def _element_value(element: Element) -> tuple[str, bool]:
    content = element.get("content")
    return (content, True) if content is not None else (element.text, False)


def selector_findings(
    root: Element, selectors: SelectorSet, *, default_currency: str | None
) -> SourceFindings:
    """The offer a competitor's selector set points at."""
    findings = SourceFindings(OfferSource.SELECTORS)
    values: dict[str, str | None] = {}
    for field, selector in (
        ("currency", selectors.currency),
        ("availability", selectors.availability),
    ):
        if selector is None:
            continue
        matched = compile_selector(selector).select(root)
        values[field] = _element_value(matched[0])[0] if matched else None
        if not matched:
            findings.notes.append(f"selectors: {field} selector {selector!r} matched nothing")
    prices = compile_selector(selectors.price).select(root)
    if not prices:
        findings.notes.append(f"selectors: price selector {selectors.price!r} matched nothing")
    availability = read_availability(values.get("availability"))
    for element in prices:
        value, structured = _element_value(element)
        findings.candidates.append(
            read_candidate(
                OfferSource.SELECTORS,
                value,
                values.get("currency"),
                default_currency=default_currency,
                structured=structured,
                availability=availability,
            )
        )
    return findings


def _counted(findings: SourceFindings) -> list[OfferCandidate]:
    """The candidates of a source that count: those read, in stock first."""
    read = [candidate for candidate in findings.candidates if candidate.price is not None]
    in_stock = [c for c in read if c.availability is Availability.IN_STOCK]
    return in_stock or read


def _page_title(root: Element, sources: list[SourceFindings]) -> str | None:
    """The first title a source gives, else the page's first h1, else its <title>."""
    for findings in sources:
        if findings.title:
            return findings.title
    for tag in ("h1", "title"):
        element = next((el for el in root.elements() if el.tag == tag), None)
        if element is not None and element.text:
            return element.text
    return None


def _notes(sources: list[SourceFindings]) -> tuple[str, ...]:
    notes = [note for findings in sources for note in findings.notes]
    notes += [
        f"{c.source.value}: price {c.raw!r} not read ({c.problem.value})"
        for findings in sources
        for c in findings.candidates
        if c.problem is not None
    ]
    return tuple(notes)


def extract_offer(
    html: str,
    *,
    selectors: SelectorSet | None = None,
    default_currency: str | None = None,
) -> PageOffer | UnparseablePage:
    """Read the offer of a product page by the module's rules.

    `default_currency` is assumed where a source states a price without any currency
    (the competitor's usual one, when the caller knows it).
    """
    root = parse_html(html)
    sources = [
        jsonld_findings(root, default_currency=default_currency),
        microdata_findings(root, default_currency=default_currency),
        opengraph_findings(root, default_currency=default_currency),
    ]
    if selectors is not None:
        sources.append(selector_findings(root, selectors, default_currency=default_currency))
    title, notes = _page_title(root, sources), _notes(sources)
    counted = [candidate for findings in sources for candidate in _counted(findings)]
    prices = {(c.price.amount, c.price.currency) for c in counted if c.price is not None}
    if len(prices) > 1:
        return UnparseablePage(PageProblem.CONFLICTING_PRICES, tuple(counted), title, notes)
    if not counted:
        found = tuple(candidate for findings in sources for candidate in findings.candidates)
        problem = PageProblem.UNPARSEABLE_PRICE if found else PageProblem.NO_PRICE
        return UnparseablePage(problem, found, title, notes)
    first = counted[0]
    assert first.price is not None
    known = [c.availability for c in counted if c.availability is not Availability.UNKNOWN]
    return PageOffer(
        price=first.price,
        availability=known[0] if known else Availability.UNKNOWN,
        title=title,
        seller=next((c.seller for c in counted if c.seller), None),
        source=first.source,
        lowest_of_several=first.lowest_of_several,
        notes=notes,
    )
