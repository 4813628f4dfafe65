"""Catalog sync with a fake WooCommerce over real HTTP, both ways: simple and variable
products, prices as shops write them, stock not managed, 429 with Retry-After, 500s
halfway, push-back by PUT with string prices, a conflict, wrong credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import SyncKind, SyncLink
from souk.services.products import ProductAdmin
from souk.services.sync_report import SyncProblem
from tests.conftest import MakeShop
from tests.fakes.store_faults import WallClock
from tests.fakes.woocommerce_api import FakeWooCommerce
from tests.services.test_sync_shopify import Harness, connect_store

KEY, SECRET = "ck_0123456789abcdef", "cs_fedcba9876543210"


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
async def store(wall: WallClock) -> AsyncIterator[FakeWooCommerce]:
    async with FakeWooCommerce(key=KEY, secret=SECRET, wall=wall) as fake:
        yield fake


@pytest.fixture
async def harness(
    store: FakeWooCommerce,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    wall: WallClock,
) -> Harness:
    return await connect_store(
        make_shop,
        session_factory,
        SyncKind.WOOCOMMERCE,
        store.root_url,
        key=KEY,
        secret=SECRET,
        wall=wall,
        woocommerce_page_size=50,  # few products (every test's stay in the db)
    )


def catalog(store: FakeWooCommerce) -> None:
    store.add_simple("Speaker", "SP-1", "1299", 4)
    store.add_simple("Case", "CS-1", "1,299.50", None)  # stock not managed
    store.add_variable("T-shirt", [("Red", "TS-R", "19.90", 5), ("Blue", "TS-B", "21", 0)])


async def test_first_sync_reads_products_and_variations(
    store: FakeWooCommerce, harness: Harness
) -> None:
    catalog(store)
    report = await harness.run()
    assert (report.read, report.created, report.error) == (4, 4, None)
    products = await harness.products()
    assert products["SP-1"].price == Decimal("1299.00")
    assert products["CS-1"].price == Decimal("1299.50") and products["CS-1"].stock == 0
    shirt = products["TS-B"]
    assert (shirt.title, shirt.price, shirt.attributes) == (
        "T-shirt — Blue",
        Decimal("21.00"),
        {"Colour": "Blue"},
    )
    assert products["SP-1"].description == "Speaker described"
    async with harness.sessions() as session:
        link = await session.scalar(
            select(SyncLink).where(SyncLink.product_id == products["CS-1"].id)
        )
    assert link is not None and link.synced_stock is None  # not tracked: never pushed


async def test_incremental_and_unchanged_runs(store: FakeWooCommerce, harness: Harness) -> None:
    catalog(store)
    await harness.run()
    store.change("TS-R", regular_price="17.50")
    report = await harness.run()
    assert report.read == 2 and report.prices_in == 1  # the variable product's variations
    assert (await harness.products())["TS-R"].price == Decimal("17.50")
    again = await harness.run(full=True)
    assert (again.read, again.updated, again.prices_out, again.stock_out) == (4, 0, 0, 0)
    assert store.hits("PUT") == 0


async def test_souk_changes_are_put_back_with_string_prices(
    store: FakeWooCommerce, harness: Harness
) -> None:
    catalog(store)
    await harness.run()
    async with harness.sessions() as session, session.begin():
        staff = ProductAdmin(session, harness.shop_id, 501)
        await staff.set_price("TS-B", Decimal("18.00"))
        await staff.set_stock("SP-1", 9)
        await staff.set_stock("CS-1", 3)  # the store does not track it: not pushed
    report = await harness.run()
    assert (report.prices_out, report.stock_out, report.problems) == (1, 1, [])
    assert store.item("TS-B")["regular_price"] == "18.00"
    assert store.item("SP-1")["stock_quantity"] == 9
    assert store.item("CS-1")["stock_quantity"] is None
    assert store.hits("PUT", 200) == 2


async def test_a_stock_changed_on_both_sides_is_a_conflict(
    store: FakeWooCommerce, harness: Harness
) -> None:
    catalog(store)
    await harness.run()
    async with harness.sessions() as session, session.begin():
        await ProductAdmin(session, harness.shop_id, 501).set_stock("SP-1", 2)
    store.change("SP-1", stock_quantity=1)
    report = await harness.run()
    (conflict,) = report.conflicts
    assert (conflict.field, conflict.synced, conflict.local, conflict.remote) == ("stock", 4, 2, 1)
    assert store.item("SP-1")["stock_quantity"] == 1 and store.hits("PUT") == 0


async def test_429_waits_for_retry_after_and_500s_halfway_resume(
    store: FakeWooCommerce, harness: Harness
) -> None:
    for n in range(120):
        store.add_simple(f"Item {n}", f"IT-{n:03d}", "10.00", 1)
    store.faults.inject(429, retry_after="7")
    store.faults.inject(500, times=3, after=1)
    failed = await harness.run()
    assert failed.error is not None and "HTTP 500" in failed.error
    assert harness.time.sleeps[0] == 7.0 and failed.created == 50
    resumed = await harness.run()
    assert resumed.resumed and resumed.error is None and resumed.created == 70
    assert len(await harness.products()) == 120


async def test_odd_and_missing_prices_and_negative_stock(
    store: FakeWooCommerce, harness: Harness
) -> None:
    store.add_simple("Free", "FR-1", "", 1)
    store.add_simple("Odd", "OD-1", "12.345", 1)
    store.add_simple("Oversold", "OV-1", "5.00", -2)
    store.add_simple("Spaced", "SP-2", "19 990,50", 1)
    report = await harness.run()
    assert set(await harness.products()) == {"OV-1", "SP-2"}
    assert {(p.sku, p.problem) for p in report.problems} == {
        ("FR-1", SyncProblem.NO_PRICE),
        ("OD-1", SyncProblem.BAD_PRICE),
        ("OV-1", SyncProblem.NEGATIVE_STOCK),
    }
    assert (await harness.products())["SP-2"].price == Decimal("19990.50")


async def test_wrong_credentials_are_a_clear_error_without_the_secret(
    store: FakeWooCommerce, harness: Harness
) -> None:
    store.secret = "cs_other"
    report = await harness.run()
    assert report.error == f"{store.root_url} refused the credentials (401)"
    assert SECRET not in str(report) and KEY not in str(report)
