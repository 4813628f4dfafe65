"""Catalog sync with a fake Shopify over real HTTP, both ways: the first sync, an
incremental one, an unchanged re-sync, souk's changes pushed back, a conflict left
alone, a run that fails halfway resumed without duplicates, the cost throttle honoured,
and bad input (no SKU, negative inventory, a wrong token). Sleeps of the connector are
recorded and move the fake's clock: nothing here waits for time to pass."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import SyncSettings
from souk.connectors.shopify import ShopifyConnector
from souk.connectors.store import StoreConnector
from souk.db.models import (
    PriceChange,
    PriceSource,
    Product,
    StockMovement,
    StockReason,
    SyncKind,
    SyncLink,
    SyncSource,
)
from souk.services.products import ProductAdmin
from souk.services.sync import CatalogSync
from souk.services.sync_report import SyncProblem, SyncReport
from souk.services.sync_sources import StoreAccess, SyncSources, open_connector
from tests.conftest import MakeShop
from tests.fakes.http_fake import ManualClock
from tests.fakes.shopify_api import FakeShopify
from tests.fakes.store_faults import WallClock

TOKEN = "shpat_secret_0123456789"


def sync_settings(**changes: object) -> SyncSettings:
    values: dict[str, object] = {"retries": 2, "backoff_seconds": 1.0, "overlap_seconds": 0.0}
    return SyncSettings(**{**values, **changes})  # type: ignore[arg-type]


class FakeTime:
    """The connector's sleep: recorded, and moves the clock the fake store refills by."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.clock.advance(seconds)
        await asyncio.sleep(0)


@dataclass
class Harness:
    """A shop connected to a fake store, and runs of its sync."""

    shop_id: int
    source_id: int
    sessions: async_sessionmaker[AsyncSession]
    settings: SyncSettings
    time: FakeTime
    wall: WallClock
    reports: list[SyncReport] = field(default_factory=list)

    def connect(self, access: StoreAccess) -> StoreConnector:
        if access.kind is SyncKind.SHOPIFY:
            return ShopifyConnector(
                base_url=access.base_url,
                access_token=access.api_secret,
                settings=self.settings,
                sleep=self.time.sleep,
                clock=self.time.clock,
            )
        return open_connector(access, self.settings, sleep=self.time.sleep)

    async def run(self, *, full: bool = False) -> SyncReport:
        self.wall.tick()
        service = CatalogSync(self.sessions, self.settings, self.connect, now=self.wall)
        report = await service.run(self.source_id, full=full)
        self.reports.append(report)
        return report

    async def products(self) -> dict[str, Product]:
        async with self.sessions() as session:
            found = await session.scalars(select(Product).where(Product.shop_id == self.shop_id))
            return {product.sku: product for product in found}

    async def count(self, model: type[PriceChange] | type[StockMovement] | type[SyncLink]) -> int:
        async with self.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(model).where(model.shop_id == self.shop_id)
                )
                or 0
            )

    async def source(self) -> SyncSource:
        async with self.sessions() as session:
            found = await session.get(SyncSource, self.source_id)
            assert found is not None
            return found


async def connect_store(
    make_shop: MakeShop,
    sessions: async_sessionmaker[AsyncSession],
    kind: SyncKind,
    url: str,
    *,
    secret: str,
    key: str | None = None,
    wall: WallClock,
    **settings: object,
) -> Harness:
    shop = await make_shop()
    async with sessions() as session, session.begin():
        source = await SyncSources(session).add(
            shop.shop_id, kind, url, api_key=key, api_secret=secret
        )
    return Harness(shop.shop_id, source.id, sessions, sync_settings(**settings), FakeTime(), wall)


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
async def store(wall: WallClock) -> AsyncIterator[FakeShopify]:
    time_source = FakeTime()
    async with FakeShopify(token=TOKEN, clock=time_source.clock, wall=wall) as fake:
        fake.time = time_source  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
async def harness(
    store: FakeShopify,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    wall: WallClock,
) -> Harness:
    made = await connect_store(
        make_shop, session_factory, SyncKind.SHOPIFY, store.root_url, secret=TOKEN, wall=wall
    )
    made.time = store.time  # type: ignore[attr-defined]
    return made


def catalog(store: FakeShopify) -> None:
    store.add_product(
        "Headphones",
        [("HP-1", "99.90", 5), ("HP-2", "109.90", 3)],
        description="Closed-back.",
        vendor="Acme",
        product_type="Audio",
    )
    store.add_product("Cable", [("CB-1", "1299.00", 40)], vendor="Wired")


