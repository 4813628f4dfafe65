"""Publishing a shop's Kaspi price feed: regenerated only when what it offers changed,
checked before it replaces the one served, refused (the last good one kept) when empty,
malformed or sharply shrunk.

One attempt runs in one REPEATABLE READ transaction: the fingerprint of the offers and
the offers written come from the same snapshot, so a change committed meanwhile is
never lost (it changes the fingerprint the next refresh sees). A transaction-scoped
advisory lock per shop makes concurrent attempts (two beat ticks, the CLI) skip rather
than wait or publish twice.
"""

from __future__ import annotations

import enum
import hashlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import FeedSettings
from souk.connectors.kaspi import FeedHeader, KaspiOffer, render_feed
from souk.connectors.kaspi_check import FeedCheck, FeedFacts, InvalidFeed
from souk.db.models import Category, KaspiFeed, Product, Shop
from souk.errors import NotFoundError
from souk.logs import get_logger
from souk.services.shops import shop_zone

log = get_logger("souk.feeds")

_FEED_LOCK = 0xFEED  # with the shop id: one attempt at a shop's feed at a time
_ROWS_PER_FETCH = 2000


class FeedStatus(enum.StrEnum):
    PUBLISHED = "published"
    UNCHANGED = "unchanged"  # nothing offered changed since the last attempt
    REFUSED = "refused"  # the last good document stays served
    BUSY = "busy"  # another attempt at this feed is running


class FeedRefusal(enum.StrEnum):
    EMPTY = "empty"
    SHRUNK = "shrunk"
    INVALID = "invalid"


@dataclass(frozen=True)
class FeedOutcome:
    """What an attempt did, and what is served after it."""

    shop_id: int
    status: FeedStatus
    offers: int = 0  # in the document made (0 if none was made)
    served: int = 0  # in the document served now
    served_at: datetime | None = None
    refusal: FeedRefusal | None = None
    detail: str = ""
    refused_since: datetime | None = None  # the first refusal since the last publication
    first_refusal: bool = False  # this attempt is that first refusal


# Called inside the attempt's transaction: what it queues commits with the attempt.
OnRefused = Callable[[AsyncSession, FeedOutcome], Awaitable[None]]


class Refused(Exception):
    """An attempt's document may not be published (offers: how many it held)."""

    def __init__(self, refusal: FeedRefusal, detail: str = "", offers: int = 0) -> None:
        super().__init__(detail)
        self.refusal = refusal
        self.detail = detail
        self.offers = offers


@dataclass(frozen=True)
class Document:
    gzipped: bytes
    etag: str
    size: int
    facts: FeedFacts


class DocumentWriter:
    """Takes the feed offer by offer and the document piece by piece: checks both,
    compresses and hashes the document as it comes."""

    def __init__(self, header: FeedHeader) -> None:
        self._check = FeedCheck(header)
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip stream
        self._digest = hashlib.sha256()
        self._parts: list[bytes] = []
        self._size = 0

    async def checked(self, offers: AsyncIterator[KaspiOffer]) -> AsyncIterator[KaspiOffer]:
        async for offer in offers:
            self._check.offer(offer)
            yield offer

    def write(self, data: bytes) -> None:
        self._check.feed(data)
        self._digest.update(data)
        self._parts.append(self._gzip.compress(data))
        self._size += len(data)

    def close(self) -> Document:
        facts = self._check.close()
        self._parts.append(self._gzip.flush())
        return Document(b"".join(self._parts), self._digest.hexdigest()[:32], self._size, facts)


def offers_query(feed: KaspiFeed) -> Select[str, str, str | None, Decimal, int]:
    """The products the feed offers: active, priced, in the feed's currency, and in its
    categories if it names any."""
    query = select(Product.sku, Product.title, Product.brand, Product.price, Product.stock).where(
        Product.shop_id == feed.shop_id,
        Product.is_active.is_(True),
        Product.price > 0,
        Product.currency == feed.currency,
    )
    if feed.categories:
        query = query.join(Category, Category.id == Product.category_id).where(
            Category.slug.in_(feed.categories)
        )
    return query


async def fingerprint(session: AsyncSession, feed: KaspiFeed) -> str:
    """A digest of exactly what the document would say about each offer (stock only as
    in stock or not, the price only in whole units): a sale that leaves stock, or a
    cent's change, regenerates nothing."""
    rows = offers_query(feed).subquery()
    line = func.concat_ws(
        "|",
        rows.c.sku,
        rows.c.title,
        func.coalesce(rows.c.brand, ""),
        func.ceil(rows.c.price),
        rows.c.stock > 0,
    )
    count, total = (
        await session.execute(
            select(
                func.count(), func.coalesce(func.sum(func.hashtextextended(line, 0)), 0)
            ).select_from(rows)
        )
    ).one()
    return f"{count}:{total}"


