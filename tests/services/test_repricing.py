"""Repricing against the database: rules saved and checked, products repriced by mode
with every decision logged, approvals that expire and are answered once, reverts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import RepriceSettings
from souk.db.models import (
    Category,
    Competitor,
    CompetitorOffer,
    DecisionStatus,
    OfferSource,
    PriceChange,
    PriceSource,
    Product,
    RepriceDecision,
    RepriceMode,
)
from souk.services.repricing.desk import DecisionDesk, Outcome
from souk.services.repricing.rules import FloorAboveCeiling, IncompleteRule, RuleBook
from souk.services.repricing.runs import Decision, Repricer
from souk.services.repricing.syntax import parse_rule_words
from tests.conftest import MakeShop

START = datetime(2031, 3, 1, 10, 0, tzinfo=UTC)
STAFF = 8801
D = Decimal


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Shop:
    shop_id: int
    ids: dict[str, int]
    session_factory: async_sessionmaker[AsyncSession]
    announced: list[Decision] = field(default_factory=list)

    def repricer(self, settings: RepriceSettings | None = None) -> Repricer:
        async def announce(session: AsyncSession, decision: Decision) -> None:
            self.announced.append(decision)

        return Repricer(self.session_factory, settings or RepriceSettings(), announce=announce)

    async def rule(self, target: str, words: str) -> None:
        async with self.session_factory() as session, session.begin():
            book = RuleBook(session, self.shop_id, STAFF)
            await book.save(await book.target(target), parse_rule_words(words.split()))

    async def offer(self, sku: str, name: str, price: str, **values: object) -> None:
        async with self.session_factory() as session, session.begin():
            competitor = await session.scalar(
                select(Competitor).where(
                    Competitor.shop_id == self.shop_id, Competitor.name == name
                )
            )
            if competitor is None:
                competitor = Competitor(
                    shop_id=self.shop_id,
                    name=name,
                    host=f"{name.lower()}.example",
                    is_excluded=bool(values.pop("excluded", False)),
                    is_ours=bool(values.pop("ours", False)),
                )
                session.add(competitor)
                await session.flush()
            session.add(
                CompetitorOffer(
                    shop_id=self.shop_id,
                    product_id=self.ids[sku],
                    competitor_id=competitor.id,
                    source=OfferSource.PAGE,
                    url=f"https://{competitor.host}/{sku}",
                    price=D(price),
                    currency=str(values.pop("currency", "KZT")),
                    in_stock=values.pop("in_stock", True),
                )
            )

    async def price(self, sku: str) -> Decimal:
        async with self.session_factory() as session:
            return (await session.get_one(Product, self.ids[sku])).price

    async def run(
        self, clock: Clock, *skus: str, settings: RepriceSettings | None = None
    ) -> list[Decision]:
        ids = [self.ids[sku] for sku in skus]
        return await self.repricer(settings).reprice_products(self.shop_id, ids, clock=clock)

    async def desk(
        self, action: str, decision_id: int, clock: Clock, actor: int = STAFF
    ) -> Outcome:
        async with self.session_factory() as session, session.begin():
            desk = DecisionDesk(session, self.shop_id, actor)
            answer = await getattr(desk, action)(decision_id, clock())
            return answer.outcome  # type: ignore[no-any-return]


@pytest.fixture
async def shop(make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]) -> Shop:
    """Two kettles (one with a cost) in "kettles", a lamp in "lamps"; prices in tenge."""
    made = await make_shop()
    ids: dict[str, int] = {}
    async with session_factory() as session, session.begin():
        kettles = Category(shop_id=made.shop_id, slug="kettles", name="Kettles")
        lamps = Category(shop_id=made.shop_id, slug="lamps", name="Lamps")
        session.add_all([kettles, lamps])
        await session.flush()
        for sku, category, price, cost in (
            ("KT-1", kettles, "10000", "7000"),
            ("KT-2", kettles, "12000", None),
            ("LM-1", lamps, "5000", "2000"),
        ):
            product = Product(
                shop_id=made.shop_id,
                category_id=category.id,
                sku=sku,
                title=sku,
                price=D(price),
                cost=None if cost is None else D(cost),
                currency="KZT",
                stock=5,
            )
            session.add(product)
            await session.flush()
            ids[sku] = product.id
    return Shop(made.shop_id, ids, session_factory)


async def audit(shop: Shop, sku: str) -> list[tuple[PriceSource, Decimal, Decimal, str | None]]:
    async with shop.session_factory() as session:
        rows = await session.scalars(
            select(PriceChange)
            .where(PriceChange.product_id == shop.ids[sku])
            .order_by(PriceChange.id)
        )
        return [(r.source, r.old_price, r.new_price, r.reason) for r in rows]


async def test_auto_applies_through_the_audited_path_and_logs_the_trace(shop: Shop) -> None:
    await shop.rule("KT-1", "beat 1% floor 8000 mode auto")
    await shop.offer("KT-1", "Alpha", "9990")
    await shop.offer("KT-1", "Beta", "9500", in_stock=False)
    clock = Clock()
    (decision,) = await shop.run(clock, "KT-1", "KT-2", "LM-1")  # KT-2, LM-1: no rule
    assert (decision.status, decision.old_price, decision.proposed_price) == (
        DecisionStatus.APPLIED,
        D(10000),
        D(9890),  # 9990 less 1 % = 9890.1, in whole tenge
    )
    assert await shop.price("KT-1") == D(9890)
    assert await audit(shop, "KT-1") == [
        (PriceSource.REPRICER, D(10000), D(9890), f"reprice #{decision.id}")
    ]
    assert [d.id for d in shop.announced] == [decision.id]
    assert decision.trace[1]["dropped"] == [{"competitor": "Beta", "reason": "out_of_stock"}]
    async with shop.session_factory() as session:
        row = await session.get_one(RepriceDecision, decision.id)
    assert row.created_at == START and row.applied_at == START and row.decided_by is None


async def test_dry_run_only_logs_and_a_product_rule_wins_over_its_category(shop: Shop) -> None:
    await shop.rule("category:kettles", "match mode dry-run")
    await shop.rule("KT-2", "fixed 11000 mode auto")
    await shop.offer("KT-1", "Alpha", "9000")
    decisions = await shop.run(Clock(), "KT-1", "KT-2")
    assert [(d.sku, d.status, d.proposed_price) for d in decisions] == [
        ("KT-1", DecisionStatus.DRY_RUN, D(9000)),
        ("KT-2", DecisionStatus.APPLIED, D(11000)),
    ]
    assert await shop.price("KT-1") == D(10000)  # dry run: unchanged
    assert [d.sku for d in shop.announced] == ["KT-2"]


async def test_a_floor_above_the_ceiling_is_refused_when_saved_with_both_values(
    shop: Shop,
) -> None:
    with pytest.raises(FloorAboveCeiling) as set_floor:
        await shop.rule("KT-2", "match floor 600 ceiling 500")  # KT-2 has no cost
    assert (set_floor.value.floor, set_floor.value.ceiling, set_floor.value.sku) == (
        D(600),
        D(500),
        None,
    )
    with pytest.raises(FloorAboveCeiling) as own_cost:
        await shop.rule("LM-1", "match floor 600 ceiling 1500")  # its cost is 2000
    assert (own_cost.value.floor, own_cost.value.sku) == (D(2000), "LM-1")
    # The costliest kettle (7000) plus 20 % is over a ceiling of 8000.
    with pytest.raises(FloorAboveCeiling) as by_cost:
        await shop.rule("category:kettles", "match margin 20% ceiling 8000")
    assert (by_cost.value.floor, by_cost.value.ceiling, by_cost.value.sku) == (
        D(8400),
        D(8000),
        "KT-1",
    )
    with pytest.raises(IncompleteRule):
        await shop.rule("LM-1", "floor 100")
    # Nothing was saved: a later valid rule is new.
    await shop.rule("LM-1", "match ceiling 6000")
    # A refused change leaves the stored rule as it was even when the caller commits (a
    # handler catches the refusal and its transaction goes on).
    async with shop.session_factory() as session, session.begin():
        book = RuleBook(session, shop.shop_id)
        target = await book.target("LM-1")
        with pytest.raises(FloorAboveCeiling):
            await book.save(target, parse_rule_words(["ceiling", "1000", "mode", "auto"]))
        with pytest.raises(FloorAboveCeiling):
            await book.save(
                await book.target("KT-2"), parse_rule_words(["match", "floor", "9", "ceiling", "8"])
            )
    async with shop.session_factory() as session, session.begin():
        book = RuleBook(session, shop.shop_id)
        rule = await book.rule_of(await book.target("LM-1"))
        assert rule is not None
        assert (rule.min_price, rule.max_price, rule.mode) == (None, D(6000), RepriceMode.DRY_RUN)
        assert await book.rule_of(await book.target("KT-2")) is None


async def test_approve_expires_and_a_second_tap_changes_nothing(shop: Shop) -> None:
    await shop.rule("KT-1", "beat 100 mode approve")
    await shop.offer("KT-1", "Alpha", "9500")
    clock = Clock()
    settings = RepriceSettings(approval_minutes=30)
    (first,) = await shop.run(clock, "KT-1", settings=settings)
    assert first.status is DecisionStatus.PENDING
    assert first.expires_at == START + timedelta(minutes=30)
    assert [d.id for d in shop.announced] == [first.id]
    # While it waits, further runs hold rather than ask again.
    (waiting,) = await shop.run(clock, "KT-1", settings=settings)
    assert waiting.status is DecisionStatus.HELD
    assert waiting.trace == [{"step": "gate", "code": "awaiting", "decision": first.id}]

    clock.advance(minutes=30)
    assert await shop.desk("approve", first.id, clock) is Outcome.EXPIRED
    assert await shop.desk("approve", first.id, clock) is Outcome.EXPIRED
    assert await shop.price("KT-1") == D(10000)

    (second,) = await shop.run(clock, "KT-1", settings=settings)
    assert second.status is DecisionStatus.PENDING
    assert await shop.desk("approve", second.id, clock) is Outcome.APPLIED
    assert await shop.desk("approve", second.id, clock, actor=STAFF + 1) is Outcome.ANSWERED
    assert await shop.desk("reject", second.id, clock) is Outcome.ANSWERED
    assert await shop.price("KT-1") == D(9400)
    assert await audit(shop, "KT-1") == [
        (PriceSource.REPRICER, D(10000), D(9400), f"reprice #{second.id}")
    ]


async def test_an_approval_after_the_price_changed_is_refused(shop: Shop) -> None:
    await shop.rule("KT-1", "beat 100 mode approve")
    await shop.offer("KT-1", "Alpha", "9500")
    clock = Clock()
    (decision,) = await shop.run(clock, "KT-1")
    async with shop.session_factory() as session, session.begin():
        product = await session.get_one(Product, shop.ids["KT-1"])
        product.price = D(9700)
    assert await shop.desk("approve", decision.id, clock) is Outcome.PRICE_MOVED
    assert await shop.price("KT-1") == D(9700)
    assert await shop.desk("approve", decision.id, clock) is Outcome.ANSWERED
    (rejected,) = await shop.run(clock, "KT-1")
    assert await shop.desk("reject", rejected.id, clock) is Outcome.REJECTED
    assert await shop.price("KT-1") == D(9700)


async def test_revert_restores_the_price_once_and_starts_the_cooldown(shop: Shop) -> None:
    await shop.rule("KT-1", "beat 100 cooldown 60 mode auto")
    await shop.offer("KT-1", "Alpha", "9500")
    clock = Clock()
    (applied,) = await shop.run(clock, "KT-1")
    clock.advance(minutes=10)
    (cooling,) = await shop.run(clock, "KT-1")
    assert cooling.status is DecisionStatus.HELD
    assert cooling.trace[0]["code"] == "cooldown"
    assert await shop.desk("revert", applied.id, clock) is Outcome.REVERTED
    assert await shop.desk("revert", applied.id, clock) is Outcome.ANSWERED
    assert await shop.desk("revert", cooling.id, clock) is Outcome.NOT_APPLIED
    assert await shop.price("KT-1") == D(10000)
    assert await audit(shop, "KT-1") == [
        (PriceSource.REPRICER, D(10000), D(9400), f"reprice #{applied.id}"),
        (PriceSource.UNDO, D(9400), D(10000), f"revert reprice #{applied.id}"),
    ]
    # The revert restarts the cooldown: the rule does not put the price straight back.
    clock.advance(minutes=59)
    assert (await shop.run(clock, "KT-1"))[0].status is DecisionStatus.HELD
    clock.advance(minutes=1)
    assert (await shop.run(clock, "KT-1"))[0].status is DecisionStatus.APPLIED


async def test_revert_is_refused_when_the_price_moved_on(shop: Shop) -> None:
    await shop.rule("KT-1", "beat 100 mode auto")
    await shop.offer("KT-1", "Alpha", "9500")
    clock = Clock()
    (applied,) = await shop.run(clock, "KT-1")
    async with shop.session_factory() as session, session.begin():
        await RuleBook(session, shop.shop_id).pause()  # so the next run holds
        product = await session.get_one(Product, shop.ids["KT-1"])
        product.price = D(9300)
    assert await shop.desk("revert", applied.id, clock) is Outcome.PRICE_MOVED
    assert await shop.price("KT-1") == D(9300)


async def test_the_shop_kill_switch_holds_every_rule(shop: Shop) -> None:
    await shop.rule("category:kettles", "beat 100 mode auto")
    await shop.offer("KT-1", "Alpha", "9500")
    async with shop.session_factory() as session, session.begin():
        await RuleBook(session, shop.shop_id, STAFF).pause()
        await RuleBook(session, shop.shop_id, STAFF).pause()  # twice is still paused
    held = await shop.run(Clock(), "KT-1", "KT-2")
    assert [(d.status, d.trace[0]["code"]) for d in held] == [
        (DecisionStatus.HELD, "shop_paused")
    ] * 2
    async with shop.session_factory() as session, session.begin():
        await RuleBook(session, shop.shop_id, STAFF).resume()
    assert [d.status for d in await shop.run(Clock(), "KT-1")] == [DecisionStatus.APPLIED]


async def test_excluded_and_own_sellers_and_other_currencies_do_not_count(shop: Shop) -> None:
    await shop.rule("LM-1", "beat 10 mode auto nocompetitor ceiling ceiling 5500")
    await shop.offer("LM-1", "Rival", "3000", excluded=True)
    await shop.offer("LM-1", "Our store", "2500", ours=True)
    await shop.offer("LM-1", "Dollar shop", "10", currency="USD")
    (decision,) = await shop.run(Clock(), "LM-1")
    assert decision.proposed_price == D(5500)
    assert [entry["code"] for entry in decision.trace][:3] == [
        "open",
        "kept",
        "no_competitor_ceiling",
    ]
    # Another shop's product ids are skipped, not repriced.
    other = await shop.repricer().reprice_products(
        shop.shop_id + 10**9, [shop.ids["LM-1"]], clock=Clock()
    )
    assert other == []