async def test_first_sync_creates_one_product_per_variant(
    store: FakeShopify, harness: Harness
) -> None:
    catalog(store)
    report = await harness.run()
    assert (report.read, report.created, report.error) == (3, 3, None)
    products = await harness.products()
    assert set(products) == {"HP-1", "HP-2", "CB-1"}
    headphones = products["HP-2"]
    assert headphones.title == "Headphones — Option 2"
    assert (headphones.price, headphones.stock, headphones.brand) == (Decimal("109.90"), 3, "Acme")
    assert headphones.currency == "USD" and headphones.content_hash
    assert products["CB-1"].price == Decimal("1299.00")
    assert await harness.count(SyncLink) == 3
    assert await harness.count(StockMovement) == 3  # each stock arrived with the sync
    source = await harness.source()
    assert source.watermark is not None and source.cursor is None and source.last_error is None


async def test_unchanged_resync_changes_nothing(store: FakeShopify, harness: Harness) -> None:
    catalog(store)
    await harness.run()
    audits = await harness.count(PriceChange), await harness.count(StockMovement)
    hashes = {sku: p.content_hash for sku, p in (await harness.products()).items()}
    report = await harness.run(full=True)
    assert (report.read, report.created, report.updated, report.unchanged) == (3, 0, 0, 3)
    assert (report.prices_out, report.stock_out, report.conflicts) == (0, 0, [])
    assert (await harness.count(PriceChange), await harness.count(StockMovement)) == audits
    assert {sku: p.content_hash for sku, p in (await harness.products()).items()} == hashes
    assert store.count("SoukPrices") == store.count("SoukStock") == 0


async def test_incremental_sync_reads_what_changed_and_re_embeds_only_new_texts(
    store: FakeShopify, harness: Harness, wall: WallClock
) -> None:
    catalog(store)
    await harness.run()
    before = await harness.products()
    wall.tick()
    store.change("HP-1", price="89.90")
    store.change("CB-1", description="Braided, 2 m.")
    report = await harness.run()
    assert not report.full and report.read == 2  # the two changed variants only
    assert "updated_at:>" in store.served[-1].variables["query"]
    after = await harness.products()
    assert after["HP-1"].price == Decimal("89.90")
    assert after["HP-1"].content_hash == before["HP-1"].content_hash  # a price is no text
    assert after["CB-1"].description == "Braided, 2 m."
    assert after["CB-1"].content_hash != before["CB-1"].content_hash
    async with harness.sessions() as session:
        change = await session.scalar(
            select(PriceChange).where(PriceChange.product_id == after["HP-1"].id)
        )
    assert change is not None and change.source is PriceSource.SYNC
    assert (change.old_price, change.new_price) == (Decimal("99.90"), Decimal("89.90"))


async def test_price_and_stock_changed_in_souk_are_pushed_back(
    store: FakeShopify, harness: Harness
) -> None:
    catalog(store)
    await harness.run()
    async with harness.sessions() as session, session.begin():
        staff = ProductAdmin(session, harness.shop_id, actor_telegram_id=501)
        await staff.set_price("HP-1", Decimal("95.00"))
        await staff.set_stock("CB-1", 37)
    store.change("CB-1", inventory=38)  # a sale in the store meanwhile is a conflict...
    store.change("CB-1", inventory=40)  # ...unless it came back to the synced value
    report = await harness.run()
    assert (report.prices_out, report.stock_out, report.conflicts) == (1, 1, [])
    assert store.variant("HP-1").price == "95.00"
    assert store.variant("CB-1").inventory == 37  # adjusted by -3 at the first location
    again = await harness.run()
    assert (again.prices_out, again.stock_out, again.updated) == (0, 0, 0)
    assert store.count("SoukPrices") == store.count("SoukStock") == 1


async def test_a_value_changed_on_both_sides_is_reported_not_overwritten(
    store: FakeShopify, harness: Harness
) -> None:
    catalog(store)
    await harness.run()
    async with harness.sessions() as session, session.begin():
        await ProductAdmin(session, harness.shop_id, 501).set_price("HP-2", Decimal("120.00"))
    store.change("HP-2", price="125.00")
    report = await harness.run()
    (conflict,) = report.conflicts
    assert (conflict.sku, conflict.field) == ("HP-2", "price")
    assert (conflict.synced, conflict.local, conflict.remote) == (
        Decimal("109.90"),
        Decimal("120.00"),
        Decimal("125.00"),
    )
    assert (await harness.products())["HP-2"].price == Decimal("120.00")
    assert store.variant("HP-2").price == "125.00" and store.count("SoukPrices") == 0
    assert len((await harness.run()).conflicts) == 1  # still, until the sides agree
    async with harness.sessions() as session, session.begin():
        await ProductAdmin(session, harness.shop_id, 501).set_price("HP-2", Decimal("125.00"))
    settled = await harness.run()
    assert settled.conflicts == [] and settled.prices_out == 0


