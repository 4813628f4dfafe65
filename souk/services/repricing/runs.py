"""Running the repricing rules of products (monitoring calls this after each check run):
one transaction per product, the product locked, the pipeline run on what the tables
hold, the decision logged with its trace and, by the rule's mode, applied (auto),
proposed to staff (approve) or only logged (dry run)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import RepriceSettings
from souk.db.models import (
    Competitor,
    CompetitorOffer,
    DecisionStatus,
    NoCompetitor,
    PriceSource,
    Product,
    RepriceDecision,
    RepriceMode,
    RepricePause,
    RepriceRule,
)
from souk.logs import get_logger
from souk.services.products import ProductAdmin
from souk.services.repricing.pipeline import decide
from souk.services.repricing.rules import RuleBook
from souk.services.repricing.terms import OfferSeen, RuleTerms, Situation, price_unit

log = get_logger("souk.repricing")

Clock = Callable[[], datetime]


def applied_reason(decision_id: int) -> str:
    """The reason on the audit row of a price the repricer set."""
    return f"reprice #{decision_id}"


@dataclass(frozen=True)
class Decision:
    """A logged decision, as pushes and /reprice_log show it."""

    id: int
    shop_id: int
    product_id: int
    sku: str
    title: str
    mode: RepriceMode
    status: DecisionStatus
    currency: str
    old_price: Decimal
    proposed_price: Decimal | None
    trace: list[dict[str, Any]]
    created_at: datetime
    expires_at: datetime | None = None
    decided_by: int | None = None

    @classmethod
    def of(cls, row: RepriceDecision, product: Product) -> Decision:
        return cls(
            id=row.id,
            shop_id=row.shop_id,
            product_id=row.product_id,
            sku=product.sku,
            title=product.title,
            mode=row.mode,
            status=row.status,
            currency=row.currency,
            old_price=row.old_price,
            proposed_price=row.proposed_price,
            trace=row.trace,
            created_at=row.created_at,
            expires_at=row.expires_at,
            decided_by=row.decided_by,
        )


# Called in each decision's transaction when staff are to hear of it (applied, or to be
# approved): queues their push.
Announce = Callable[[AsyncSession, Decision], Awaitable[object]]

_ANNOUNCED = (DecisionStatus.APPLIED, DecisionStatus.PENDING)


class Repricer:
    """Runs the rules of a shop's products and logs every decision."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        settings: RepriceSettings,
        *,
        announce: Announce | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._settings = settings
        self._announce = announce

    async def reprice_products(
        self, shop_id: int, product_ids: Sequence[int], *, clock: Clock
    ) -> list[Decision]:
        """A decision per product that has a rule (its own or its category's), each in
        its own transaction; products without a rule, off sale or not the shop's are
        skipped."""
        decisions: list[Decision] = []
        for product_id in await self._with_rules(shop_id, product_ids):
            async with self._session_factory() as session, session.begin():
                decision = await self._decide(session, shop_id, product_id, clock())
                if decision is None:
                    continue
                if self._announce is not None and decision.status in _ANNOUNCED:
                    await self._announce(session, decision)
            decisions.append(decision)
        return decisions

    async def _with_rules(self, shop_id: int, product_ids: Sequence[int]) -> list[int]:
        """Of `product_ids`, those of the shop with a rule of their own or of their
        category, in one query: a monitoring pass hands on thousands of products, most
        often without rules, and each decision takes a transaction of its own."""
        ruled = select(RepriceRule.id).where(
            RepriceRule.shop_id == shop_id,
            (RepriceRule.product_id == Product.id)
            | (RepriceRule.category_id == Product.category_id),
        )
        async with self._session_factory() as session:
            found = await session.scalars(
                select(Product.id)
                .where(
                    Product.shop_id == shop_id,
                    Product.id.in_(set(product_ids)),
                    ruled.exists(),
                )
                .order_by(Product.id)
            )
            return list(found)

    async def _decide(
        self, session: AsyncSession, shop_id: int, product_id: int, now: datetime
    ) -> Decision | None:
        product = await session.scalar(
            select(Product)
            .where(Product.id == product_id, Product.shop_id == shop_id)
            .with_for_update()
        )
        if product is None or not product.is_active:
            return None
        effect = await RuleBook(session, shop_id).in_effect(product)
        if effect.rule is None:
            return None
        rule = effect.rule
        terms = RuleTerms.of(rule, NoCompetitor(self._settings.no_competitor))
        situation = await self._situation(session, product, now)
        verdict = decide(terms, situation, await self._offers(session, product))
        row = RepriceDecision(
            shop_id=shop_id,
            product_id=product.id,
            rule_id=rule.id,
            mode=rule.mode,
            status=self._status(rule.mode, verdict.price),
            currency=product.currency,
            old_price=product.price,
            proposed_price=verdict.price,
            trace=verdict.trace,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        if row.status is DecisionStatus.PENDING:
            row.expires_at = now + timedelta(minutes=self._settings.approval_minutes)
        elif row.status is DecisionStatus.APPLIED:
            assert verdict.price is not None
            ProductAdmin(session, shop_id, None).write_price(
                product, verdict.price, source=PriceSource.REPRICER, reason=applied_reason(row.id)
            )
            row.applied_at = now
        await session.flush()
        log.info(
            "repriced",
            shop=shop_id,
            product=product.id,
            decision=row.id,
            status=row.status.value,
            old=str(row.old_price),
            proposed=str(row.proposed_price),
        )
        return Decision.of(row, product)

    @staticmethod
    def _status(mode: RepriceMode, price: Decimal | None) -> DecisionStatus:
        if price is None:
            return DecisionStatus.HELD
        return {
            RepriceMode.AUTO: DecisionStatus.APPLIED,
            RepriceMode.DRY_RUN: DecisionStatus.DRY_RUN,
            RepriceMode.APPROVE: DecisionStatus.PENDING,
        }[mode]

    async def _situation(self, session: AsyncSession, product: Product, now: datetime) -> Situation:
        # Approvals nobody answered in time are closed here, so the log tells them apart.
        await session.execute(
            update(RepriceDecision)
            .where(
                RepriceDecision.product_id == product.id,
                RepriceDecision.status == DecisionStatus.PENDING,
                RepriceDecision.expires_at <= now,
            )
            .values(status=DecisionStatus.EXPIRED)
        )
        pending = await session.scalar(
            select(RepriceDecision.id).where(
                RepriceDecision.product_id == product.id,
                RepriceDecision.status == DecisionStatus.PENDING,
            )
        )
        last_change = await session.scalar(
            select(
                func.max(func.greatest(RepriceDecision.applied_at, RepriceDecision.reverted_at))
            ).where(
                RepriceDecision.product_id == product.id,
                RepriceDecision.status.in_((DecisionStatus.APPLIED, DecisionStatus.REVERTED)),
            )
        )
        paused = await session.scalar(
            select(func.count()).where(RepricePause.shop_id == product.shop_id)
        )
        return Situation(
            price=product.price,
            currency=product.currency,
            unit=price_unit(product.currency, self._settings.whole_unit_currencies),
            now=now,
            cost=product.cost,
            paused=bool(paused),
            last_change_at=last_change,
            pending_id=pending,
        )

    @staticmethod
    async def _offers(session: AsyncSession, product: Product) -> list[OfferSeen]:
        rows = await session.execute(
            select(CompetitorOffer, Competitor)
            .join(Competitor, Competitor.id == CompetitorOffer.competitor_id)
            .where(
                CompetitorOffer.shop_id == product.shop_id,
                CompetitorOffer.product_id == product.id,
                CompetitorOffer.is_active.is_(True),
            )
            .order_by(CompetitorOffer.id)
        )
        return [
            OfferSeen(
                competitor=competitor.name,
                price=offer.price,
                currency=offer.currency,
                in_stock=offer.in_stock,
                rating=offer.rating if offer.rating is not None else competitor.rating,
                is_excluded=competitor.is_excluded,
                is_ours=competitor.is_ours,
            )
            for offer, competitor in rows
        ]
