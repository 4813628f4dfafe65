"""The monitor's run: claim the offers due for a check, check them concurrently through the
polite fetcher, store what was seen, and hand each shop's changed competitor pictures to
`on_changed` in the same transaction (the staff pushes), then, once stored, the changed
products to `on_committed` (the worker queues their repricing).

A run is a series of passes of up to MONITOR_BATCH_SIZE offers, until none are due or
MONITOR_RUN_SECONDS are spent. A pass claims its offers by moving their next check
MONITOR_CLAIM_SECONDS ahead (`FOR UPDATE SKIP LOCKED`, committed at once), so two workers
never check the same offer and a worker that dies mid-pass only delays its offers. The
offers of one marketplace list are claimed together and the list fetched once per pass.
Each pass ends with `on_changed`, so a change is told within one pass, not one run.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import MonitorSettings
from souk.connectors.marketplace import SellerOffer
from souk.db.models import Competitor, CompetitorOffer, OfferSource, Product
from souk.logs import get_logger
from souk.services.competition_changes import PictureChange
from souk.services.competitors import Competitors
from souk.services.offer_checks import CheckProblem, OfferChecker, Ours, Seen
from souk.services.offer_records import OfferRecorder, ours_of

log = get_logger("souk.monitor")

# Called once per shop and pass, inside the transaction that stored the pass.
OnChanged = Callable[[AsyncSession, int, Sequence[PictureChange]], Awaitable[None]]
# Called once per shop and pass after that transaction committed, with the ids of the
# products whose competitor picture changed: the repricer, which needs to see the pass.
OnCommitted = Callable[[int, set[int]], Awaitable[None]]


@dataclass(frozen=True)
class DueOffer:
    """What checking an offer needs, read before the check (no session held meanwhile)."""

    offer_id: int
    shop_id: int
    product_id: int
    source: OfferSource
    url: str
    selectors: dict[str, str] | None
    seller_id: str | None
    ours: Ours


@dataclass(frozen=True)
class ListKey:
    shop_id: int
    product_id: int
    url: str


@dataclass
class Checks:
    """A pass's checks: each offer's, and each marketplace list's rows by seller id."""

    seen: list[tuple[DueOffer, Seen]] = field(default_factory=list)
    lists: dict[ListKey, dict[str, tuple[SellerOffer, Seen]]] = field(default_factory=dict)


@dataclass
class RunReport:
    checked: int = 0
    good: int = 0
    problems: int = 0
    passes: int = 0
    seconds: float = 0.0
    changed: dict[int, set[int]] = field(default_factory=dict)  # product ids by shop

    @property
    def changed_products(self) -> int:
        return sum(len(ids) for ids in self.changed.values())


