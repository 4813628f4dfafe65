"""Storing what checks saw: an observation per check (the price history), the last good
price kept on the offer, the next check planned (backing off while checks fail), and the
competitor pictures of the products before and after, to tell what changed.

Used by the monitor's runs, by /watch (the first check) and by price files alike, so an
offer's row means the same whoever wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import MonitorSettings
from souk.db.models import Competitor, CompetitorOffer, PriceObservation, Product
from souk.services.competition_changes import OfferState, Picture, PictureChange
from souk.services.offer_checks import IGNORED_PRICE, Ours, Seen

DEFAULT_TIER = "normal"


def interval(settings: MonitorSettings, tier: str) -> timedelta:
    """Time between two checks of an offer of `tier` (an unknown tier is normal)."""
    minutes = settings.tier_minutes
    return timedelta(minutes=minutes.get(tier) or minutes.get(DEFAULT_TIER) or 360)


def next_check(
    settings: MonitorSettings, tier: str, failures: int, now: datetime, retry_in: float | None
) -> datetime:
    """When to check again: the tier's interval, doubled for each failure in a row up to
    MONITOR_MAX_BACKOFF_MINUTES, and never while the host's breaker is open."""
    wait = interval(settings, tier) * (1 << min(failures, 16))
    wait = min(wait, max(interval(settings, tier), timedelta(minutes=settings.max_backoff_minutes)))
    if retry_in is not None:
        wait = max(wait, timedelta(seconds=retry_in))
    return now + wait


def ours_of(product: Product) -> Ours:
    return Ours(product.price, product.currency)


class OfferRecorder:
    """Records checks of one shop's or many shops' offers in the caller's transaction."""

    def __init__(self, session: AsyncSession, settings: MonitorSettings, now: datetime) -> None:
        self._session = session
        self._settings = settings
        self._now = now

    async def pictures(self, product_ids: Iterable[int]) -> dict[int, Picture]:
        """The competitor picture of each product (active offers only)."""
        ids = sorted(set(product_ids))
        found: dict[int, dict[int, OfferState]] = {product_id: {} for product_id in ids}
        if not ids:
            return {}
        rows = await self._session.execute(
            select(
                CompetitorOffer.product_id,
                CompetitorOffer.id,
                CompetitorOffer.price,
                CompetitorOffer.in_stock,
                CompetitorOffer.problem,
                Competitor.name,
                Competitor.is_excluded,
                Competitor.is_ours,
            )
            .join(Competitor, Competitor.id == CompetitorOffer.competitor_id)
            .where(CompetitorOffer.product_id.in_(ids), CompetitorOffer.is_active.is_(True))
        )
        for product_id, offer_id, price, in_stock, problem, name, excluded, ours in rows:
            found[product_id][offer_id] = OfferState(
                offer_id, name, not (excluded or ours), price, in_stock, problem
            )
        return {product_id: Picture(offers) for product_id, offers in found.items()}

    def apply(self, offer: CompetitorOffer, seen: Seen) -> PriceObservation:
        """Store one check of `offer`: its observation, and on the row the price kept (only
        a good one replaces it), the problem and the next check."""
        now = self._now
        observation = PriceObservation(
            shop_id=offer.shop_id,
            offer_id=offer.id,
            observed_at=now,
            price=seen.price,
            currency=seen.currency,
            in_stock=seen.in_stock,
            rating=seen.rating,
            problem=seen.problem,
        )
        self._session.add(observation)
        offer.checked_at = now
        offer.problem = seen.problem
        if seen.rating is not None:
            offer.rating = seen.rating
        if seen.delivery is not None:
            offer.delivery = seen.delivery
        if seen.good:
            offer.price, offer.currency, offer.in_stock = seen.price, seen.currency, seen.in_stock
            offer.observed_at = now
        elif seen.price is None and seen.in_stock is False:
            offer.in_stock = False  # a sold-out offer without a price is still sold out
        if seen.good or seen.problem in IGNORED_PRICE:
            offer.failures = 0
        else:
            offer.failures = (offer.failures or 0) + 1
        offer.next_check_at = next_check(
            self._settings, offer.tier, offer.failures, now, seen.retry_in
        )
        return observation

    async def record(self, checked: Sequence[tuple[CompetitorOffer, Seen]]) -> list[PictureChange]:
        """Apply every check, then say which products' pictures changed and how."""
        product_ids = {offer.product_id for offer, _ in checked}
        before = await self.pictures(product_ids)
        stored = [(offer, seen, self.apply(offer, seen)) for offer, seen in checked]
        await self._session.flush()
        after = await self.pictures(product_ids)
        products = {
            p.id: p
            for p in await self._session.scalars(select(Product).where(Product.id.in_(product_ids)))
        }
        seen_by_product: dict[int, dict[int, tuple[int, Seen]]] = {}
        for offer, seen, observation in stored:
            seen_by_product.setdefault(offer.product_id, {})[offer.id] = (observation.id, seen)
        changes = []
        for product_id in sorted(product_ids):
            was, now = before.get(product_id, Picture({})), after[product_id]
            if was == now:
                continue
            product = products[product_id]
            changes.append(
                PictureChange(
                    shop_id=product.shop_id,
                    product_id=product_id,
                    sku=product.sku,
                    title=product.title,
                    ours=product.price,
                    currency=product.currency,
                    before=was,
                    after=now,
                    seen=seen_by_product.get(product_id, {}),
                )
            )
        return changes
