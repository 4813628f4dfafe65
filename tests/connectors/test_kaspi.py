"""The Kaspi feed format on its own: what is written for odd text, how prices round, and
what the check refuses."""

from __future__ import annotations

# Parsing the writer's own output.
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from souk.connectors.kaspi import FeedHeader, KaspiOffer, render_feed, whole_units
from souk.connectors.kaspi_check import FeedCheck, InvalidFeed

HEADER = FeedHeader.of("2031-03-01 09:00", "ACME & Sons", "M-1", ["PP1"])
NS = "{kaspiShopping}"


async def each(offers: list[KaspiOffer]) -> AsyncIterator[KaspiOffer]:
    for offer in offers:
        yield offer


async def document(offers: list[KaspiOffer], header: FeedHeader = HEADER) -> bytes:
    return "".join([piece async for piece in render_feed(header, each(offers))]).encode()


@pytest.mark.parametrize(
    ("price", "whole"),
    [("1299.00", 1299), ("1299.01", 1300), ("1299.99", 1300), ("0.01", 1), ("5", 5)],
)
def test_prices_round_up_to_whole_units(price: str, whole: int) -> None:
    assert whole_units(Decimal(price)) == whole


async def test_text_is_escaped_and_what_xml_cannot_carry_is_dropped() -> None:
    offer = KaspiOffer.of(' "Q" ', "a < b & c > d \x00\x1f\ufffe 'e'", "\x0b", Decimal("1"), 1)
    assert (offer.sku, offer.brand) == ('"Q"', None)
    root = ET.fromstring(await document([offer]))  # noqa: S314 - our own output
    (written,) = root.iter(f"{NS}offer")
    assert written.attrib["sku"] == '"Q"'
    assert written.findtext(f"{NS}model") == "a < b & c > d  'e'"
    assert root.findtext(f"{NS}company") == "ACME & Sons"


async def test_a_document_in_many_pieces_is_one_document() -> None:
    offers = [KaspiOffer.of(f"S-{n:05d}", "x" * 300, "B", Decimal("10"), n % 2) for n in range(600)]
    pieces = [piece async for piece in render_feed(HEADER, each(offers))]
    assert len(pieces) > 2  # about 64 KiB each
    check = FeedCheck(HEADER)
    for offer in offers:
        check.offer(offer)
    for piece in pieces:
        check.feed(piece.encode())
    facts = check.close()
    assert (facts.offers, facts.available) == (600, 300)


def checked(offers: list[KaspiOffer], data: bytes, header: FeedHeader = HEADER) -> None:
    check = FeedCheck(header)
    for offer in offers:
        check.offer(offer)
    check.feed(data)
    check.close()


@pytest.mark.parametrize(
    ("offers", "problem"),
    [
        ([KaspiOffer("A", "m", None, 1, True), KaspiOffer("A", "n", None, 2, True)], "twice"),
        ([KaspiOffer("", "m", None, 1, True)], "no sku"),
        ([KaspiOffer("A", "", None, 1, True)], "no model"),
        ([KaspiOffer("A", "m", None, 0, True)], "not positive"),
    ],
)
async def test_offers_the_marketplace_cannot_take_are_refused(
    offers: list[KaspiOffer], problem: str
) -> None:
    with pytest.raises(InvalidFeed, match=problem):
        checked(offers, await document(offers))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'<kaspi_catalog date="d" xmlns="kaspiShopping"><offers>', "not well-formed"),
        (b'<kaspi_catalog date="d" xmlns="kaspiShopping">&nbsp;</kaspi_catalog>', "not well"),
        (b'<kaspi_catalog date="d"></kaspi_catalog>', "not kaspi_catalog in kaspiShopping"),
        (b'<catalog date="d" xmlns="kaspiShopping"/>', "not kaspi_catalog"),
        (b'<kaspi_catalog xmlns="kaspiShopping"/>', "no date"),
        (b"", "not well-formed"),
    ],
)
def test_bytes_that_are_not_a_kaspi_catalog_are_refused(data: bytes, problem: str) -> None:
    with pytest.raises(InvalidFeed, match=problem):
        checked([], data)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (FeedHeader.of("d", " ", "M", ["PP1"]), "no company"),
        (FeedHeader.of("d", "C", "\x01", ["PP1"]), "no merchant id"),
        (FeedHeader.of("d", "C", "M", []), "no store id"),
    ],
)
def test_a_header_without_the_seller_is_refused(header: FeedHeader, problem: str) -> None:
    with pytest.raises(InvalidFeed, match=problem):
        FeedCheck(header)
