"""Publishing the Kaspi feed: the beat job regenerates it after price and stock changes
(and only then), refuses an empty, malformed or sharply shrunk one while the last good
one stays served, tells the staff once per streak of refusals, and never runs twice at
once for a shop."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from souk.db.models import PriceChange, PriceSource, Shop
from souk.embedded import ServiceURLs
from souk.errors import InvalidInput
from souk.runtime import Runtime
from souk.services.feed_setup import FeedOptions, FeedSetup, feed_for_fetch
from souk.services.feeds import FeedPublisher, FeedRefusal, FeedStatus
from souk.services.products import ProductAdmin
from souk.workers.app import FEED_TASK, create_celery
from souk.workers.feeds import publish_feed
from tests.channels.kaspi_feed import OWNER, T0, Item, Kaspi, availability, kaspi_world, price

kaspi = pytest.fixture(kaspi_world)


def test_beat_refreshes_the_feeds_every_check_interval(runtime: Runtime, urls: ServiceURLs) -> None:
    app = create_celery(runtime.settings, urls)
    entry = app.conf.beat_schedule["kaspi-feeds"]
    assert entry["task"] == FEED_TASK
    assert entry["schedule"] == timedelta(seconds=runtime.settings.feed.check_seconds)
    import souk.workers.tasks  # noqa: F401  (the worker imports it: it registers the tasks)

    assert FEED_TASK in app.tasks


async def test_a_price_change_regenerates_the_feed_and_nothing_else_does(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item("K-1", price="1000.00", stock=5)])
    assert (await kaspi.refresh(feed, T0)).status is FeedStatus.PUBLISHED
    first, _ = await kaspi.fetch(feed)
    # Nothing changed: nothing is regenerated (the served feed keeps its time and ETag).
    assert (await kaspi.refresh(feed, T0 + timedelta(minutes=1))).status is (FeedStatus.UNCHANGED)
    async with kaspi.sessions() as session, session.begin():
        admin = ProductAdmin(session, feed.shop.shop_id, OWNER)
        await admin.set_price("K-1", Decimal("1100.00"))
        await admin.set_stock("K-1", 4)  # a sale that leaves stock: the feed says the same
    outcome = await kaspi.refresh(feed, T0 + timedelta(minutes=2))
    assert outcome.status is FeedStatus.PUBLISHED
    after, _ = await kaspi.fetch(feed)
    assert price((await kaspi.served(feed))["K-1"]) == "1100"
    assert after.headers["ETag"] != first.headers["ETag"]
    assert after.headers["Last-Modified"] != first.headers["Last-Modified"]
    async with kaspi.sessions() as session:
        audited = await session.scalar(
            select(func.count())
            .select_from(PriceChange)
            .where(
                PriceChange.shop_id == feed.shop.shop_id, PriceChange.source == PriceSource.STAFF
            )
        )
    assert audited == 1
    # A stock change alone is nothing to the feed ...
    async with kaspi.sessions() as session, session.begin():
        await ProductAdmin(session, feed.shop.shop_id, OWNER).set_stock("K-1", 1)
    assert (await kaspi.refresh(feed, T0 + timedelta(minutes=3))).status is (FeedStatus.UNCHANGED)
    # ... until the product sells out.
    async with kaspi.sessions() as session, session.begin():
        await ProductAdmin(session, feed.shop.shop_id, OWNER).set_stock("K-1", 0)
    assert (await kaspi.refresh(feed, T0 + timedelta(minutes=4))).status is (FeedStatus.PUBLISHED)
    assert availability((await kaspi.served(feed))["K-1"]) == {"no"}


async def test_an_empty_catalog_is_refused_and_the_staff_told_once(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item("K-1", active=False)])
    outcome = await kaspi.refresh(feed)
    assert (outcome.status, outcome.refusal) == (FeedStatus.REFUSED, FeedRefusal.EMPTY)
    assert (await kaspi.fetch(feed))[0].status == 503  # nothing good to serve yet
    assert await kaspi.staff_told(feed) == [
        "The Kaspi price feed was not updated: it would offer no product (none active, "
        "priced and in the feed's currency). Kaspi gets no feed until one passes."
    ]


async def test_a_sharply_shrunk_feed_is_refused_and_the_last_good_one_served(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item(f"K-{n}") for n in range(10)])
    await kaspi.refresh(feed, T0)
    good, _ = await kaspi.fetch(feed)
    # 2 of 10 gone is the 20% FEED_MAX_SHRINK_PERCENT allows; 3 is more.
    await kaspi.deactivate(feed, ["K-0", "K-1", "K-2"])
    outcome = await kaspi.refresh(feed, T0 + timedelta(minutes=1))
    assert (outcome.status, outcome.refusal) == (FeedStatus.REFUSED, FeedRefusal.SHRUNK)
    assert (outcome.offers, outcome.served) == (7, 10)
    still, _ = await kaspi.fetch(feed)
    assert still.headers["ETag"] == good.headers["ETag"]
    assert len(await kaspi.served(feed)) == 10
    # Refused again after another change: still one message to the staff.
    await kaspi.deactivate(feed, ["K-3"])
    assert (await kaspi.refresh(feed, T0 + timedelta(minutes=2))).status is (FeedStatus.REFUSED)
    assert await kaspi.staff_told(feed) == [
        "The Kaspi price feed was not updated: it would shrink from 10 to 7 offers. Kaspi "
        "keeps getting the last good one (10 offers, made 2031-03-01 09:00).\n\n"
        f"If that is meant, publish it anyway: <code>souk feed publish --shop "
        f"{feed.shop.slug} --force</code>"
    ]
    # Staff meant it: published.
    forced = await publish_feed(
        kaspi.runtime, feed.shop.shop_id, T0 + timedelta(minutes=3), allow_shrink=True
    )
    assert (forced.status, forced.offers) == (FeedStatus.PUBLISHED, 6)
    assert len(await kaspi.served(feed)) == 6
    # A refusal after a publication starts a new streak: the staff are told again.
    await kaspi.deactivate(feed, ["K-4", "K-5", "K-6"])
    await kaspi.refresh(feed, T0 + timedelta(minutes=4))
    assert len(await kaspi.staff_told(feed)) == 2


async def test_a_feed_that_fails_its_check_is_refused(kaspi: Kaspi) -> None:
    # A title of control characters only: an offer without a model.
    feed = await kaspi.shop([Item("K-1"), Item("K-2", "\x01\x02")])
    # As `souk feed publish` does it: refused, and the staff told too.
    outcome = await publish_feed(kaspi.runtime, feed.shop.shop_id, T0, allow_shrink=True)
    assert (outcome.status, outcome.refusal) == (FeedStatus.REFUSED, FeedRefusal.INVALID)
    assert outcome.detail == "offer 'K-2': no model"
    (told,) = await kaspi.staff_told(feed)
    assert "it failed the check: offer &#x27;K-2&#x27;: no model." in told  # HTML
    assert (await kaspi.refresh(feed)).status is FeedStatus.UNCHANGED


async def test_one_attempt_at_a_time_per_shop(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item("K-1")])
    publisher = FeedPublisher(kaspi.sessions, kaspi.runtime.settings.feed)
    async with kaspi.sessions() as holder, holder.begin():
        await holder.execute(select(func.pg_advisory_xact_lock(0xFEED, feed.shop.shop_id)))
        busy = await publisher.refresh(feed.shop.shop_id, T0)
    assert busy.status is FeedStatus.BUSY
    assert (await publisher.refresh(feed.shop.shop_id, T0)).status is FeedStatus.PUBLISHED


async def test_settings_are_checked_and_a_new_secret_replaces_the_old(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item("K-1")])
    async with kaspi.sessions() as session, session.begin():
        setup = FeedSetup(session, await session.get_one(Shop, feed.shop.shop_id))
        with pytest.raises(InvalidInput, match="not a store id"):
            await setup.enable(FeedOptions("M-77", ["PP 1"]))
        with pytest.raises(InvalidInput, match="at least one store"):
            await setup.enable(FeedOptions("M-77", []))
        with pytest.raises(InvalidInput, match="no such categories: toys"):
            await setup.enable(FeedOptions("M-77", ["PP1"], categories=["toys", "kitchen"]))
        assert await setup.enable(FeedOptions("M-78", ["PP1"])) is None  # same secret
        secret = await setup.enable(FeedOptions("M-78", ["PP1"]), new_secret=True)
    assert secret is not None and secret != feed.secret
    async with kaspi.sessions() as session:
        assert await feed_for_fetch(session, feed.shop.slug, feed.secret) is None
        assert await feed_for_fetch(session, feed.shop.slug, secret) is not None
