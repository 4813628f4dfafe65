"""Turning a shop's Kaspi price feed on and off, and who may fetch it.

The feed is fetched by the marketplace with HTTP basic auth: any user name, the feed's
secret as the password. Only the secret's SHA-256 is stored, and the comparison is made
in constant time; an unknown shop, a disabled feed and a wrong secret are the same
answer, so nobody can learn from outside which shops exist.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Category, KaspiFeed, Shop
from souk.errors import InvalidInput

FEED_USER = "kaspi"  # the user name we suggest; any is accepted
_STORE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Compared against when there is no feed, so a miss costs what a hit costs.
_NO_SECRET = hashlib.sha256(b"no feed here").hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class FeedOptions:
    """What staff choose about a shop's feed."""

    merchant_id: str
    store_ids: list[str]
    company: str | None = None  # None: the shop's name
    categories: list[str] | None = None  # None or empty: every active product
    currency: str = "KZT"

    def checked(self) -> FeedOptions:
        merchant = self.merchant_id.strip()
        if not merchant or len(merchant) > 64:
            raise InvalidInput("a merchant id is 1 to 64 characters")
        if not self.store_ids:
            raise InvalidInput("name at least one store id (as in the Kaspi cabinet: PP1)")
        for store in self.store_ids:
            if not _STORE_ID.match(store):
                raise InvalidInput(f"{store!r} is not a store id (letters, digits, _ and -)")
        if not _CURRENCY.match(self.currency):
            raise InvalidInput(f"{self.currency!r} is not a currency code (KZT)")
        company = self.company.strip() if self.company else None
        if company is not None and not 0 < len(company) <= 200:
            raise InvalidInput("a company name is 1 to 200 characters")
        return FeedOptions(
            merchant,
            list(dict.fromkeys(self.store_ids)),
            company,
            sorted(set(self.categories or [])),
            self.currency,
        )


@dataclass(frozen=True)
class PublishedFeed:
    """What the web needs to answer a fetch without loading the document."""

    feed_id: int
    etag: str | None
    generated_at: datetime | None


class FeedSetup:
    """Staff (or the CLI) configuring one shop's feed."""

    def __init__(self, session: AsyncSession, shop: Shop) -> None:
        self._session = session
        self._shop = shop

    async def enable(self, options: FeedOptions, *, new_secret: bool = False) -> str | None:
        """Create or change the feed and turn it on; returns the new secret when one was
        made (always the first time), None when the old one still holds."""
        options = options.checked()
        await self._check_categories(options.categories or [])
        feed = await self._session.scalar(
            select(KaspiFeed).where(KaspiFeed.shop_id == self._shop.id).with_for_update()
        )
        secret = secrets.token_urlsafe(24) if feed is None or new_secret else None
        if feed is None:
            feed = KaspiFeed(shop_id=self._shop.id, secret_hash=secret_hash(secret or ""))
            self._session.add(feed)
        elif secret is not None:
            feed.secret_hash = secret_hash(secret)
        feed.is_enabled = True
        feed.merchant_id = options.merchant_id
        feed.company = options.company or self._shop.name
        feed.store_ids = options.store_ids
        feed.categories = options.categories or []
        feed.currency = options.currency
        feed.checked_fingerprint = None  # the next refresh regenerates with these
        await self._session.flush()
        return secret

    async def disable(self) -> bool:
        """Stop serving the feed (fetches get 401); False if it was not on."""
        feed = await self._session.scalar(
            select(KaspiFeed).where(KaspiFeed.shop_id == self._shop.id, KaspiFeed.is_enabled)
        )
        if feed is None:
            return False
        feed.is_enabled = False
        await self._session.flush()
        return True

    async def _check_categories(self, slugs: list[str]) -> None:
        known = set(
            await self._session.scalars(
                select(Category.slug).where(
                    Category.shop_id == self._shop.id, Category.slug.in_(slugs)
                )
            )
        )
        unknown = [slug for slug in slugs if slug not in known]
        if unknown:
            raise InvalidInput(f"no such categories: {', '.join(unknown)}")


async def feed_for_fetch(
    session: AsyncSession, shop_slug: str, password: str | None
) -> PublishedFeed | None:
    """The enabled feed of the shop if `password` is its secret; None otherwise, whatever
    the reason."""
    row = (
        await session.execute(
            select(KaspiFeed.id, KaspiFeed.secret_hash, KaspiFeed.etag, KaspiFeed.generated_at)
            .join(Shop, Shop.id == KaspiFeed.shop_id)
            .where(Shop.slug == shop_slug, KaspiFeed.is_enabled)
        )
    ).one_or_none()
    expected = row.secret_hash if row is not None else _NO_SECRET
    given = secret_hash(password) if password is not None else ""
    if not hmac.compare_digest(given.encode(), expected.encode()) or row is None:
        return None
    return PublishedFeed(row.id, row.etag, row.generated_at)


@dataclass(frozen=True)
class ServedDocument:
    """The published document (gzip) with what identifies it."""

    gzipped: bytes
    size: int  # uncompressed
    etag: str
    generated_at: datetime


async def feed_document(session: AsyncSession, feed_id: int) -> ServedDocument | None:
    """The document published now (read with its own ETag: a publication between two
    reads never pairs one document with another's ETag)."""
    row = (
        await session.execute(
            select(
                KaspiFeed.document, KaspiFeed.size_bytes, KaspiFeed.etag, KaspiFeed.generated_at
            ).where(KaspiFeed.id == feed_id)
        )
    ).one_or_none()
    if row is None or row.document is None or row.etag is None or row.generated_at is None:
        return None
    return ServedDocument(row.document, row.size_bytes, row.etag, row.generated_at)
