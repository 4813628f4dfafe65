"""Staff's competitors and the offers of theirs we watch: linking an offer by its URL (the
competitor found or created by the URL's host, or every seller of a marketplace list),
unlinking it, and marking a competitor excluded, included or ours.

A URL is refused before anything is stored when it is not an http(s) address with a host;
private addresses are refused by the first check (the fetcher's guard), and /watch stores
nothing then either. Linking the same URL twice finds the offer already linked.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from souk.config import MonitorSettings
from souk.connectors.marketplace import SellerOffer
from souk.db.models import Competitor, CompetitorOffer, OfferSource, Product
from souk.errors import InvalidInput, NotFoundError
from souk.services.offer_records import interval

MAX_URL = 2000


class BadUrl(InvalidInput):
    def __init__(self, url: str) -> None:
        super().__init__(f"not an http(s) address: {url!r}")
        self.url = url


class UnknownCompetitor(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no competitor named {name!r}")
        self.name = name


class UnknownTier(InvalidInput):
    def __init__(self, tier: str) -> None:
        super().__init__(f"no check tier {tier!r}")
        self.tier = tier


class CompetitorFlag(enum.StrEnum):
    EXCLUDE = "exclude"  # its offers are left out of undercuts and repricing
    INCLUDE = "include"  # counts again (neither excluded nor ours)
    OURS = "ours"  # the shop's own store (on a marketplace)


def checked_url(raw: str) -> URL:
    """An http(s) URL with a host, without its fragment; BadUrl otherwise."""
    text = raw.strip()
    try:
        url = URL(text).with_fragment(None)
    except ValueError:
        raise BadUrl(text) from None
    if len(text) > MAX_URL or url.scheme not in ("http", "https") or not url.host:
        raise BadUrl(text)
    return url


def marketplace_of(settings: MonitorSettings, url: str) -> str | None:
    """The marketplace whose offers API `url` is under (MONITOR_MARKETPLACES), if any."""
    for name, prefix in sorted(settings.marketplaces.items()):
        if url.startswith(prefix):
            return name
    return None


async def _competitor(session: AsyncSession, shop_id: int, **where: object) -> Competitor | None:
    statement = select(Competitor).where(Competitor.shop_id == shop_id)
    for column, value in where.items():
        statement = statement.where(getattr(Competitor, column) == value)
    return await session.scalar(statement.order_by(Competitor.id).limit(1))


class Competitors:
    """One shop's competitors and watched offers."""

    def __init__(self, session: AsyncSession, shop_id: int, settings: MonitorSettings) -> None:
        self._session = session
        self._shop_id = shop_id
        self._settings = settings

    async def named(self, name: str) -> Competitor:
        found = await self._session.scalar(
            select(Competitor).where(
                Competitor.shop_id == self._shop_id,
                func.lower(Competitor.name) == name.strip().lower(),
            )
        )
        if found is None:
            raise UnknownCompetitor(name)
        return found

    async def by_host(self, host: str) -> Competitor | None:
        return await _competitor(
            self._session, self._shop_id, host=host.lower().removeprefix("www.")
        )

    async def for_host(self, host: str, name: str | None = None) -> Competitor:
        """The competitor named `name`, else the one whose pages live on `host`; created
        (named after the host unless named) if there is none."""
        if name is not None:
            try:
                return await self.named(name)
            except UnknownCompetitor:
                pass
        found = await self.by_host(host)
        if found is not None:
            return found
        return await self._created(name or host, host=host.lower().removeprefix("www."))

    async def named_or_new(self, name: str) -> Competitor:
        try:
            return await self.named(name)
        except UnknownCompetitor:
            return await self._created(name.strip())

    async def names(self, competitor_ids: list[int]) -> dict[int, str]:
        rows = await self._session.execute(
            select(Competitor.id, Competitor.name).where(Competitor.id.in_(competitor_ids))
        )
        return {competitor_id: name for competitor_id, name in rows}

    async def seller(self, marketplace: str, row: SellerOffer) -> Competitor:
        """The marketplace seller's competitor row, created if new (its rating refreshed)."""
        found = await _competitor(
            self._session, self._shop_id, marketplace=marketplace, seller_id=row.seller_id
        )
        if found is None:
            name = row.seller_name
            if await _competitor(self._session, self._shop_id, name=name) is not None:
                name = f"{row.seller_name} ({marketplace} {row.seller_id})"[:200]
            found = await self._created(name, marketplace=marketplace, seller_id=row.seller_id)
        if row.rating is not None:
            found.rating = row.rating
        return found

    async def _created(self, name: str, **values: object) -> Competitor:
        competitor = Competitor(shop_id=self._shop_id, name=name[:200], **values)
        self._session.add(competitor)
        await self._session.flush()
        return competitor

    async def offer(
        self,
        product: Product,
        competitor: Competitor,
        url: str,
        source: OfferSource,
        *,
        now: datetime,
        actor: int | None = None,
    ) -> tuple[CompetitorOffer, bool]:
        """The offer of `competitor` for `product` at `url`, created (due now) if new, made
        active again if it was unlinked; True when it was not being watched."""
        statement = (
            insert(CompetitorOffer)
            .values(
                shop_id=self._shop_id,
                product_id=product.id,
                competitor_id=competitor.id,
                source=source,
                url=url,
                next_check_at=now,
                added_by_telegram_id=actor,
            )
            .on_conflict_do_nothing(index_elements=["product_id", "competitor_id", "url"])
            .returning(CompetitorOffer.id)
        )
        created = await self._session.scalar(statement)
        offer = await self._session.scalar(
            select(CompetitorOffer)
            .where(
                CompetitorOffer.product_id == product.id,
                CompetitorOffer.competitor_id == competitor.id,
                CompetitorOffer.url == url,
            )
            .execution_options(populate_existing=True)
        )
        assert offer is not None
        was_active = offer.is_active
        if not was_active:
            offer.is_active, offer.next_check_at, offer.failures = True, now, 0
        return offer, created is not None or not was_active

    async def sellers(
        self, product: Product, url: str, rows: dict[str, SellerOffer], *, now: datetime
    ) -> dict[str, CompetitorOffer]:
        """An offer per seller of a marketplace list (source marketplace, the list's URL)."""
        marketplace = marketplace_of(self._settings, url) or URL(url).host or "marketplace"
        offers = {}
        for seller_id, row in rows.items():
            competitor = await self.seller(marketplace, row)
            offers[seller_id], _ = await self.offer(
                product, competitor, url, OfferSource.MARKETPLACE, now=now
            )
        return offers

    async def watched(self, product: Product, url: str) -> list[CompetitorOffer]:
        """The active offers of `product` at `url` (one page, or a list's sellers)."""
        return list(
            await self._session.scalars(
                select(CompetitorOffer)
                .where(
                    CompetitorOffer.shop_id == self._shop_id,
                    CompetitorOffer.product_id == product.id,
                    CompetitorOffer.url == url,
                    CompetitorOffer.is_active.is_(True),
                )
                .order_by(CompetitorOffer.id)
            )
        )

    async def unwatch(self, product: Product, target: str) -> int:
        """Stop watching the product's offers at URL `target`, or of the competitor
        named `target`; how many stopped (their history stays)."""
        statement = select(CompetitorOffer).where(
            CompetitorOffer.shop_id == self._shop_id,
            CompetitorOffer.product_id == product.id,
            CompetitorOffer.is_active.is_(True),
        )
        try:
            url = str(checked_url(target))
            statement = statement.where(CompetitorOffer.url == url)
        except BadUrl:
            competitor = await self.named(target)
            statement = statement.where(CompetitorOffer.competitor_id == competitor.id)
        offers = list(await self._session.scalars(statement))
        for offer in offers:
            offer.is_active = False
        return len(offers)

    async def set_tier(self, product: Product, tier: str, now: datetime) -> int:
        """Check the product's watched offers at `tier`'s interval (MONITOR_TIER_MINUTES)
        from now on; how many offers. One due later than that interval from now is due
        then: a product made "fast" is not left waiting for its "slow" check."""
        if tier not in self._settings.tier_minutes:
            raise UnknownTier(tier)
        soonest = now + interval(self._settings, tier)
        offers = await self._session.scalars(
            select(CompetitorOffer).where(
                CompetitorOffer.shop_id == self._shop_id,
                CompetitorOffer.product_id == product.id,
                CompetitorOffer.is_active.is_(True),
            )
        )
        count = 0
        for offer in offers:
            offer.tier = tier
            if offer.next_check_at is None or offer.next_check_at > soonest:
                offer.next_check_at = soonest
            count += 1
        return count

    async def flag(self, name: str, flag: CompetitorFlag) -> Competitor:
        competitor = await self.named(name)
        competitor.is_excluded = flag is CompetitorFlag.EXCLUDE
        competitor.is_ours = flag is CompetitorFlag.OURS
        return competitor
