"""The monitor's runs against a fake competitor site and a fake marketplace over real HTTP,
with the real database and the real outbox. The monitor's clock is injected (a run at
`now` picks what is due at `now`); the fetcher's waits move a fake clock, never real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import MonitorSettings
from souk.connectors.fetch import PageFetcher
from souk.db.models import (
    Competitor,
    CompetitorOffer,
    OfferSource,
    OutboxMessage,
    PriceObservation,
    Product,
    StaffRole,
)
from souk.runtime import Runtime
from souk.services.monitoring import MonitorService
from souk.services.offer_checks import OfferChecker
from souk.workers.monitoring import announcer
from tests.conftest import MakeShop, TestShop
from tests.connectors.test_fetch import FakeTime, monitor_settings
from tests.fakes.competitor_site import Answer, CompetitorSite, product_page
from tests.fakes.marketplace_api import FakeMarketplace, Seller

OWNER = 7301
START = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def site() -> AsyncIterator[CompetitorSite]:
    async with CompetitorSite() as fake:
        yield fake


@pytest.fixture
async def market() -> AsyncIterator[FakeMarketplace]:
    async with FakeMarketplace(page_size=2) as fake:
        yield fake


class Monitor:
    """A monitoring service of the test's own settings, fetcher and clock."""

    def __init__(
        self,
        runtime: Runtime,
        session_factory: async_sessionmaker[AsyncSession],
        shop: TestShop,
        settings: MonitorSettings,
    ) -> None:
        self.clock, self.time = Clock(), FakeTime()
        self.fetcher = PageFetcher(settings, clock=self.time.clock, sleep=self.time.sleep)
        self.settings = settings
        self.sessions = session_factory
        self.shop = shop
        self.service = MonitorService(
            session_factory,
            settings,
            OfferChecker(self.fetcher, settings),
            announcer(runtime),
            now=self.clock,
            shop_id=shop.shop_id,  # other tests' offers are due too
        )

    async def product(self, sku: str, price: str) -> int:
        async with self.sessions() as session, session.begin():
            product = Product(
                shop_id=self.shop.shop_id,
                sku=sku,
                title=f"Phone {sku}",
                price=Decimal(price),
                currency="KZT",
                stock=5,
            )
            session.add(product)
            await session.flush()
            return product.id

    async def offer(
        self,
        product_id: int,
        name: str,
        url: str,
        *,
        source: OfferSource = OfferSource.PAGE,
        seller_id: str | None = None,
        ours: bool = False,
    ) -> int:
        async with self.sessions() as session, session.begin():
            competitor = Competitor(
                shop_id=self.shop.shop_id,
                name=name,
                host=None if seller_id else "127.0.0.1",
                marketplace="fakemarket" if seller_id else None,
                seller_id=seller_id,
                is_ours=ours,
            )
            session.add(competitor)
            await session.flush()
            offer = CompetitorOffer(
                shop_id=self.shop.shop_id,
                product_id=product_id,
                competitor_id=competitor.id,
                source=source,
                url=url,
                next_check_at=self.clock.now,
            )
            session.add(offer)
            await session.flush()
            return offer.id

    async def run(self, after: timedelta = timedelta(0)) -> int:
        self.clock.now += after
        return (await self.service.run(time_budget=30)).checked

    async def offers(self, product_id: int) -> dict[str, CompetitorOffer]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Competitor.name, CompetitorOffer)
                .join(CompetitorOffer, CompetitorOffer.competitor_id == Competitor.id)
                .where(CompetitorOffer.product_id == product_id)
            )
            return {name: offer for name, offer in rows}

    async def history(self, offer_id: int) -> list[tuple[Decimal | None, str | None]]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(PriceObservation.price, PriceObservation.problem)
                .where(PriceObservation.offer_id == offer_id)
                .order_by(PriceObservation.id)
            )
            return [(price, problem) for price, problem in rows]

    async def pushes(self) -> list[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.shop_id == self.shop.shop_id,
                    OutboxMessage.kind == "competition",
                )
                .order_by(OutboxMessage.id)
            )
            return [str(row.payload["text"]) for row in rows]

    async def close(self) -> None:
        await self.fetcher.close()


@pytest.fixture
async def monitor(
    runtime: Runtime,
    session_factory: async_sessionmaker[AsyncSession],
    make_shop: MakeShop,
) -> AsyncIterator[Monitor]:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    settings = monitor_settings(
        per_host_delay_seconds=0.0,
        per_host_concurrency=4,
        retries=1,
        tier_minutes={"normal": 60, "fast": 10},
        max_backoff_minutes=240,
        marketplaces={"fakemarket": "http://127.0.0.1:"},
    )
    found = Monitor(runtime, session_factory, shop, settings)
    yield found
    await found.close()