class MonitorService:
    """Runs the checks of due offers; see the module."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        settings: MonitorSettings,
        checker: OfferChecker,
        on_changed: OnChanged,
        *,
        now: Callable[[], datetime],
        on_committed: OnCommitted | None = None,
        shop_id: int | None = None,
    ) -> None:
        self._shop_id = shop_id  # None: every shop's offers
        self._sessions = session_factory
        self._settings = settings
        self._checker = checker
        self._on_changed = on_changed
        self._on_committed = on_committed
        self._now = now

    async def run(
        self, *, time_budget: float | None = None, stop: Callable[[], bool] | None = None
    ) -> RunReport:
        """Passes until nothing is due, the budget (MONITOR_RUN_SECONDS) is spent or
        `stop()` says so (between passes)."""
        budget = self._settings.run_seconds if time_budget is None else time_budget
        report, started = RunReport(), time.monotonic()
        while time.monotonic() - started < budget and not (stop and stop()):
            claimed = await self._claim()
            if not claimed:
                break
            await self._pass(claimed, report)
        report.seconds = time.monotonic() - started
        if report.checked:
            log.info(
                "competitor offers checked",
                checked=report.checked,
                good=report.good,
                problems=report.problems,
                changed_products=report.changed_products,
                seconds=round(report.seconds, 2),
            )
        return report

    async def _claim(self) -> list[int]:
        """Take up to a batch of due offers (and their marketplace lists' other sellers)."""
        now = self._now()
        until = now + timedelta(seconds=self._settings.claim_seconds)
        due = (
            select(CompetitorOffer.id)
            .where(
                CompetitorOffer.is_active.is_(True),
                CompetitorOffer.source != OfferSource.FILE,
                CompetitorOffer.next_check_at <= now,
            )
            .order_by(CompetitorOffer.next_check_at)
            .limit(self._settings.batch_size)
            .with_for_update(skip_locked=True)
        )
        if self._shop_id is not None:
            due = due.where(CompetitorOffer.shop_id == self._shop_id)
        async with self._sessions() as session, session.begin():
            ids = list(
                await session.scalars(
                    update(CompetitorOffer)
                    .where(CompetitorOffer.id.in_(due.scalar_subquery()))
                    .values(next_check_at=until)
                    .returning(CompetitorOffer.id)
                )
            )
            lists = list(
                await session.execute(
                    select(CompetitorOffer.shop_id, CompetitorOffer.url)
                    .where(
                        CompetitorOffer.id.in_(ids),
                        CompetitorOffer.source == OfferSource.MARKETPLACE,
                    )
                    .distinct()
                )
            )
            if lists:
                siblings = (
                    select(CompetitorOffer.id)
                    .where(
                        CompetitorOffer.is_active.is_(True),
                        CompetitorOffer.source == OfferSource.MARKETPLACE,
                        CompetitorOffer.id.not_in(ids),
                        or_(
                            *(
                                and_(CompetitorOffer.shop_id == s, CompetitorOffer.url == u)
                                for s, u in lists
                            )
                        ),
                    )
                    .with_for_update(skip_locked=True)
                )
                ids += list(
                    await session.scalars(
                        update(CompetitorOffer)
                        .where(CompetitorOffer.id.in_(siblings.scalar_subquery()))
                        .values(next_check_at=until)
                        .returning(CompetitorOffer.id)
                    )
                )
        return ids

    async def _due(self, ids: list[int]) -> list[DueOffer]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(CompetitorOffer, Competitor, Product)
                .join(Competitor, Competitor.id == CompetitorOffer.competitor_id)
                .join(Product, Product.id == CompetitorOffer.product_id)
                .where(CompetitorOffer.id.in_(ids))
                .order_by(CompetitorOffer.id)
            )
            return [
                DueOffer(
                    offer.id,
                    offer.shop_id,
                    offer.product_id,
                    offer.source,
                    offer.url,
                    competitor.selectors,
                    competitor.seller_id,
                    ours_of(product),
                )
                for offer, competitor, product in rows
            ]

    async def _pass(self, ids: list[int], report: RunReport) -> None:
        checks = await self._check(await self._due(ids))
        async with self._sessions() as session, session.begin():
            offers = {
                offer.id: offer
                for offer in await session.scalars(
                    select(CompetitorOffer).where(CompetitorOffer.id.in_(ids))
                )
            }
            checked = [(offers[due.offer_id], seen) for due, seen in checks.seen]
            checked += await self._new_sellers(session, checks)
            changes = await OfferRecorder(session, self._settings, self._now()).record(checked)
            by_shop: dict[int, list[PictureChange]] = defaultdict(list)
            for change in changes:
                by_shop[change.shop_id].append(change)
            for shop_id, shop_changes in sorted(by_shop.items()):
                await self._on_changed(session, shop_id, shop_changes)
                report.changed.setdefault(shop_id, set()).update(
                    change.product_id for change in shop_changes
                )
        if self._on_committed is not None:
            for shop_id, shop_changes in sorted(by_shop.items()):
                await self._on_committed(shop_id, {c.product_id for c in shop_changes})
        report.passes += 1
        report.checked += len(checked)
        report.good += sum(1 for _, seen in checked if seen.good)
        report.problems += sum(1 for _, seen in checked if not seen.good)

    async def _check(self, due: list[DueOffer]) -> Checks:
        """Check every offer, at most MONITOR_RUN_CONCURRENCY at once (each host's own
        slots and spacing are the fetcher's); a marketplace list once for its sellers."""
        slots = asyncio.Semaphore(self._settings.run_concurrency)
        checks = Checks()
        lists: dict[ListKey, list[DueOffer]] = defaultdict(list)
        for offer in due:
            if offer.source is OfferSource.MARKETPLACE:
                lists[ListKey(offer.shop_id, offer.product_id, offer.url)].append(offer)

        async def page(offer: DueOffer) -> None:
            async with slots:
                seen = await self._checker.page(offer.url, offer.ours, offer.selectors)
            checks.seen.append((offer, seen))

        async def offer_list(key: ListKey, sellers: list[DueOffer]) -> None:
            async with slots:
                found = await self._checker.offer_list(key.url, sellers[0].ours)
            if isinstance(found, Seen):
                checks.seen += [(offer, found) for offer in sellers]
                return
            checks.lists[key] = found
            gone = Seen(problem=CheckProblem.NOT_LISTED.value, in_stock=False)
            for offer in sellers:
                row = found.get(offer.seller_id or "")
                checks.seen.append((offer, row[1] if row else gone))

        await asyncio.gather(
            *(page(offer) for offer in due if offer.source is not OfferSource.MARKETPLACE),
            *(offer_list(key, sellers) for key, sellers in lists.items()),
        )
        return checks

    async def _new_sellers(
        self, session: AsyncSession, checks: Checks
    ) -> list[tuple[CompetitorOffer, Seen]]:
        """Sellers a marketplace list shows that are not watched yet for the product."""
        new: list[tuple[CompetitorOffer, Seen]] = []
        for key, found in checks.lists.items():
            known = {
                due.seller_id
                for due, _ in checks.seen
                if due.product_id == key.product_id and due.url == key.url
            }
            fresh = {seller: row for seller, (row, _) in found.items() if seller not in known}
            if not fresh:
                continue
            product = await session.get_one(Product, key.product_id)
            offers = await Competitors(session, key.shop_id, self._settings).sellers(
                product, key.url, fresh, now=self._now()
            )
            new += [(offer, found[seller][1]) for seller, offer in offers.items()]
        return new
