"""Staff answering the repricer: Yes/No to a proposed price, Revert of an applied one, and
the log of a product's decisions. Each answer locks the decision, so a second tap (or
two staff at once) finds it answered and changes nothing."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import DecisionStatus, PriceSource, Product, RepriceDecision
from souk.errors import NotFoundError
from souk.services.products import ProductAdmin
from souk.services.repricing.runs import Decision, applied_reason


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"
    REVERTED = "reverted"
    EXPIRED = "expired"  # the approval's time had run out: nothing changed
    ANSWERED = "answered"  # answered before (a second tap): nothing changed
    PRICE_MOVED = "price_moved"  # the price is no longer the one decided on: nothing changed
    BELOW_COST = "below_cost"  # the cost rose over the proposed price meanwhile
    NOT_APPLIED = "not_applied"  # a revert of a decision that changed no price


@dataclass(frozen=True)
class Answer:
    """What an answer did; `price` is the product's price now."""

    outcome: Outcome
    decision: Decision
    price: Decimal


class DecisionNotFound(NotFoundError):
    """The shop has no such decision (or its product is gone)."""


def revert_reason(decision_id: int) -> str:
    return f"revert {applied_reason(decision_id)}"


class DecisionDesk:
    """One staff member answering one shop's repricing decisions."""

    def __init__(self, session: AsyncSession, shop_id: int, actor: int) -> None:
        self._session = session
        self._shop_id = shop_id
        self._actor = actor
        self._products = ProductAdmin(session, shop_id, actor)

    async def _locked(self, decision_id: int) -> tuple[RepriceDecision, Product]:
        """The decision and its product, both locked (the product first, as runs do)."""
        product = await self._session.scalar(
            select(Product)
            .join(RepriceDecision, RepriceDecision.product_id == Product.id)
            .where(RepriceDecision.id == decision_id, RepriceDecision.shop_id == self._shop_id)
            .with_for_update(of=Product)
        )
        row = await self._session.scalar(
            select(RepriceDecision)
            .where(RepriceDecision.id == decision_id, RepriceDecision.shop_id == self._shop_id)
            .with_for_update()
        )
        if row is None or product is None:
            raise DecisionNotFound(f"no decision #{decision_id}")
        return row, product

    def _answer(self, outcome: Outcome, row: RepriceDecision, product: Product) -> Answer:
        return Answer(outcome, Decision.of(row, product), product.price)

    async def approve(self, decision_id: int, now: datetime) -> Answer:
        """Apply a proposed price: only while it waits, before it expires, and while the
        product's price is still the one it was decided from and the cost allows it."""
        row, product = await self._locked(decision_id)
        refused = self._still_waiting(row, now)
        if refused is not None:
            return self._answer(refused, row, product)
        assert row.proposed_price is not None
        row.decided_by, row.decided_at = self._actor, now
        if product.price != row.old_price:
            row.status = DecisionStatus.STALE
            return self._answer(Outcome.PRICE_MOVED, row, product)
        if product.cost is not None and row.proposed_price < product.cost:
            row.status = DecisionStatus.STALE
            return self._answer(Outcome.BELOW_COST, row, product)
        self._products.write_price(
            product,
            row.proposed_price,
            source=PriceSource.REPRICER,
            reason=applied_reason(row.id),
        )
        row.status, row.applied_at = DecisionStatus.APPLIED, now
        await self._session.flush()
        return self._answer(Outcome.APPLIED, row, product)

    async def reject(self, decision_id: int, now: datetime) -> Answer:
        row, product = await self._locked(decision_id)
        refused = self._still_waiting(row, now)
        if refused is not None:
            return self._answer(refused, row, product)
        row.status = DecisionStatus.REJECTED
        row.decided_by, row.decided_at = self._actor, now
        await self._session.flush()
        return self._answer(Outcome.REJECTED, row, product)

    def _still_waiting(self, row: RepriceDecision, now: datetime) -> Outcome | None:
        """Why the decision can no longer be answered, or None."""
        if row.status is DecisionStatus.PENDING:
            if row.expires_at is not None and row.expires_at <= now:
                row.status = DecisionStatus.EXPIRED
                return Outcome.EXPIRED
            return None
        if row.status is DecisionStatus.EXPIRED:
            return Outcome.EXPIRED
        return Outcome.ANSWERED

    async def revert(self, decision_id: int, now: datetime) -> Answer:
        """Put back the price an applied decision replaced, audited as an undo naming the
        decision; refused when the price has moved on since."""
        row, product = await self._locked(decision_id)
        if row.status is DecisionStatus.REVERTED:
            return self._answer(Outcome.ANSWERED, row, product)
        if row.status is not DecisionStatus.APPLIED:
            return self._answer(Outcome.NOT_APPLIED, row, product)
        if product.price != row.proposed_price:
            return self._answer(Outcome.PRICE_MOVED, row, product)
        self._products.write_price(
            product, row.old_price, source=PriceSource.UNDO, reason=revert_reason(row.id)
        )
        row.status = DecisionStatus.REVERTED
        row.reverted_by, row.reverted_at = self._actor, now
        await self._session.flush()
        return self._answer(Outcome.REVERTED, row, product)

    async def recent(self, product: Product, limit: int) -> list[Decision]:
        """The product's latest decisions, newest first."""
        rows = await self._session.scalars(
            select(RepriceDecision)
            .where(
                RepriceDecision.shop_id == self._shop_id,
                RepriceDecision.product_id == product.id,
            )
            .order_by(RepriceDecision.created_at.desc(), RepriceDecision.id.desc())
            .limit(limit)
        )
        return [Decision.of(row, product) for row in rows]
