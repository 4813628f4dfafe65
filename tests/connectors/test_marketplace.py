"""A marketplace's offer list read through the polite fetcher from a fake offers API over
real HTTP: every page followed, each seller's price read with its currency, an odd row
kept with its problem, an answer that is no list refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from souk.connectors.fetch import FetchError, FetchProblem, PageFetcher
from souk.connectors.marketplace import (
    OfferList,
    SellerOffer,
    UnreadableList,
    fetch_offer_list,
    read_offer_list,
)
from souk.connectors.prices import ParsedPrice
from tests.connectors.test_fetch import FakeTime, monitor_settings
from tests.fakes.marketplace_api import FakeMarketplace, Seller


@pytest.fixture
async def market() -> AsyncIterator[FakeMarketplace]:
    async with FakeMarketplace(page_size=2) as fake:
        yield fake


@pytest.fixture
async def fetcher() -> AsyncIterator[PageFetcher]:
    time = FakeTime()
    made = PageFetcher(monitor_settings(), clock=time.clock, sleep=time.sleep)
    yield made
    await made.close()


async def test_every_page_of_sellers_is_read(market: FakeMarketplace, fetcher: PageFetcher) -> None:
    market.set_offers(
        "tv",
        [
            Seller("a", "Alpha", "1 299 000,00", rating=4.9, delivery="today"),
            Seller("b", "Beta", 1250000, currency=None, rating=None, in_stock=False),
            Seller("c", "Gamma", "cheap", rating=12),
            Seller("a", "Alpha again", "1.00"),  # a seller repeated on a later page
            Seller("d", "Delta", "999.99", currency="usd", delivery=None),
        ],
    )
    found = await fetch_offer_list(fetcher, market.url("tv"), default_currency="KZT")
    assert market.paths == ["/offers/tv", "/offers/tv?page=2", "/offers/tv?page=3"]
    assert found == OfferList(
        "Product tv",
        (
            SellerOffer(
                "a",
                "Alpha",
                ParsedPrice(Decimal("1299000.00"), "KZT"),
                True,
                Decimal("4.90"),
                "today",
            ),
            SellerOffer(
                "b", "Beta", ParsedPrice(Decimal("1250000.00"), "KZT"), False, None, "tomorrow"
            ),
            SellerOffer("c", "Gamma", None, True, None, "tomorrow", "no_amount"),
            SellerOffer("d", "Delta", ParsedPrice(Decimal("999.99"), "USD"), True, Decimal("4.50")),
        ),
    )


async def test_refusals_and_failures_are_said_not_guessed(
    market: FakeMarketplace, fetcher: PageFetcher
) -> None:
    with pytest.raises(FetchError) as missing:
        await fetch_offer_list(fetcher, market.url("none"))
    assert missing.value.problem is FetchProblem.HTTP_ERROR
    market.set_offers("tv", [Seller("a", "Alpha", "10")])
    market.fail("tv", 429)
    with pytest.raises(FetchError) as blocked:
        await fetch_offer_list(fetcher, market.url("tv"))
    assert blocked.value.problem is FetchProblem.BLOCKED
    for body in ("<html>offers</html>", '{"offers": {}}', '{"offers": [{"price": 1}]}', "[]"):
        with pytest.raises(UnreadableList):
            read_offer_list(body)
