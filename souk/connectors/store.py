"""What souk's catalog sync needs from an online store (Shopify, WooCommerce), whatever
the store: its items page by page, and price and stock changes written back.

Items are what souk sells: a variant, or a product that has none. Values come as the
store wrote them (a price is a string such as "1299.00"); the sync service judges them.
The HTTP client here retries what a store may answer when busy or briefly down (5xx,
429, timeouts, dropped connections) with doubling backoff or the answer's Retry-After,
and turns a refused login into `StoreAuthError` whose message names the store's URL
and never a credential. Sleep and wall time are injected so tests never wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import aiohttp

from souk.config import SyncSettings
from souk.connectors.hosts import retry_after_seconds
from souk.errors import SoukError
from souk.logs import get_logger

log = get_logger("souk.sync")

Sleep = Callable[[float], Awaitable[None]]
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class StoreError(SoukError):
    """A store could not be read or written; the message names the store, never a secret."""


class StoreAuthError(StoreError):
    """The store refused the credentials (401/403)."""


class StoreUnavailable(StoreError):
    """The store kept failing (5xx, 429, timeouts) after every retry."""


class StoreProtocolError(StoreError):
    """The store answered something souk cannot read (not JSON, an unknown shape, errors)."""


@dataclass(frozen=True)
class RemoteItem:
    """One sellable item of a store. `variant_id` is "" for a product without variants;
    `stock` None means the store does not track it; `price` is the store's text."""

    product_id: str
    variant_id: str
    sku: str | None
    title: str
    price: str | None
    stock: int | None
    description: str = ""
    brand: str | None = None
    category: str | None = None
    photo_url: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    active: bool = True
    inventory_id: str | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.product_id, self.variant_id


@dataclass(frozen=True)
class RemotePage:
    """A page of items and the cursor of the next page (None after the last). `total`
    (first page only, when the store says it) is the run's size and `progress` how far
    this page moves it, in the store's unit (items, or products for WooCommerce)."""

    items: list[RemoteItem]
    next_cursor: str | None
    total: int | None = None
    progress: int | None = None

    @property
    def advance(self) -> int:
        return len(self.items) if self.progress is None else self.progress


@dataclass(frozen=True)
class RemoteChange:
    """A value changed in souk, to write to the store: a new price and/or stock.
    `known_stock` is the store's stock as last read (Shopify adjusts by the difference)."""

    product_id: str
    variant_id: str
    inventory_id: str | None = None
    price: Decimal | None = None
    stock: int | None = None
    known_stock: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.product_id, self.variant_id


class StoreConnector(Protocol):
    """A store's catalog as souk's sync reads and writes it."""

    async def page(self, since: datetime | None, cursor: str | None) -> RemotePage:
        """The items updated after `since` (all with None), from `cursor` (the first page
        with None)."""
        ...

    async def push(self, changes: Sequence[RemoteChange]) -> dict[tuple[str, str], str]:
        """Write the changes; returns why each one that was refused was (by item key)."""
        ...

    async def close(self) -> None: ...


class StoreHTTP:
    """An aiohttp session to one store with souk's retry rules; build one per run."""

    def __init__(
        self,
        *,
        base_url: str,
        settings: SyncSettings,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._settings = settings
        self._headers = dict(headers or {})
        self.sleep = sleep
        self._now = now
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def request(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> tuple[Any, Mapping[str, str]]:
        """The JSON body and headers of a 2xx answer to `method path`, after retries."""
        url = self.base_url + path
        problem = "no answer"
        for attempt in range(self._settings.retries + 1):
            try:
                async with self._client().request(
                    method,
                    url,
                    json=json,
                    params=params,
                    timeout=aiohttp.ClientTimeout(total=self._settings.timeout_seconds),
                ) as response:
                    if response.status in (401, 403):
                        raise StoreAuthError(
                            f"{self.base_url} refused the credentials ({response.status})"
                        )
                    if response.status not in _RETRIED_STATUSES:
                        return await self._body(response), response.headers
                    problem = f"HTTP {response.status}"
                    wait = retry_after_seconds(response.headers, self._now())
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as e:
                problem, wait = type(e).__name__, None
            if attempt == self._settings.retries:
                break
            wait = wait if wait is not None else self._settings.backoff_seconds * 2**attempt
            log.info("store busy, retrying", store=self.base_url, problem=problem, seconds=wait)
            await self.sleep(wait)
        raise StoreUnavailable(f"{self.base_url}: {problem} after {self._settings.retries} retries")

    async def _body(self, response: aiohttp.ClientResponse) -> Any:
        if response.status >= 300:
            text = (await response.text(errors="replace"))[:200]
            raise StoreProtocolError(f"{self.base_url}: HTTP {response.status}: {text}")
        try:
            return await response.json(content_type=None)
        except ValueError:
            raise StoreProtocolError(f"{self.base_url}: the answer is not JSON") from None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"Accept": "application/json", **self._headers}
            )
        return self._session
