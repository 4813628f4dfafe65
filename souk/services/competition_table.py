"""What /competitors shows of a product: each watched offer as last seen, and the price
history of each (good observations only: an ignored or failed check has no price to draw).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Competitor, CompetitorOffer, PriceObservation


@dataclass(frozen=True)
class OfferRow:
    offer_id: int
    competitor: str
    price: Decimal | None
    currency: str | None
    in_stock: bool | None
    rating: Decimal | None
    checked_at: datetime | None
    problem: str | None
    is_excluded: bool
    is_ours: bool


@dataclass(frozen=True)
class PriceSeries:
    competitor: str
    points: list[tuple[datetime, Decimal]]


async def offer_rows(session: AsyncSession, shop_id: int, product_id: int) -> list[OfferRow]:
    """The product's watched offers, cheapest first (unpriced last)."""
    rows = await session.execute(
        select(CompetitorOffer, Competitor)
        .join(Competitor, Competitor.id == CompetitorOffer.competitor_id)
        .where(
            CompetitorOffer.shop_id == shop_id,
            CompetitorOffer.product_id == product_id,
            CompetitorOffer.is_active.is_(True),
        )
        .order_by(CompetitorOffer.price.asc().nulls_last(), Competitor.name)
    )
    return [
        OfferRow(
            offer.id,
            competitor.name,
            offer.price,
            offer.currency,
            offer.in_stock,
            offer.rating if offer.rating is not None else competitor.rating,
            offer.checked_at,
            offer.problem,
            competitor.is_excluded,
            competitor.is_ours,
        )
        for offer, competitor in rows
    ]


async def price_history(
    session: AsyncSession, shop_id: int, product_id: int, *, since: datetime
) -> list[PriceSeries]:
    """Each watched offer's good prices since `since`, oldest first."""
    rows = await session.execute(
        select(Competitor.name, PriceObservation.observed_at, PriceObservation.price)
        .join(CompetitorOffer, CompetitorOffer.id == PriceObservation.offer_id)
        .join(Competitor, Competitor.id == CompetitorOffer.competitor_id)
        .where(
            PriceObservation.shop_id == shop_id,
            CompetitorOffer.product_id == product_id,
            CompetitorOffer.is_active.is_(True),
            PriceObservation.observed_at >= since,
            PriceObservation.problem.is_(None),
            PriceObservation.price.is_not(None),
        )
        .order_by(Competitor.name, PriceObservation.observed_at)
    )
    series: dict[str, list[tuple[datetime, Decimal]]] = {}
    for name, observed_at, price in rows:
        assert price is not None  # the query keeps priced observations only
        series.setdefault(name, []).append((observed_at, price))
    return [PriceSeries(name, points) for name, points in series.items()]


HISTORY_DAYS = timedelta(days=30)