class FeedPublisher:
    """Attempts at shops' feeds, each in its own transaction."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], settings: FeedSettings
    ) -> None:
        self._sessions = session_factory
        self._settings = settings

    async def refresh_all(
        self, now: datetime, on_refused: OnRefused | None = None
    ) -> list[FeedOutcome]:
        """An attempt at every enabled feed; one failing does not stop the others."""
        async with self._sessions() as session:
            shop_ids = list(
                await session.scalars(
                    select(KaspiFeed.shop_id).where(KaspiFeed.is_enabled).order_by(KaspiFeed.id)
                )
            )
        outcomes = []
        for shop_id in shop_ids:
            try:
                outcomes.append(await self.refresh(shop_id, now, on_refused=on_refused))
            except Exception as error:  # a concurrent settings change, the database...
                log.warning("feed not refreshed", shop_id=shop_id, error=type(error).__name__)
        return outcomes

    async def refresh(
        self,
        shop_id: int,
        now: datetime,
        *,
        regenerate: bool = False,
        allow_shrink: bool = False,
        on_refused: OnRefused | None = None,
    ) -> FeedOutcome:
        """Regenerate the shop's feed if what it offers changed (or `regenerate`), and
        publish it if it passes; `allow_shrink` lets a sharply shrunk one pass (staff
        meant it), never an empty or malformed one."""
        async with self._sessions() as session:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            if not await session.scalar(
                select(func.pg_try_advisory_xact_lock(_FEED_LOCK, shop_id))
            ):
                return FeedOutcome(shop_id, FeedStatus.BUSY)
            feed = await session.scalar(
                select(KaspiFeed).where(KaspiFeed.shop_id == shop_id, KaspiFeed.is_enabled)
            )
            if feed is None:
                raise NotFoundError("the shop has no feed turned on (souk feed enable)")
            seen = await fingerprint(session, feed)
            if seen == feed.checked_fingerprint and not regenerate:
                return FeedOutcome(
                    shop_id, FeedStatus.UNCHANGED, feed.offers, feed.offers, feed.generated_at
                )
            feed.checked_fingerprint = seen
            shop = await session.get_one(Shop, shop_id)
            try:
                document = await self._generate(session, feed, shop, now)
                self._judge(feed, document.facts, allow_shrink=allow_shrink)
            except Refused as refused:
                outcome = self._refuse(feed, refused, now)
                if outcome.first_refusal and on_refused is not None:
                    await on_refused(session, outcome)
            else:
                outcome = self._publish(feed, document, now)
            await session.commit()
        log.info("feed attempt", shop_id=shop_id, status=outcome.status, offers=outcome.offers)
        return outcome

    async def _generate(
        self, session: AsyncSession, feed: KaspiFeed, shop: Shop, now: datetime
    ) -> Document:
        local = now.astimezone(shop_zone(shop.timezone))
        header = FeedHeader.of(
            f"{local:%Y-%m-%d %H:%M}", feed.company, feed.merchant_id, feed.store_ids
        )
        rows = await session.stream(
            offers_query(feed).order_by(Product.sku).execution_options(yield_per=_ROWS_PER_FETCH)
        )

        async def offers() -> AsyncIterator[KaspiOffer]:
            # By partitions: row by row, every row costs a greenlet switch (half the time).
            async for partition in rows.partitions(_ROWS_PER_FETCH):
                for row in partition:
                    yield KaspiOffer.of(row.sku, row.title, row.brand, row.price, row.stock)

        try:
            writer = DocumentWriter(header)
            async for piece in render_feed(header, writer.checked(offers())):
                writer.write(piece.encode())
            return writer.close()
        except InvalidFeed as invalid:
            raise Refused(FeedRefusal.INVALID, str(invalid)[:250]) from None
        finally:
            await rows.close()

    def _judge(self, feed: KaspiFeed, facts: FeedFacts, *, allow_shrink: bool) -> None:
        if facts.offers == 0:
            raise Refused(FeedRefusal.EMPTY)
        least = feed.offers * (1 - self._settings.max_shrink_percent / 100)
        if not allow_shrink and feed.generated_at is not None and facts.offers < least:
            raise Refused(
                FeedRefusal.SHRUNK, f"{feed.offers} -> {facts.offers} offers", facts.offers
            )

    def _refuse(self, feed: KaspiFeed, refused: Refused, now: datetime) -> FeedOutcome:
        first = feed.refused_at is None
        if first:
            feed.refused_at = now
        feed.refusal = f"{refused.refusal}: {refused.detail}".rstrip(": ")[:300]
        log.warning("feed refused", shop_id=feed.shop_id, refusal=feed.refusal)
        return FeedOutcome(
            feed.shop_id,
            FeedStatus.REFUSED,
            offers=refused.offers,
            served=feed.offers,
            served_at=feed.generated_at,
            refusal=refused.refusal,
            detail=refused.detail,
            refused_since=feed.refused_at,
            first_refusal=first,
        )

    def _publish(self, feed: KaspiFeed, document: Document, now: datetime) -> FeedOutcome:
        feed.document = document.gzipped
        feed.etag = document.etag
        feed.generated_at = now
        feed.offers = document.facts.offers
        feed.available = document.facts.available
        feed.size_bytes = document.size
        feed.refused_at = None
        feed.refusal = None
        return FeedOutcome(
            feed.shop_id, FeedStatus.PUBLISHED, feed.offers, feed.offers, feed.generated_at
        )
