"""Competitor commands of staff through the webhook, against a fake competitor site and a
fake marketplace over real HTTP: /watch (checked at once, idempotent, bad input refused
with nothing stored), a file captioned /watch (applied whole or not at all), /unwatch,
/competitor ... exclude|include|ours and /competitors (table, chart job for a worker)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import Settings
from souk.db.models import Competitor, CompetitorOffer, OfferSource, OutboxMessage, StaffRole
from souk.workers.app import COMPETITORS_CHART_TASK, REPRICE_TASK
from tests.channels.test_catalog import stock_shop
from tests.channels.test_staff_import import StaffChat
from tests.channels.test_staff_reports import report_jobs
from tests.channels.webhook_client import settled
from tests.conftest import MakeShop
from tests.fakes.competitor_site import CompetitorSite, product_page
from tests.fakes.marketplace_api import FakeMarketplace, Seller
from tests.fakes.telegram_api import FakeBotAPI, RecordedCall
from tests.fixtures.catalog_files import csv_bytes, document_message

MANAGER = 7401
_file_ids = itertools.count(1)


@pytest.fixture
async def site() -> AsyncIterator[CompetitorSite]:
    async with CompetitorSite() as fake:
        yield fake


@pytest.fixture
def reachable(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fakes listen on 127.0.0.1, which the fetcher refuses unless allowed."""
    monkeypatch.setattr(settings.monitor, "allow_private_addresses", True)


class Staff(StaffChat):
    async def send_watch_file(self, data: bytes, name: str) -> RecordedCall:
        file_id = f"BQACAgIAAxkBAAIwatch{next(_file_ids)}"
        self.api.add_file(file_id, data)
        texts = len(self.calls("sendMessage"))
        update = document_message(self.user, file_id=file_id, file_name=name, file_size=len(data))
        update["message"]["caption"] = "/watch"
        await self.post(update)
        await self.api.wait_for(lambda _: len(self.calls("sendMessage")) > texts)
        return self.calls("sendMessage")[-1]

    async def text(self, command: str) -> str:
        return str((await self.say(command)).params["text"])


async def offers(
    session_factory: async_sessionmaker[AsyncSession], chat: StaffChat
) -> dict[tuple[int, str], CompetitorOffer]:
    """The shop's offers by product and competitor name, once every update is processed."""
    await settled(session_factory, chat.shop, chat.updates)
    async with session_factory() as session:
        rows = await session.execute(
            select(Competitor.name, CompetitorOffer)
            .join(CompetitorOffer, CompetitorOffer.competitor_id == Competitor.id)
            .where(CompetitorOffer.shop_id == chat.shop.shop_id)
        )
        return {(offer.product_id, name): offer for name, offer in rows}


async def competitor(
    session_factory: async_sessionmaker[AsyncSession], chat: StaffChat, name: str
) -> Competitor:
    """The shop's competitor `name`, once every update is processed."""
    shop = chat.shop
    await settled(session_factory, shop, chat.updates)
    async with session_factory() as session:
        found = await session.scalar(
            select(Competitor).where(Competitor.shop_id == shop.shop_id, Competitor.name == name)
        )
        assert found is not None
        return found


