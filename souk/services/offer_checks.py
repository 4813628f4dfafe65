"""One check of a competitor's offer: fetch its page (or its marketplace list), read the
price, and judge it against ours. What a check saw is a `Seen`: a price to keep, or the
problem that keeps it from being kept.

A price is only kept when it is in our price's currency (another currency is reported,
never converted) and inside the sanity band around our price (MONITOR_SANITY_*_RATIO):
a competitor at zero, or at a hundred times ours, is a typo or another product, and
taking it would make every undercut and every repricing decision wrong.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from souk.config import MonitorSettings
from souk.connectors.candidates import Availability
from souk.connectors.fetch import FetchError, PageFetcher
from souk.connectors.marketplace import SellerOffer, UnreadableList, fetch_offer_list
from souk.connectors.pages import PageOffer, SelectorSet, extract_offer
from souk.connectors.prices import ParsedPrice


class CheckProblem(enum.StrEnum):
    """Problems of a check besides those of fetching (FetchProblem) and reading a page
    (PageProblem), which are stored by their own values."""

    OTHER_CURRENCY = "other_currency"
    OUT_OF_BAND = "out_of_band"
    UNREADABLE_LIST = "unreadable_list"
    NOT_LISTED = "not_listed"  # the marketplace no longer lists this seller
    BAD_SELECTORS = "bad_selectors"


# A kept price is of no use while these last: the check itself worked.
IGNORED_PRICE = frozenset({CheckProblem.OTHER_CURRENCY.value, CheckProblem.OUT_OF_BAND.value})


@dataclass(frozen=True)
class Ours:
    """Our price of the product, which a competitor's is judged against."""

    price: Decimal
    currency: str


@dataclass(frozen=True)
class Seen:
    """What one check saw: a price (with currency and stock), or a problem; with a price
    *and* a problem (another currency, out of the band) the price is recorded in the
    history but not kept as the offer's. `retry_in`: the host's breaker is open."""

    price: Decimal | None = None
    currency: str | None = None
    in_stock: bool | None = None
    rating: Decimal | None = None
    delivery: str | None = None
    problem: str | None = None
    retry_in: float | None = None

    @property
    def good(self) -> bool:
        return self.problem is None and self.price is not None


def _stock(availability: Availability) -> bool | None:
    if availability is Availability.UNKNOWN:
        return None
    return availability is Availability.IN_STOCK


class PriceJudge:
    """Whether a competitor's price may be kept against ours (see the module)."""

    def __init__(self, settings: MonitorSettings) -> None:
        self._low = Decimal(str(settings.sanity_low_ratio))
        self._high = Decimal(str(settings.sanity_high_ratio))

    def problem(self, price: ParsedPrice, ours: Ours) -> str | None:
        """Why `price` cannot be kept; None when it can."""
        if price.currency != ours.currency:
            return CheckProblem.OTHER_CURRENCY.value
        amount = price.amount
        if amount <= 0 or amount < ours.price * self._low or amount > ours.price * self._high:
            return CheckProblem.OUT_OF_BAND.value
        return None

    def seen(self, price: ParsedPrice, in_stock: bool | None, ours: Ours) -> Seen:
        return Seen(
            price=price.amount,
            currency=price.currency,
            in_stock=in_stock,
            problem=self.problem(price, ours),
        )


class OfferChecker:
    """Checks offers through one polite fetcher and judges their prices."""

    def __init__(self, fetcher: PageFetcher, settings: MonitorSettings) -> None:
        self._fetcher = fetcher
        self._judge = PriceJudge(settings)

    async def page(self, url: str, ours: Ours, selectors: dict[str, str] | None = None) -> Seen:
        """Check a competitor's product page."""
        try:
            chosen = SelectorSet(**selectors) if selectors else None
        except (TypeError, ValueError):
            return Seen(problem=CheckProblem.BAD_SELECTORS.value)
        try:
            fetched = await self._fetcher.fetch(url)
        except FetchError as error:
            return Seen(problem=error.problem.value, retry_in=error.retry_in)
        found = extract_offer(fetched.text(), selectors=chosen, default_currency=ours.currency)
        if not isinstance(found, PageOffer):
            return Seen(problem=found.problem.value)
        return self._judge.seen(found.price, _stock(found.availability), ours)

    async def offer_list(self, url: str, ours: Ours) -> dict[str, tuple[SellerOffer, Seen]] | Seen:
        """Check a marketplace's list of the product's sellers: each seller's row and
        what it says, by seller id; a `Seen` with the problem when the list cannot be
        read at all."""
        try:
            listed = await fetch_offer_list(self._fetcher, url, default_currency=ours.currency)
        except FetchError as error:
            return Seen(problem=error.problem.value, retry_in=error.retry_in)
        except UnreadableList:
            return Seen(problem=CheckProblem.UNREADABLE_LIST.value)
        sellers: dict[str, tuple[SellerOffer, Seen]] = {}
        for row in listed.offers:
            if row.price is None:
                seen = Seen(problem=row.problem, in_stock=row.in_stock)
            else:
                judged = self._judge.seen(row.price, row.in_stock, ours)
                seen = Seen(
                    price=judged.price,
                    currency=judged.currency,
                    in_stock=judged.in_stock,
                    problem=judged.problem,
                    rating=row.rating,
                    delivery=row.delivery,
                )
            sellers[row.seller_id] = (row, seen)
        return sellers
