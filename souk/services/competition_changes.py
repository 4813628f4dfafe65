"""The competitor picture of a product (every offer we watch of it, as last seen) before
and after a check, and the events staff are told about:

- an undercut: a competitor that counts (not excluded, not ours, not out of stock) is now
  below our price and was not before;
- a new lowest price: the lowest price of the competitors that count dropped (and the
  offer now lowest is not a fresh undercut, already told);
- a competitor out of stock: it was in stock and is not now;
- a price ignored: a check saw a price in another currency or out of the sanity band
  (told when an offer's problem becomes one of those, not at every check).

Each event names the observation that caused it, which makes its push key: one push per
event however often the code announcing it runs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from souk.services.offer_checks import IGNORED_PRICE, Seen


@dataclass(frozen=True)
class OfferState:
    offer_id: int
    competitor: str
    counts: bool  # neither excluded nor ours
    price: Decimal | None
    in_stock: bool | None
    problem: str | None

    @property
    def available(self) -> bool:
        """Priced and not known to be out of stock (pages often state no availability)."""
        return self.price is not None and self.in_stock is not False


@dataclass(frozen=True)
class Picture:
    """Every watched offer of one product, by offer id."""

    offers: dict[int, OfferState]

    def lowest(self) -> OfferState | None:
        """The cheapest available offer of the competitors that count."""
        offers = [o for o in self.offers.values() if o.counts and o.available]
        return min(offers, key=lambda o: (o.price, o.offer_id)) if offers else None


@dataclass(frozen=True)
class PictureChange:
    """A product whose picture a check changed. `seen`: what the checks saw of its
    offers and the ids of the observations stored, by offer id."""

    shop_id: int
    product_id: int
    sku: str
    title: str
    ours: Decimal
    currency: str
    before: Picture
    after: Picture
    seen: dict[int, tuple[int, Seen]] = field(default_factory=dict)


class EventKind(enum.StrEnum):
    UNDERCUT = "undercut"
    NEW_LOWEST = "new_lowest"
    OUT_OF_STOCK = "out_of_stock"
    PRICE_IGNORED = "price_ignored"


@dataclass(frozen=True)
class CompetitionEvent:
    kind: EventKind
    change: PictureChange
    offer: OfferState
    previous: OfferState | None
    key: str  # unique per event: its push's idempotency key


def _undercuts(state: OfferState | None, ours: Decimal) -> bool:
    return (
        state is not None
        and state.counts
        and state.available
        and state.price is not None
        and state.price < ours
    )


def events(change: PictureChange) -> list[CompetitionEvent]:
    """What staff are told about one changed picture, by the module's rules."""
    found: list[CompetitionEvent] = []
    before, after = change.before.offers, change.after.offers

    def add(kind: EventKind, offer: OfferState) -> None:
        seen = change.seen.get(offer.offer_id)
        observed = seen[0] if seen else f"{offer.price}"
        key = f"competition:{kind.value}:{change.product_id}:{offer.offer_id}:{observed}"
        found.append(CompetitionEvent(kind, change, offer, before.get(offer.offer_id), key))

    for offer_id, offer in sorted(after.items()):
        previous = before.get(offer_id)
        if _undercuts(offer, change.ours) and not _undercuts(previous, change.ours):
            add(EventKind.UNDERCUT, offer)
        if offer.counts and offer.in_stock is False and previous and previous.in_stock:
            add(EventKind.OUT_OF_STOCK, offer)
        if offer.problem in IGNORED_PRICE and (
            previous is None or previous.problem != offer.problem
        ):
            add(EventKind.PRICE_IGNORED, offer)
    lowest, was = change.after.lowest(), change.before.lowest()
    undercut = {e.offer.offer_id for e in found if e.kind is EventKind.UNDERCUT}
    if (
        lowest is not None
        and was is not None
        and lowest.price is not None
        and was.price is not None
        and lowest.price < was.price
        and lowest.offer_id not in undercut
    ):
        add(EventKind.NEW_LOWEST, lowest)
    return found
