"""/watch SKU URL: link a competitor's offer to a product and check it at once, so staff
see what the monitor reads there (or why it reads nothing) before they walk away.

The URL is checked before anything is stored: an address that is not a public web page is
refused, and so is a marketplace list that cannot be read (its sellers are not known yet).
Any other problem (no price on the page, a slow or refusing site) is stored with the offer
and told: the monitor tries again, backing off. A URL already watched is not linked twice;
its last state is told instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import MonitorSettings
from souk.connectors.fetch import FetchProblem
from souk.db.models import CompetitorOffer, OfferSource, Product
from souk.errors import InvalidInput
from souk.services.competition_changes import PictureChange
from souk.services.competitors import Competitors, checked_url, marketplace_of
from souk.services.offer_checks import OfferChecker, Seen
from souk.services.offer_records import OfferRecorder, ours_of
from souk.services.products import ProductAdmin


class NotWatched(InvalidInput):
    """The URL cannot be watched; `problem` is the check's (FetchProblem, CheckProblem)."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"not watched: {problem}")
        self.problem = problem


@dataclass(frozen=True)
class Watched:
    product: Product
    url: str
    marketplace: str | None
    new: bool  # False: the URL was watched already, `seen` is its last state
    seen: list[tuple[str, Seen]]  # competitor's name, what its check saw
    changes: list[PictureChange] = field(default_factory=list)


def last_seen(offer: CompetitorOffer) -> Seen:
    return Seen(
        price=offer.price,
        currency=offer.currency,
        in_stock=offer.in_stock,
        problem=offer.problem,
    )


async def watch(
    session: AsyncSession,
    shop_id: int,
    settings: MonitorSettings,
    checker: OfferChecker,
    sku: str,
    raw_url: str,
    *,
    actor: int | None,
    now: datetime,
) -> Watched:
    """Link and check, by the module's rules (UnknownSku, BadUrl, NotWatched)."""
    product = await ProductAdmin(session, shop_id, actor).by_sku(sku, lock=False)
    url = str(checked_url(raw_url))
    competitors = Competitors(session, shop_id, settings)
    marketplace = marketplace_of(settings, url)
    existing = await competitors.watched(product, url)
    if existing:
        names = await competitors.names([offer.competitor_id for offer in existing])
        last = [(names[offer.competitor_id], last_seen(offer)) for offer in existing]
        return Watched(product, url, marketplace, False, last)
    ours = ours_of(product)
    checked: list[tuple[CompetitorOffer, Seen]] = []
    seen_by: list[tuple[str, Seen]] = []
    if marketplace is not None:
        found = await checker.offer_list(url, ours)
        if isinstance(found, Seen):
            raise NotWatched(found.problem or "")
        rows = {seller: row for seller, (row, _) in found.items()}
        offers = await competitors.sellers(product, url, rows, now=now)
        for seller, offer in offers.items():
            checked.append((offer, found[seller][1]))
            seen_by.append((rows[seller].seller_name, found[seller][1]))
    else:
        host = checked_url(url).host or ""
        known = await competitors.by_host(host)
        seen = await checker.page(url, ours, known.selectors if known else None)
        if seen.problem == FetchProblem.BAD_URL.value:
            raise NotWatched(seen.problem)
        competitor = known or await competitors.for_host(host)
        offer, _ = await competitors.offer(
            product, competitor, url, OfferSource.PAGE, now=now, actor=actor
        )
        checked.append((offer, seen))
        seen_by.append((competitor.name, seen))
    changes = await OfferRecorder(session, settings, now).record(checked)
    return Watched(product, url, marketplace, True, seen_by, changes)