async def test_watch_checks_at_once_and_links_a_page_once(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    redis: Redis,
    site: CompetitorSite,
    reachable: None,
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    staff = Staff(http, server, shop, fake_api, user=MANAGER)
    site.page("/p/1", product_page("Phone 1", "195.00", "USD"))
    page = f"{site.root_url}/p/1"

    assert (await staff.text("/watch PH-1")).startswith("Write the SKU and the competitor's page")
    assert (await staff.text(f"/watch PZ-1 {page}")).startswith("No product has the SKU “PZ-1”.")
    assert await staff.text("/watch PH-1 shop.example/p/1") == (
        "“shop.example/p/1” is not a web address (http:// or https://)."
    )
    assert await staff.text(f"/watch PH-1 {page}") == (
        "PH-1 now watches this page. First check:\n127.0.0.1: $195.00 · in stock"
    )
    assert await staff.text(f"/watch ph-1 {page}") == (
        "PH-1 already watches this address:\n127.0.0.1: $195.00 · in stock"
    )
    assert site.hits("/p/1") == 1
    assert await staff.text(f"/watch PH-2 {site.root_url}/nothing") == (
        "PH-2 now watches this page. First check:\n127.0.0.1: the page is not there (4xx)"
    )
    found = await offers(session_factory, staff)
    assert len(found) == 2
    linked = found[(ids["PH-1"], "127.0.0.1")]
    assert (linked.price, linked.currency, linked.source) == (
        Decimal("195.00"),
        "USD",
        OfferSource.PAGE,
    )
    assert linked.added_by_telegram_id == MANAGER
    assert found[(ids["PH-2"], "127.0.0.1")].problem == "http_error"

    # The first check saw an undercut (195 against our 200.90): staff are told, once.
    async with session_factory() as session:
        pushes = list(
            await session.scalars(
                select(OutboxMessage.payload).where(
                    OutboxMessage.shop_id == shop.shop_id, OutboxMessage.kind == "competition"
                )
            )
        )
    assert [push["text"] for push in pushes] == [
        "127.0.0.1 undercuts <code>PH-1</code> «Phone 1»: $195.00 against our $200.90."
    ]
    # ... and each /watch that changed a product's competitors has its repricing rules
    # run by a worker once committed (not the one that found PH-1 already watched).
    repricings = await report_jobs(redis, REPRICE_TASK)
    assert sorted(repricings, key=lambda job: job["product_ids"]) == [
        {"shop_id": shop.shop_id, "product_ids": [ids["PH-1"]]},
        {"shop_id": shop.shop_id, "product_ids": [ids["PH-2"]]},
    ]

    table = await staff.text("/competitors PH-1")
    assert table.splitlines()[0] == "Competitors of <code>PH-1</code> (ours $200.90):"
    assert table.splitlines()[1].startswith("<b>127.0.0.1</b> · $195.00 · in stock · checked ")
    (job,) = await report_jobs(redis, COMPETITORS_CHART_TASK)
    assert job == {
        "shop_id": shop.shop_id,
        "product_id": ids["PH-1"],
        "bot_id": shop.bot_id,
        "chat_id": MANAGER,
        "language": "en",
    }
    assert (await staff.text("/competitors CS-1")).endswith(
        "None watched. Link one: /watch CS-1 URL"
    )
    assert await report_jobs(redis, COMPETITORS_CHART_TASK) == []  # nothing to draw

    assert await staff.text("/competitor 127.0.0.1 exclude") == (
        "127.0.0.1 is excluded: its prices no longer count."
    )
    assert (await competitor(session_factory, staff, "127.0.0.1")).is_excluded
    assert "(excluded)" in await staff.text("/competitors PH-1")
    assert await staff.text("/competitor 127.0.0.1 include") == (
        "127.0.0.1 counts as a competitor again."
    )
    assert await staff.text("/competitor Nobody ours") == "No competitor is named “Nobody”."
    assert (await staff.text("/competitor 127.0.0.1 maybe")).startswith("Write the competitor's")

    assert await staff.text(f"/unwatch PH-1 {page}") == (
        "PH-1: offers no longer watched: 1 (their history is kept)."
    )
    assert await staff.text(f"/unwatch PH-1 {page}") == f"PH-1 watches nothing at “{page}”."
    assert not (await offers(session_factory, staff))[(ids["PH-1"], "127.0.0.1")].is_active
    # Watching it again makes the same offer active again, with its history.
    assert (await staff.text(f"/watch PH-1 {page}")).startswith("PH-1 now watches this page.")
    assert len(await offers(session_factory, staff)) == 2


async def test_a_private_address_is_refused_and_nothing_stored(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    site: CompetitorSite,
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    staff = Staff(http, server, shop, fake_api, user=MANAGER)
    site.page("/p/1", product_page("Phone 1", "195.00", "USD"))
    for url in (f"{site.root_url}/p/1", "http://10.1.2.3/p/1", "http://localhost/admin"):
        assert await staff.text(f"/watch PH-1 {url}") == (
            "Not watched: the address is not a public web page."
        ), url
    assert site.requests == []
    assert await offers(session_factory, staff) == {}


async def test_a_marketplace_list_links_every_seller(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    reachable: None,
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    staff = Staff(http, server, shop, fake_api, user=MANAGER)
    async with FakeMarketplace(page_size=2) as market:
        monkeypatch.setattr(settings.monitor, "marketplaces", {"fakemarket": market.url("")})
        market.set_offers(
            "ph3",
            [
                Seller("m-1", "Gadget House", "210.00", currency="USD", rating=4.8),
                Seller("m-2", "Our store", "202.90", currency="USD"),
                Seller("m-3", "Far Away", "180.00", currency="EUR"),
            ],
        )
        assert await staff.text(f"/watch PH-3 {market.url('ph3')}") == (
            "PH-3 now watches every seller of this fakemarket list:\n"
            "Gadget House: $210.00 · in stock\n"
            "Our store: $202.90 · in stock\n"
            "Far Away: €180.00 · in stock · the price is in another currency"
        )
        assert await staff.text(f"/watch PH-4 {market.url('gone')}") == (
            "Not watched: the page is not there (4xx)."
        )
    assert await staff.text("/competitor Our store ours") == (
        "Our store is marked as our own store: its prices do not count."
    )
    found = await offers(session_factory, staff)
    assert {name for _, name in found} == {"Gadget House", "Our store", "Far Away"}
    assert all(offer.source is OfferSource.MARKETPLACE for offer in found.values())
    ours = await competitor(session_factory, staff, "Our store")
    assert (ours.is_ours, ours.marketplace, ours.seller_id) == (True, "fakemarket", "m-2")
    house = found[(ids["PH-3"], "Gadget House")]
    assert (house.price, house.rating) == (Decimal("210.00"), Decimal("4.80"))
    assert found[(ids["PH-3"], "Far Away")].price is None

    # How often PH-3's offers are checked: a tier of MONITOR_TIER_MINUTES.
    tiers = "fast (every 60 min), normal (every 360 min), slow (every 1440 min)"
    before = datetime.now(UTC)
    assert await staff.text("/watch_tier PH-3 FAST") == (
        "PH-3: its offers (3) are checked every 60 min from now on."
    )
    tiered = await offers(session_factory, staff)
    assert {offer.tier for offer in tiered.values()} == {"fast"}
    assert all(
        offer.next_check_at is not None
        and offer.next_check_at <= datetime.now(UTC) + timedelta(minutes=60)
        and offer.next_check_at >= min(before + timedelta(minutes=60), found[key].next_check_at)
        for key, offer in tiered.items()
    )
    for command, answer in (
        ("/watch_tier PH-3 hourly", f"“hourly” is not a tier. Tiers: {tiers}."),
        ("/watch_tier PH-4 slow", "PH-4 watches no offer yet: /watch PH-4 URL"),
        ("/watch_tier PH-3", f"Write the SKU and how often to check it: "
                             f"/watch_tier PH-1 TIER. Tiers: {tiers}."),
    ):  # fmt: skip
        assert await staff.text(command) == answer, command
    assert (await staff.text("/watch_tier NOPE-1 fast")).startswith("No product")
    assert {o.tier for o in (await offers(session_factory, staff)).values()} == {"fast"}


async def test_a_file_is_applied_whole_or_not_at_all(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    staff = Staff(http, server, shop, fake_api, user=MANAGER)
    bad = csv_bytes(
        [
            ["sku", "competitor", "url"],
            ["PH-1", "Alpha", "https://alpha.example/p/1"],
            ["ZZ-1", "Alpha", "https://alpha.example/p/2"],
            ["PH-2", "", "ftp://beta.example/p/2"],
            ["PH-1", "alpha", "https://alpha.example/p/1"],
        ]
    )
    assert (await staff.send_watch_file(bad, "offers.csv")).params["text"] == (
        "Nothing was applied: 4 problems.\n"
        "Row 3, sku: no product has the SKU “ZZ-1”\n"
        "Row 4, competitor: empty; a value is needed\n"
        "Row 4, url: “ftp://beta.example/p/2” is not a web address\n"
        "Row 5: the same as row 2"
    )
    assert await offers(session_factory, staff) == {}
    assert (await staff.send_watch_file(b"sku,title\nPH-1,x\n", "x.csv")).params["text"] == (
        "The file has no “competitor” column."
    )

    good = csv_bytes(
        [
            ["sku", "competitor", "url"],
            ["PH-1", "Alpha", "https://alpha.example/p/1"],
            ["PH-2", "Beta", "https://www.beta.example/p/2"],
        ]
    )
    applied = await staff.send_watch_file(good, "offers.csv")
    assert applied.params["text"].startswith("Applied 2 rows: 2 offers stored, 0 already watched.")
    again = await staff.send_watch_file(good, "offers.csv")
    assert again.params["text"].startswith("Applied 2 rows: 0 offers stored, 2 already watched.")
    found = await offers(session_factory, staff)
    assert {key: offer.url for key, offer in found.items()} == {
        (ids["PH-1"], "Alpha"): "https://alpha.example/p/1",
        (ids["PH-2"], "Beta"): "https://www.beta.example/p/2",
    }
    assert (await competitor(session_factory, staff, "Beta")).host == "beta.example"

    prices = csv_bytes(
        [
            ["sku", "competitor", "price", "in_stock"],
            ["PH-1", "Bazaar stall", "$189.90", "yes"],
            ["PH-2", "Alpha", "5 USD", "no"],
        ]
    )
    applied = await staff.send_watch_file(prices, "prices.csv")
    assert applied.params["text"].startswith("Applied 2 rows: 2 offers stored")
    found = await offers(session_factory, staff)
    stall = found[(ids["PH-1"], "Bazaar stall")]
    assert (stall.source, stall.price, stall.in_stock) == (
        OfferSource.FILE,
        Decimal("189.90"),
        True,
    )
    # 5 USD against our 201.90 is out of the sanity band: recorded, not kept.
    alpha_file = [o for o in found.values() if o.source is OfferSource.FILE and o.price is None]
    assert [o.problem for o in alpha_file] == ["out_of_band"]