async def test_prices_are_kept_history_stored_and_staff_told_once_per_event(
    monitor: Monitor, site: CompetitorSite
) -> None:
    phone = await monitor.product("PX-1", "1000.00")
    page = f"{site.root_url}/p/a"
    cheap_page = f"{site.root_url}/p/b"
    site.page("/p/a", product_page("Phone", "1050.00", "KZT"))
    site.page("/p/b", product_page("Phone", "1100.00", "KZT"))
    alpha = await monitor.offer(phone, "Alpha", page)
    beta = await monitor.offer(phone, "Beta", cheap_page)

    assert await monitor.run() == 2
    offers = await monitor.offers(phone)
    assert offers["Alpha"].price == Decimal("1050.00") and offers["Alpha"].in_stock is True
    assert offers["Alpha"].next_check_at == START + timedelta(minutes=60)
    assert await monitor.pushes() == []  # nobody is below us, nothing was lower before
    assert await monitor.run() == 0  # nothing is due yet

    # Beta undercuts us; an hour later Alpha goes lower still (a new lowest, and an
    # undercut of its own), then sells out.
    site.page("/p/b", product_page("Phone", "990.00", "KZT"))
    assert await monitor.run(timedelta(minutes=60)) == 2
    site.page("/p/a", product_page("Phone", "980.00", "KZT"))
    site.page("/p/b", product_page("Phone", "985.00", "KZT"))
    await monitor.run(timedelta(minutes=60))
    site.page("/p/a", product_page("Phone", "980.00", "KZT", in_stock=False))
    await monitor.run(timedelta(minutes=60))
    pushes = await monitor.pushes()
    assert pushes == [
        "Beta undercuts <code>PX-1</code> «Phone PX-1»: KZT990.00 against our KZT1,000.00.",
        "Alpha undercuts <code>PX-1</code> «Phone PX-1»: KZT980.00 against our KZT1,000.00.",
        "Alpha is out of stock of <code>PX-1</code> «Phone PX-1».",
    ]
    # Beta's drop from 990 to 985 was neither an undercut anew nor the lowest (Alpha was).
    assert await monitor.history(beta) == [
        (Decimal("1100.00"), None),
        (Decimal("990.00"), None),
        (Decimal("985.00"), None),
        (Decimal("985.00"), None),
    ]
    assert len(await monitor.history(alpha)) == 4


async def test_a_run_told_to_stop_takes_no_pass_and_leaves_the_offers_due(
    monitor: Monitor, site: CompetitorSite
) -> None:
    phone = await monitor.product("PX-9", "1000.00")
    site.page("/p/stop", product_page("Phone", "1050.00", "KZT"))
    await monitor.offer(phone, "Alpha", f"{site.root_url}/p/stop")
    assert (await monitor.service.run(time_budget=30, stop=lambda: True)).checked == 0
    assert await monitor.run() == 1  # still due: the next run checks it


async def test_a_new_lowest_price_above_ours_is_told(
    monitor: Monitor, site: CompetitorSite
) -> None:
    phone = await monitor.product("PX-2", "1000.00")
    site.page("/q/a", product_page("Phone", "1200.00", "KZT"))
    site.page("/q/b", product_page("Phone", "1300.00", "KZT"))
    await monitor.offer(phone, "Gamma", f"{site.root_url}/q/a")
    await monitor.offer(phone, "Delta", f"{site.root_url}/q/b")
    await monitor.run()
    site.page("/q/b", product_page("Phone", "1150.00", "KZT"))
    await monitor.run(timedelta(minutes=60))
    await monitor.run(timedelta(minutes=60))  # the same again: told once
    assert await monitor.pushes() == [
        "New lowest competitor price of <code>PX-2</code> «Phone PX-2»: KZT1,150.00 at "
        "Delta (was KZT1,200.00; ours KZT1,000.00)."
    ]


