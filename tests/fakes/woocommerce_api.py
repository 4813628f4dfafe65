"""A fake WooCommerce REST API v3 over real HTTP on 127.0.0.1: products by page (oldest
id first) with `X-WP-Total` / `X-WP-TotalPages`, `modified_after`, variations of
variable products, `PUT` of products and variations (`regular_price` must be a string),
basic auth checked against one consumer key and secret, and failures injected on
purpose (`faults.inject(429, retry_after="1")`, `faults.inject(500, times=5, after=2)`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.http_fake import FakeHTTPServer
from tests.fakes.store_faults import Faults, WallClock

API = "/wp-json/wc/v3"


@dataclass
class Seen:
    method: str
    path: str
    status: int


class FakeWooCommerce(FakeHTTPServer):
    """The fake store; see the module."""

    label = "fake WooCommerce"

    def __init__(
        self,
        *,
        key: str = "ck_test",
        secret: str = "cs_test",  # noqa: S107  (a fake's own)
        wall: WallClock | None = None,
    ) -> None:
        super().__init__()
        self.key, self.secret = key, secret
        self.wall = wall or WallClock()
        self.products: dict[int, dict[str, Any]] = {}
        self.variations: dict[int, list[dict[str, Any]]] = {}
        self.faults = Faults()
        self.seen: list[Seen] = []
        self._next_id = 10
        router = self._app.router
        router.add_get(f"{API}/products", self._list)
        router.add_get(f"{API}/products/{{id}}/variations", self._variations)
        router.add_put(f"{API}/products/{{id}}", self._put_product)
        router.add_put(f"{API}/products/{{id}}/variations/{{vid}}", self._put_variation)

    # -- data ------------------------------------------------------------------------

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _stamp(self) -> str:
        return self.wall().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    def add_simple(self, name: str, sku: str, price: str, stock: int | None, **more: Any) -> int:
        product_id = self._id()
        self.products[product_id] = {
            "id": product_id,
            "name": name,
            "type": "simple",
            "status": "publish",
            "sku": sku,
            "regular_price": price,
            "price": price,
            "manage_stock": stock is not None,
            "stock_quantity": stock,
            "description": f"<p>{name} <b>described</b></p>",
            "categories": [{"id": 1, "name": "Audio", "slug": "audio"}],
            "images": [],
            "date_modified_gmt": self._stamp(),
            "variations": [],
            **more,
        }
        return product_id

    def add_variable(self, name: str, variations: list[tuple[str, str, str, int]]) -> int:
        """A variable product with variations of (colour, sku, price, stock)."""
        product_id = self.add_simple(name, "", "", None, type="variable")
        found = []
        for colour, sku, price, stock in variations:
            found.append(
                {
                    "id": self._id(),
                    "sku": sku,
                    "regular_price": price,
                    "price": price,
                    "manage_stock": True,
                    "stock_quantity": stock,
                    "attributes": [{"id": 1, "name": "Colour", "option": colour}],
                    "date_modified_gmt": self._stamp(),
                    "status": "publish",
                }
            )
        self.variations[product_id] = found
        self.products[product_id]["variations"] = [v["id"] for v in found]
        return product_id

    def item(self, sku: str) -> dict[str, Any]:
        for product in self.products.values():
            if product["sku"] == sku:
                return product
        for variations in self.variations.values():
            for variation in variations:
                if variation["sku"] == sku:
                    return variation
        raise KeyError(sku)

    def change(self, sku: str, **values: Any) -> None:
        """A change made in the store's admin a second after the last; the parent's date
        moves with a variation's."""
        self.wall.tick(1)
        item = self.item(sku)
        item.update(values, date_modified_gmt=self._stamp())
        for product_id, variations in self.variations.items():
            if item in variations:
                self.products[product_id]["date_modified_gmt"] = self._stamp()

    def hits(self, method: str, status: int | None = None) -> int:
        return sum(
            1 for s in self.seen if s.method == method and (status is None or s.status == status)
        )

    def stats(self) -> dict[str, dict[str, int]]:
        return {"requests": {str(s.status): 1 for s in self.seen}}

    def reset(self) -> None:
        self.seen.clear()

    def _recent(self) -> str:
        last = ", ".join(f"{s.method} {s.path}->{s.status}" for s in self.seen[-5:])
        return f"{len(self.seen)} requests, last: [{last}]"

    # -- the endpoints ---------------------------------------------------------------

    def _refusal(self, request: web.Request) -> web.Response | None:
        expected = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return self._answer(
                request,
                {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                    "data": {"status": 401},
                },
                status=401,
            )
        fault = self.faults.next()
        if fault is None:
            return None
        status, retry_after = fault
        headers = {"Retry-After": retry_after} if retry_after else {}
        return self._answer(request, {"code": "busy"}, status=status, headers=headers)

    def _answer(
        self,
        request: web.Request,
        body: object,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        self.seen.append(Seen(request.method, request.path, status))
        return web.json_response(body, status=status, headers=headers)

    def _paged(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        page = int(request.query.get("page", "1"))
        per_page = min(100, int(request.query.get("per_page", "10")))
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
        return self._answer(request, chunk, headers=headers)

    async def _list(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        products = sorted(self.products.values(), key=lambda p: p["id"])
        if "modified_after" in request.query:
            after = datetime.fromisoformat(request.query["modified_after"])
            products = [
                p for p in products if datetime.fromisoformat(p["date_modified_gmt"]) > after
            ]
        return self._paged(request, products)

    async def _variations(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        return self._paged(request, self.variations.get(int(request.match_info["id"]), []))

    async def _put_product(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        product = self.products.get(int(request.match_info["id"]))
        if product is None:
            return self._answer(
                request, {"code": "woocommerce_rest_product_invalid_id"}, status=404
            )
        return await self._put(request, product)

    async def _put_variation(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        variations = self.variations.get(int(request.match_info["id"]), [])
        wanted = int(request.match_info["vid"])
        variation = next((v for v in variations if v["id"] == wanted), None)
        if variation is None:
            return self._answer(request, {"code": "woocommerce_rest_invalid_id"}, status=404)
        return await self._put(request, variation)

    async def _put(self, request: web.Request, item: dict[str, Any]) -> web.Response:
        body = await request.json()
        price = body.get("regular_price")
        if price is not None and not isinstance(price, str):
            return self._answer(
                request,
                {"code": "rest_invalid_param", "message": "regular_price is not of type string"},
                status=400,
            )
        for name in ("regular_price", "stock_quantity"):
            if name in body:
                item[name] = body[name]
        item["date_modified_gmt"] = self._stamp()
        await self._notify()
        return self._answer(request, item)
