"""Monitoring in the worker's code: the chart /competitors asks for, drawn from the price
history, and beat's run with the process's own fetcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import MonitorSettings
from souk.connectors.fetch import PageFetcher
from souk.db.models import (
    Competitor,
    CompetitorOffer,
    OfferSource,
    PriceChange,
    PriceObservation,
    PriceSource,
    Product,
    StaffRole,
)
from souk.db.models.repricing import DecisionStatus, RepriceDecision, RepriceMode, RepriceRule
from souk.db.models.repricing import Strategy as RepriceStrategy
from souk.runtime import Runtime
from souk.services.monitoring import MonitorService
from souk.services.offer_checks import OfferChecker
from souk.workers.monitoring import (
    RUN_LOCK,
    announcer,
    repricer,
    run_monitoring,
    send_competitors_chart,
)
from tests.conftest import MakeShop
from tests.fakes.competitor_site import CompetitorSite, product_page
from tests.fakes.telegram_api import FakeBotAPI

OWNER = 7501
NOW = datetime(2031, 4, 1, 12, 0, tzinfo=UTC)


async def test_the_price_history_chart_is_a_png_of_good_observations(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    async with session_factory() as session, session.begin():
        product = Product(
            shop_id=shop.shop_id, sku="CH-1", title="Chart", price=Decimal("100"), currency="USD"
        )
        rival = Competitor(shop_id=shop.shop_id, name="Rival", host="rival.example")
        session.add_all([product, rival])
        await session.flush()
        offer = CompetitorOffer(
            shop_id=shop.shop_id,
            product_id=product.id,
            competitor_id=rival.id,
            source=OfferSource.PAGE,
            url="https://rival.example/ch-1",
        )
        session.add(offer)
        await session.flush()
        for days, price, problem in ((3, "99.00", None), (2, "97.50", None), (1, None, "timeout")):
            session.add(
                PriceObservation(
                    shop_id=shop.shop_id,
                    offer_id=offer.id,
                    observed_at=NOW - timedelta(days=days),
                    price=Decimal(price) if price else None,
                    currency="USD" if price else None,
                    problem=problem,
                )
            )
        product_id = product.id

    async def draw(chat_id: int, since: datetime) -> bool:
        return await send_competitors_chart(
            runtime,
            shop_id=shop.shop_id,
            product_id=product_id,
            bot_id=shop.bot_id,
            chat_id=chat_id,
            language="en",
            now=since,
        )

    assert await draw(OWNER, NOW)
    (photo,) = fake_api.calls("sendPhoto", chat_id=OWNER)
    upload = photo.params[photo.params["photo"].removeprefix("attach://")]
    assert upload["filename"].endswith(".png") and upload["size"] > 5000
    # Nothing observed in the last 30 days: nothing to draw, nothing sent.
    assert not await draw(OWNER + 1, NOW + timedelta(days=60))
    assert fake_api.calls("sendPhoto", chat_id=OWNER + 1) == []


async def test_beat_runs_one_at_a_time_with_the_process_fetcher(
    runtime: Runtime, make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The worker's run: the process's one fetcher, kept across runs (its breaker), and
    no run while another process's is under way."""
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        product = Product(
            shop_id=shop.shop_id, sku="RN-1", title="Run", price=Decimal("10"), currency="USD"
        )
        rival = Competitor(shop_id=shop.shop_id, name="Rival", host="10.9.9.9")
        session.add_all([product, rival])
        await session.flush()
        session.add(
            CompetitorOffer(
                shop_id=shop.shop_id,
                product_id=product.id,
                competitor_id=rival.id,
                source=OfferSource.PAGE,
                url="http://10.9.9.9/rn-1",  # refused without a request: a private address
                next_check_at=datetime(1990, 1, 1, tzinfo=UTC),
            )
        )
    handed: list[tuple[int, set[int]]] = []

    async def reprice(shop_id: int, product_ids: set[int]) -> None:
        handed.append((shop_id, product_ids))

    fetcher = runtime.page_fetcher()
    lock = runtime.redis.lock(RUN_LOCK, timeout=60)
    assert await lock.acquire(blocking=False)
    try:
        assert (
            await run_monitoring(runtime, lambda: datetime(1990, 1, 2, tzinfo=UTC), reprice)
        ).checked == 0
    finally:
        await lock.release()
    report = await run_monitoring(runtime, lambda: datetime(1990, 1, 2, tzinfo=UTC), reprice)
    assert report.checked >= 1 and shop.shop_id in report.changed
    # The pass handed its changed products on for repricing (the task queues them).
    assert (shop.shop_id, {product.id}) in handed
    assert runtime.page_fetcher() is fetcher


async def test_an_undercut_seen_by_a_pass_is_repriced_once_the_pass_is_stored(
    runtime: Runtime, make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    async with CompetitorSite() as site:
        site.page("/rp-1", product_page("Kettle", "90.00", "USD"))
        async with session_factory() as session, session.begin():
            product = Product(
                shop_id=shop.shop_id,
                sku="RP-1",
                title="Kettle",
                price=Decimal("100.00"),
                cost=Decimal("50.00"),
                currency="USD",
            )
            rival = Competitor(shop_id=shop.shop_id, name="Rival", host="127.0.0.1")
            session.add_all([product, rival])
            await session.flush()
            session.add_all(
                [
                    CompetitorOffer(
                        shop_id=shop.shop_id,
                        product_id=product.id,
                        competitor_id=rival.id,
                        source=OfferSource.PAGE,
                        url=f"{site.base_url}/rp-1",
                        next_check_at=datetime(1990, 1, 1, tzinfo=UTC),
                    ),
                    RepriceRule(
                        shop_id=shop.shop_id,
                        product_id=product.id,
                        strategy=RepriceStrategy.BEAT,
                        step=Decimal("1.00"),
                        mode=RepriceMode.AUTO,
                    ),
                ]
            )
            product_id = product.id
        settings = MonitorSettings(allow_private_addresses=True)
        fetcher = PageFetcher(settings)
        try:
            # This shop's offers only: other tests leave offers due on sites long gone.
            report = await MonitorService(
                runtime.session_factory,
                settings,
                OfferChecker(fetcher, settings),
                announcer(runtime),
                now=lambda: NOW,
                on_committed=repricer(runtime, lambda: NOW),
                shop_id=shop.shop_id,
            ).run()
        finally:
            await fetcher.close()
    assert report.changed[shop.shop_id] == {product_id}
    async with session_factory() as session:
        assert await session.scalar(select(Product.price).where(Product.id == product_id)) == (
            Decimal("89.00")
        )
        decision = await session.scalar(
            select(RepriceDecision).where(RepriceDecision.product_id == product_id)
        )
        assert decision is not None and decision.status is DecisionStatus.APPLIED
        change = await session.scalar(
            select(PriceChange).where(PriceChange.product_id == product_id)
        )
        assert change is not None and change.source is PriceSource.REPRICER