async def test_bad_answers_keep_the_last_good_price_and_back_off(
    monitor: Monitor, site: CompetitorSite
) -> None:
    phone = await monitor.product("PX-3", "1000.00")
    paths = ["/r/blocked", "/r/noprice", "/r/usd", "/r/zero", "/r/absurd", "/r/slow"]
    for path in paths:
        site.page(path, product_page("Phone", "950.00", "KZT"))
    # The host refusing us is another host (the breaker is per host).
    address = {path: site.root_url + path for path in paths}
    address["/r/blocked"] = address["/r/blocked"].replace("127.0.0.1", "localhost")
    ids = {path: await monitor.offer(phone, path, address[path]) for path in paths}
    await monitor.run()
    told = len(await monitor.pushes())
    assert told == len(paths)  # they all undercut us at 950

    site.answer("/r/blocked", Answer(status=429, headers={"Retry-After": "18000"}))
    site.page("/r/noprice", "<html><head><title>Phone</title></head><body>Call us</body></html>")
    site.page("/r/usd", product_page("Phone", "9.50", "USD"))
    site.page("/r/zero", product_page("Phone", "0", "KZT"))
    site.page("/r/absurd", product_page("Phone", "95000.00", "KZT"))
    site.answer("/r/slow", Answer(body=product_page("Phone", "940.00", "KZT"), delay=5))
    await monitor.run(timedelta(minutes=60))
    offers = await monitor.offers(phone)
    expected = {
        "/r/blocked": ("blocked", START + timedelta(minutes=60, hours=5)),
        "/r/noprice": ("no_price", START + timedelta(minutes=60 + 120)),
        "/r/usd": ("other_currency", START + timedelta(minutes=120)),
        "/r/zero": ("out_of_band", START + timedelta(minutes=120)),
        "/r/absurd": ("out_of_band", START + timedelta(minutes=120)),
        "/r/slow": ("timeout", START + timedelta(minutes=60 + 120)),
    }
    for path, (problem, next_check) in expected.items():
        offer = offers[path]
        assert (offer.problem, offer.next_check_at) == (problem, next_check), path
        assert offer.price == Decimal("950.00"), path  # the last good price is kept
    assert await monitor.history(ids["/r/usd"]) == [
        (Decimal("950.00"), None),
        (Decimal("9.50"), "other_currency"),
    ]
    assert await monitor.history(ids["/r/blocked"]) == [
        (Decimal("950.00"), None),
        (None, "blocked"),
    ]
    ignored = (await monitor.pushes())[told:]
    assert ignored == [
        "A price of /r/usd for <code>PX-3</code> «Phone PX-3» was ignored: $9.50 · "
        "in stock · the price is in another currency (ours KZT1,000.00).",
        "A price of /r/zero for <code>PX-3</code> «Phone PX-3» was ignored: KZT0.00 · "
        "in stock · the price is implausibly far from ours; ignored (ours KZT1,000.00).",
        "A price of /r/absurd for <code>PX-3</code> «Phone PX-3» was ignored: KZT95,000.00"
        " · in stock · the price is implausibly far from ours; ignored (ours KZT1,000.00).",
    ]

    # A failing offer backs off further with each failure (up to MONITOR_MAX_BACKOFF_MINUTES);
    # the refusing host is not asked until its Retry-After has passed.
    hits = site.hits("/r/noprice"), site.hits("/r/blocked")
    await monitor.run(timedelta(minutes=120))
    assert (site.hits("/r/noprice"), site.hits("/r/blocked")) == (hits[0] + 1, hits[1])
    offers = await monitor.offers(phone)
    assert offers["/r/noprice"].failures == 2
    assert offers["/r/noprice"].next_check_at == START + timedelta(minutes=180 + 240)


async def test_a_marketplace_list_is_read_once_for_all_its_sellers(
    monitor: Monitor, market: FakeMarketplace
) -> None:
    phone = await monitor.product("PX-4", "1000.00")
    market.set_offers(
        "px4",
        [
            Seller("s1", "Gadget House", "1010.00"),
            Seller("s2", "Our store", "990.00"),
            Seller("s3", "Cheap Co", "995.00", rating=3.9, delivery="in 3 days"),
        ],
    )
    url = market.url("px4")
    await monitor.offer(phone, "Gadget House", url, source=OfferSource.MARKETPLACE, seller_id="s1")
    await monitor.offer(
        phone, "Our store", url, source=OfferSource.MARKETPLACE, seller_id="s2", ours=True
    )
    assert await monitor.run() == 3  # the two watched sellers and a new one
    assert len(market.paths) == 2  # two pages of one list, once
    offers = await monitor.offers(phone)
    assert offers["Our store"].price == Decimal("990.00")
    # A seller the list shows that was not watched becomes a competitor with its offer.
    new = offers["Cheap Co"]
    assert (new.price, new.source, new.rating, new.delivery) == (
        Decimal("995.00"),
        OfferSource.MARKETPLACE,
        Decimal("3.90"),
        "in 3 days",
    )
    # Our own store below our price is no undercut; Cheap Co is.
    assert [text.split(" undercuts")[0] for text in await monitor.pushes()] == ["Cheap Co"]

    market.set_offers("px4", [Seller("s1", "Gadget House", "1010.00", in_stock=False)])
    await monitor.run(timedelta(minutes=60))
    offers = await monitor.offers(phone)
    assert offers["Cheap Co"].problem == "not_listed" and offers["Cheap Co"].in_stock is False
    assert offers["Gadget House"].in_stock is False
    # A seller no longer listed is out of stock too (our own store is never told about).
    assert (await monitor.pushes())[-2:] == [
        "Gadget House is out of stock of <code>PX-4</code> «Phone PX-4».",
        "Cheap Co is out of stock of <code>PX-4</code> «Phone PX-4».",
    ]

    market.fail("px4", 429)
    await monitor.run(timedelta(minutes=60))
    offers = await monitor.offers(phone)
    assert {offer.problem for offer in offers.values()} == {"blocked"}
    assert offers["Gadget House"].price == Decimal("1010.00")


async def test_two_monitors_never_check_one_offer_twice(
    monitor: Monitor,
    site: CompetitorSite,
    runtime: Runtime,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    phone = await monitor.product("PX-5", "1000.00")
    for number in range(12):
        await monitor.offer(phone, f"Shop {number}", f"{site.root_url}/product/{number}")
    other = Monitor(runtime, session_factory, monitor.shop, monitor.settings)
    other.clock.now = monitor.clock.now
    try:
        first, second = await asyncio.gather(monitor.run(), other.run())
    finally:
        await other.close()
    assert first + second == 12
    assert sorted(r.path for r in site.requests) == sorted(f"/product/{n}" for n in range(12))
