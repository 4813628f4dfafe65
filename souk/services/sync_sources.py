"""A shop's online stores to sync with: adding one, finding them, the due ones, and the
connector that speaks to each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from souk.config import SyncSettings
from souk.connectors.shopify import ShopifyConnector
from souk.connectors.store import Sleep, StoreConnector
from souk.connectors.woocommerce import WooCommerceConnector
from souk.db.models import SyncKind, SyncSource
from souk.errors import ConflictError, InvalidInput
from souk.logs import register_secret


@dataclass(frozen=True)
class StoreAccess:
    """Where a store is and the credentials to it (kept out of reprs and logs)."""

    kind: SyncKind
    base_url: str
    api_key: str | None
    api_secret: str

    def __repr__(self) -> str:
        return f"StoreAccess(kind={self.kind}, base_url={self.base_url})"

    @classmethod
    def of(cls, source: SyncSource) -> StoreAccess:
        register_secret(source.api_key, source.api_secret)
        return cls(source.kind, source.base_url, source.api_key, source.api_secret)


def store_url(raw: str) -> str:
    """A store's base URL as kept: http(s), a host, no query, no trailing slash."""
    try:
        url = URL(raw.strip())
    except ValueError:
        raise InvalidInput(f"not a URL: {raw!r}") from None
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.user:
        raise InvalidInput(f"a store URL is http(s)://host[/path] without a query: {raw!r}")
    return str(url.with_fragment(None)).rstrip("/")


def open_connector(access: StoreAccess, settings: SyncSettings, *, sleep: Sleep) -> StoreConnector:
    """The connector of a store; close it when done."""
    if access.kind is SyncKind.SHOPIFY:
        return ShopifyConnector(
            base_url=access.base_url,
            access_token=access.api_secret,
            settings=settings,
            sleep=sleep,
        )
    return WooCommerceConnector(
        base_url=access.base_url,
        consumer_key=access.api_key or "",
        consumer_secret=access.api_secret,
        settings=settings,
        sleep=sleep,
    )


class SyncSources:
    """The stores synced with one shop, or, without a shop, all of them (for beat)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        shop_id: int,
        kind: SyncKind,
        base_url: str,
        *,
        api_secret: str,
        api_key: str | None = None,
    ) -> SyncSource:
        """Connect a store to the shop; refused if it is connected already."""
        register_secret(api_key, api_secret)
        if not api_secret or (kind is SyncKind.WOOCOMMERCE and not api_key):
            raise InvalidInput("the store's credentials are missing")
        url = store_url(base_url)
        exists = await self._session.scalar(
            select(SyncSource.id).where(
                SyncSource.shop_id == shop_id, SyncSource.kind == kind, SyncSource.base_url == url
            )
        )
        if exists is not None:
            raise ConflictError(f"{url} is connected to the shop already (source {exists})")
        source = SyncSource(
            shop_id=shop_id, kind=kind, base_url=url, api_key=api_key, api_secret=api_secret
        )
        self._session.add(source)
        await self._session.flush()
        return source

    async def of_shop(self, shop_id: int) -> list[SyncSource]:
        found = await self._session.scalars(
            select(SyncSource)
            .where(SyncSource.shop_id == shop_id, SyncSource.is_active.is_(True))
            .order_by(SyncSource.id)
        )
        return list(found)

    async def due(self, now: datetime, settings: SyncSettings) -> list[tuple[int, bool]]:
        """The sources whose last run ended an interval ago (or never ran) and that no run
        holds, each with whether its run should read every item (a full run is due
        every `SYNC_FULL_EVERY_HOURS`)."""
        interval = timedelta(minutes=settings.interval_minutes)
        full_after = now - timedelta(hours=settings.full_every_hours)
        rows = await self._session.execute(
            select(SyncSource.id, SyncSource.last_full_at)
            .where(
                SyncSource.is_active.is_(True),
                or_(SyncSource.lease_until.is_(None), SyncSource.lease_until < now),
                or_(SyncSource.last_run_at.is_(None), SyncSource.last_run_at <= now - interval),
            )
            .order_by(SyncSource.id)
        )
        return [(source_id, full is None or full < full_after) for source_id, full in rows]