async def test_a_run_failing_halfway_resumes_without_duplicates(
    store: FakeShopify, harness: Harness
) -> None:
    harness.settings.shopify_page_size = 50  # few products (every test's stay in the db)
    for n in range(120):
        store.add_product(f"Item {n}", [(f"IT-{n:04d}", "10.00", 1)])
    store.bucket.maximum = store.bucket.available = 100_000  # no waiting for the budget
    store.faults.inject(500, times=3, after=1)  # page 2 fails past the 2 retries
    failed = await harness.run()
    assert failed.error is not None and "HTTP 500" in failed.error
    assert failed.created == 50
    source = await harness.source()
    assert source.cursor is not None and source.run_started_at is not None
    assert source.last_error is not None and source.lease_until is None
    assert harness.time.sleeps[:2] == [1.0, 2.0]  # doubling backoff between the retries
    resumed = await harness.run()
    assert resumed.resumed and resumed.error is None
    assert (resumed.read, resumed.created) == (70, 70)
    assert len(await harness.products()) == 120 and await harness.count(SyncLink) == 120
    assert (await harness.source()).run_started_at is None


async def test_the_cost_budget_is_waited_for_instead_of_being_throttled(
    store: FakeShopify, harness: Harness
) -> None:
    harness.settings.shopify_page_size = 50  # a page asks for 2 + 50 * 3 + 1 = 153 points
    for n in range(120):
        store.add_product(f"Item {n}", [(f"IT-{n:04d}", "10.00", 1)])
    store.bucket.maximum = store.bucket.available = 300
    report = await harness.run()  # 3 pages from a 300-point bucket refilled at 50/s
    assert report.error is None and report.created == 120
    assert store.throttled == 0, "a query was sent over budget"
    assert store.count("SoukVariants") == 3
    # Before page 3, 306 points were spent: 159 more than the bucket had came by waiting.
    assert sum(harness.time.sleeps) >= (153 * 3 - 300) / 50


async def test_a_throttled_answer_waits_and_retries(store: FakeShopify, harness: Harness) -> None:
    catalog(store)
    store.bucket.available = 20.0  # another client of the same app spent it
    report = await harness.run()
    assert report.error is None and report.created == 3
    assert store.throttled == 1
    assert harness.time.sleeps[0] >= (753 - 20) / 50


async def test_items_without_sku_and_negative_inventory(
    store: FakeShopify, harness: Harness
) -> None:
    store.add_product("Loose", [("", "5.00", -3)])
    report = await harness.run()
    (product,) = (await harness.products()).values()
    variant_id = next(iter(store.variants))
    assert product.sku == f"shopify-{variant_id}" and product.stock == 0
    assert {(p.problem, p.detail) for p in report.problems} == {
        (SyncProblem.NO_SKU, ""),
        (SyncProblem.NEGATIVE_STOCK, "-3"),
    }
    again = await harness.run(full=True)
    assert (again.created, again.updated, again.stock_out) == (0, 0, 0)  # 0 is not pushed


async def test_a_wrong_token_is_a_clear_error_without_the_token(
    store: FakeShopify, harness: Harness
) -> None:
    store.token = "shpat_other"
    report = await harness.run()
    assert report.error is not None and "refused the credentials (401)" in report.error
    assert store.root_url in report.error and TOKEN not in report.error
    source = await harness.source()
    assert source.last_error == report.error
    assert TOKEN not in repr(source)


async def test_a_catalog_imported_before_is_adopted_by_sku(
    store: FakeShopify, harness: Harness
) -> None:
    async with harness.sessions() as session, session.begin():
        session.add(
            Product(
                shop_id=harness.shop_id,
                sku="cb-1",
                title="Old",
                price=Decimal("1.00"),
                currency="USD",
                stock=2,
            )
        )
    catalog(store)
    report = await harness.run()
    assert (report.created, report.updated) == (2, 1)
    products = await harness.products()
    assert set(products) == {"HP-1", "HP-2", "cb-1"}
    assert (products["cb-1"].price, products["cb-1"].stock) == (Decimal("1299.00"), 40)
    async with harness.sessions() as session:
        moves = await session.scalars(
            select(StockMovement.reason).where(StockMovement.product_id == products["cb-1"].id)
        )
        assert list(moves) == [StockReason.SYNC]
