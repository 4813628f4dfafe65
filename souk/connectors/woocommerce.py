"""WooCommerce's REST API v3 as a souk store (`/wp-json/wc/v3`, basic auth with the
consumer key and secret).

- Products are read `SYNC_WOOCOMMERCE_PAGE_SIZE` (100) a page by page number, oldest id
  first, filtered by `modified_after` (GMT) for an incremental run; `X-WP-Total` and
  `X-WP-TotalPages` give the run's size. A variable product's items are its variations
  (`/products/{id}/variations`, paged the same way); any other product is one item.
- Ordered by id, a page number stays a valid cursor while the run is interrupted: items
  only join the filtered set (their dates move forward) or are appended (new ids), so a
  resumed run may read an item twice, which the sync's upsert makes harmless.
- Stock is read from `stock_quantity` when the item manages its own stock; a variation
  whose stock is its parent's, or an item that manages none, has no stock for souk.
- Push-back: `PUT /products/{id}` (or `/products/{id}/variations/{vid}`) with
  `regular_price` as a string and `stock_quantity`; a refused item is reported, the
  others still written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp

from souk.config import SyncSettings
from souk.connectors.html_tree import parse_html
from souk.connectors.store import (
    RemoteChange,
    RemoteItem,
    RemotePage,
    Sleep,
    StoreHTTP,
    StoreProtocolError,
)

API = "/wp-json/wc/v3"


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _stock(item: dict[str, Any]) -> int | None:
    if item.get("manage_stock") is not True or item.get("stock_quantity") is None:
        return None
    return int(item["stock_quantity"])


def _price(item: dict[str, Any]) -> str | None:
    for name in ("regular_price", "price"):
        value = item.get(name)
        if value not in (None, ""):
            return str(value)
    return None


def _first_image(product: dict[str, Any]) -> str | None:
    images = product.get("images") or []
    return str(images[0]["src"]) if images and images[0].get("src") else None


def _product_fields(product: dict[str, Any]) -> dict[str, Any]:
    categories = product.get("categories") or []
    return {
        "description": parse_html(str(product.get("description") or "")).text,
        "category": categories[0]["name"] if categories else None,
        "photo_url": _first_image(product),
        "active": product.get("status", "publish") == "publish",
    }


def product_item(product: dict[str, Any]) -> RemoteItem:
    """A product without variations as a souk item."""
    return RemoteItem(
        product_id=str(product["id"]),
        variant_id="",
        sku=(product.get("sku") or "").strip() or None,
        title=str(product.get("name") or ""),
        price=_price(product),
        stock=_stock(product),
        updated_at=_when(product.get("date_modified_gmt")),
        **_product_fields(product),
    )


def variation_item(product: dict[str, Any], variation: dict[str, Any]) -> RemoteItem:
    """One variation of a variable product as a souk item."""
    options = {
        str(attribute["name"]): str(attribute["option"])
        for attribute in variation.get("attributes") or []
        if attribute.get("option")
    }
    title = str(product.get("name") or "")
    if options:
        title = f"{title} — {', '.join(options.values())}"
    fields = _product_fields(product)
    image = variation.get("image") or {}
    if image.get("src"):
        fields["photo_url"] = str(image["src"])
    if variation.get("status", "publish") != "publish":
        fields["active"] = False
    return RemoteItem(
        product_id=str(product["id"]),
        variant_id=str(variation["id"]),
        sku=(variation.get("sku") or "").strip() or None,
        title=title,
        price=_price(variation),
        stock=_stock(variation),
        attributes=options,
        updated_at=_when(variation.get("date_modified_gmt")),
        **fields,
    )


class WooCommerceConnector:
    """One WooCommerce store through its REST API v3 (see the module)."""

    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        settings: SyncSettings,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._http = StoreHTTP(
            base_url=base_url,
            settings=settings,
            headers={"Authorization": aiohttp.encode_basic_auth(consumer_key, consumer_secret)},
            sleep=sleep,
        )

    async def close(self) -> None:
        await self._http.close()

    async def page(self, since: datetime | None, cursor: str | None) -> RemotePage:
        number = int(cursor or "1")
        params = {
            "page": str(number),
            "per_page": str(self._settings.woocommerce_page_size),
            "orderby": "id",
            "order": "asc",
            "dates_are_gmt": "true",
        }
        if since is not None:
            params["modified_after"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        products, headers = await self._http.request("GET", f"{API}/products", params=params)
        if not isinstance(products, list):
            raise StoreProtocolError(f"{self._http.base_url}: the product list is not a list")
        items: list[RemoteItem] = []
        for product in products:
            if product.get("type") == "variable":
                items += [
                    variation_item(product, variation)
                    for variation in await self._variations(product["id"])
                ]
            else:
                items.append(product_item(product))
        pages = int(headers.get("X-WP-TotalPages") or number)
        total = headers.get("X-WP-Total")
        return RemotePage(
            items=items,
            next_cursor=str(number + 1) if number < pages and products else None,
            total=int(total) if total is not None and cursor is None else None,
            progress=len(products),
        )

    async def _variations(self, product_id: object) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        number, pages = 1, 1
        while number <= pages:
            variations, headers = await self._http.request(
                "GET",
                f"{API}/products/{product_id}/variations",
                params={"page": str(number), "per_page": "100", "orderby": "id", "order": "asc"},
            )
            found += variations
            pages = int(headers.get("X-WP-TotalPages") or 1)
            number += 1
        return found

    async def push(self, changes: Sequence[RemoteChange]) -> dict[tuple[str, str], str]:
        refused: dict[tuple[str, str], str] = {}
        for change in changes:
            body: dict[str, object] = {}
            if change.price is not None:
                body["regular_price"] = f"{change.price:.2f}"
            if change.stock is not None:
                body["stock_quantity"] = change.stock
            path = f"{API}/products/{change.product_id}"
            if change.variant_id:
                path += f"/variations/{change.variant_id}"
            try:
                await self._http.request("PUT", path, json=body)
            except StoreProtocolError as refusal:
                refused[change.key] = str(refusal)
        return refused
