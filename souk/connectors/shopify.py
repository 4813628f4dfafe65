"""Shopify's GraphQL Admin API as a souk store (`POST /admin/api/{version}/graphql.json`).

- Items are variants (every Shopify product has at least one), read with their product
  through `productVariants`, `SYNC_SHOPIFY_PAGE_SIZE` (250) a page by cursor, sorted by
  id, filtered by `updated_at:>'...'` for an incremental run. A page costs about
  3 points per variant (the variant, its product, its inventory item): 753 for 250,
  under Shopify's 1,000-point ceiling for one query.
- Cost-based throttling: every answer's `extensions.cost.throttleStatus` (bucket size,
  what is left, restore rate) is kept; before a query the bucket is refilled at the
  restore rate for the time passed, and if it holds less than the query's cost (its
  `requestedQueryCost` last time) we wait until it would. A THROTTLED answer waits for
  the same and retries, at most `SYNC_MAX_THROTTLE_WAITS` times.
- Push-back: prices with `productVariantsBulkUpdate` (one call per product), stock with
  `inventoryAdjustQuantities` by the difference to the stock last read, at the shop's
  first location: a difference keeps the total right across several locations and never
  erases a sale made on Shopify after our read.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from souk.config import SyncSettings
from souk.connectors.store import (
    RemoteChange,
    RemoteItem,
    RemotePage,
    Sleep,
    StoreHTTP,
    StoreProtocolError,
    StoreUnavailable,
    log,
)

VARIANTS_QUERY = """
query SoukVariants($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {
    nodes {
      id sku title price inventoryQuantity updatedAt
      inventoryItem { id tracked }
      product { id title description vendor productType status updatedAt }
    }
    pageInfo { hasNextPage endCursor }
  }
  productVariantsCount(query: $query) { count }
}
"""

LOCATION_QUERY = """
query SoukLocation {
  locations(first: 1) { nodes { id } }
}
"""

PRICES_MUTATION = """
mutation SoukPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price }
    userErrors { field message }
  }
}
"""

STOCK_MUTATION = """
mutation SoukStock($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) {
    userErrors { field message }
  }
}
"""

_DEFAULT_TITLE = "Default Title"  # the variant of a product without options
_STOCK_BATCH = 250  # Shopify's most items in one input array
# Waited beyond the computed refill: our clock and Shopify's differ, and a wait that
# lands exactly on the cost can still be refused by a rounding.
_MARGIN_SECONDS = 0.1


@dataclass
class CostBudget:
    """Shopify's leaky bucket as it last reported it, refilled by the clock since."""

    maximum: float = 0.0
    available: float = 0.0
    restore_rate: float = 0.0
    at: float = 0.0
    known: bool = False

    def update(self, status: dict[str, Any], now: float) -> None:
        self.maximum = float(status["maximumAvailable"])
        self.available = float(status["currentlyAvailable"])
        self.restore_rate = float(status["restoreRate"])
        self.at, self.known = now, True

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` points (0 when it does, or is unknown)."""
        if not self.known or self.restore_rate <= 0:
            return 0.0
        cost = min(cost, self.maximum)
        available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        if available >= cost:
            return 0.0
        return (cost - available) / self.restore_rate + _MARGIN_SECONDS


def _throttled(body: dict[str, Any]) -> bool:
    errors = body.get("errors")
    return isinstance(errors, list) and any(
        (error.get("extensions") or {}).get("code") == "THROTTLED" for error in errors
    )


def _stock(variant: dict[str, Any]) -> int | None:
    inventory = variant.get("inventoryItem") or {}
    quantity = variant.get("inventoryQuantity")
    if not inventory.get("tracked", True) or quantity is None:
        return None
    return int(quantity)


def variant_item(variant: dict[str, Any]) -> RemoteItem:
    """A souk item from a `productVariants` node."""
    product = variant["product"]
    title = str(product["title"])
    variant_title = str(variant.get("title") or "")
    if variant_title and variant_title != _DEFAULT_TITLE:
        title = f"{title} — {variant_title}"
    updated = max(str(variant.get("updatedAt") or ""), str(product.get("updatedAt") or ""))
    price = variant.get("price")
    return RemoteItem(
        product_id=str(product["id"]),
        variant_id=str(variant["id"]),
        sku=(variant.get("sku") or "").strip() or None,
        title=title,
        price=None if price is None else str(price),
        stock=_stock(variant),
        description=str(product.get("description") or ""),
        brand=product.get("vendor") or None,
        category=product.get("productType") or None,
        active=product.get("status", "ACTIVE") == "ACTIVE",
        inventory_id=(variant.get("inventoryItem") or {}).get("id"),
        updated_at=datetime.fromisoformat(updated) if updated else None,
    )


class ShopifyConnector:
    """One Shopify store through its GraphQL Admin API (see the module)."""

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        settings: SyncSettings,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._http = StoreHTTP(
            base_url=base_url,
            settings=settings,
            headers={"X-Shopify-Access-Token": access_token},
            sleep=sleep,
        )
        self._path = f"/admin/api/{settings.shopify_api_version}/graphql.json"
        self.budget = CostBudget()
        self._costs: dict[str, float] = {}
        self._location: str | None = None

    async def close(self) -> None:
        await self._http.close()

    async def page(self, since: datetime | None, cursor: str | None) -> RemotePage:
        query = None if since is None else f"updated_at:>'{since.isoformat()}'"
        data = await self.graphql(
            "SoukVariants",
            VARIANTS_QUERY,
            {"first": self._settings.shopify_page_size, "after": cursor, "query": query},
        )
        variants = data["productVariants"]
        info = variants["pageInfo"]
        count = data.get("productVariantsCount") or {}
        return RemotePage(
            items=[variant_item(node) for node in variants["nodes"]],
            next_cursor=info["endCursor"] if info["hasNextPage"] else None,
            total=count.get("count") if cursor is None else None,
        )

    async def push(self, changes: Sequence[RemoteChange]) -> dict[tuple[str, str], str]:
        refused: dict[tuple[str, str], str] = {}
        by_product: dict[str, list[RemoteChange]] = defaultdict(list)
        for change in changes:
            if change.price is not None:
                by_product[change.product_id].append(change)
        for product_id, priced in by_product.items():
            data = await self.graphql(
                "SoukPrices",
                PRICES_MUTATION,
                {
                    "productId": product_id,
                    "variants": [{"id": c.variant_id, "price": f"{c.price:.2f}"} for c in priced],
                },
            )
            problem = _user_errors(data["productVariantsBulkUpdate"])
            if problem:
                refused.update({change.key: problem for change in priced})
        stocked = [
            c
            for c in changes
            if c.stock is not None and c.key not in refused and c.stock != c.known_stock
        ]
        for start in range(0, len(stocked), _STOCK_BATCH):
            batch = stocked[start : start + _STOCK_BATCH]
            problem = await self._adjust_stock(batch)
            if problem:
                refused.update({change.key: problem for change in batch})
        return refused

    async def _adjust_stock(self, batch: Sequence[RemoteChange]) -> str:
        location = await self._first_location()
        deltas = [
            {
                "inventoryItemId": change.inventory_id,
                "locationId": location,
                "delta": (change.stock or 0) - (change.known_stock or 0),
            }
            for change in batch
        ]
        data = await self.graphql(
            "SoukStock",
            STOCK_MUTATION,
            {"input": {"name": "available", "reason": "correction", "changes": deltas}},
        )
        return _user_errors(data["inventoryAdjustQuantities"])

    async def _first_location(self) -> str:
        if self._location is None:
            data = await self.graphql("SoukLocation", LOCATION_QUERY, {})
            nodes = data["locations"]["nodes"]
            if not nodes:
                raise StoreProtocolError(f"{self._http.base_url}: the shop has no location")
            self._location = str(nodes[0]["id"])
        return self._location

    async def graphql(self, name: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The `data` of one operation, waiting for the cost budget before it is sent and
        after a THROTTLED answer."""
        for _ in range(self._settings.max_throttle_waits):
            wait = self.budget.wait_for(self._costs.get(name, 0.0), self._clock())
            if wait > 0:
                log.info("shopify cost budget low, waiting", operation=name, seconds=wait)
                await self._http.sleep(wait)
            body, _ = await self._http.request(
                "POST", self._path, json={"query": query, "variables": variables}
            )
            if not isinstance(body, dict):
                raise StoreProtocolError(f"{self._http.base_url}: unexpected answer")
            cost = (body.get("extensions") or {}).get("cost") or {}
            if "throttleStatus" in cost:
                self.budget.update(cost["throttleStatus"], self._clock())
            if cost.get("requestedQueryCost") is not None:
                self._costs[name] = float(cost["requestedQueryCost"])
            if _throttled(body):
                continue
            if body.get("errors"):
                raise StoreProtocolError(f"{self._http.base_url}: {_first_message(body['errors'])}")
            data = body.get("data")
            if not isinstance(data, dict):
                raise StoreProtocolError(f"{self._http.base_url}: an answer without data")
            return data
        raise StoreUnavailable(f"{self._http.base_url}: still throttled after waiting")


def _first_message(errors: object) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", "error"))[:200]
    return str(errors)[:200]


def _user_errors(payload: dict[str, Any] | None) -> str:
    errors = (payload or {}).get("userErrors") or []
    return "; ".join(str(error.get("message", "")) for error in errors)[:200]
