"""A fake Shopify GraphQL Admin API over real HTTP on 127.0.0.1.

It recognises souk's operations by name (SoukVariants, SoukLocation, SoukPrices,
SoukStock; not a GraphQL engine) and answers them as Shopify does: variants by cursor,
the `updated_at:>'...'` filter, `productVariantsCount`, mutations that change its data,
and a leaky-bucket cost throttle: a query whose requested cost is more than the bucket
holds is refused with a THROTTLED error, so a client that ignores `throttleStatus`
is caught. The bucket refills on an injected monotonic clock. A wrong
X-Shopify-Access-Token is answered 401; `faults.inject(...)` makes it fail on purpose.

Standalone (for bench/sync.py): ``python -m tests.fakes.shopify_api --port 0
--products 10000 --token T --restore-rate 1000 --bucket 20000``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from tests.fakes.http_fake import FakeHTTPServer, serve_until_stopped
from tests.fakes.store_faults import Faults, WallClock

API_VERSION = "2025-07"
LOCATION = "gid://shopify/Location/1"
_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")
_SINCE = re.compile(r"updated_at:>'([^']+)'")


@dataclass
class Product:
    id: int
    title: str
    description: str = ""
    vendor: str = ""
    product_type: str = ""
    status: str = "ACTIVE"
    updated_at: datetime | None = None


@dataclass
class Variant:
    id: int
    product_id: int
    sku: str
    price: str
    inventory: int | None
    title: str = "Default Title"
    updated_at: datetime | None = None

    @property
    def gid(self) -> str:
        return f"gid://shopify/ProductVariant/{self.id}"


@dataclass
class Bucket:
    maximum: float
    restore_rate: float
    available: float = 0.0
    at: float = 0.0

    def refill(self, now: float) -> None:
        self.available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        self.at = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": self.available,
            "restoreRate": self.restore_rate,
        }


@dataclass
class Served:
    operation: str
    status: int
    variables: dict[str, Any] = field(default_factory=dict)


class FakeShopify(FakeHTTPServer):
    """The fake store; see the module."""

    label = "fake Shopify"

    def __init__(
        self,
        *,
        token: str = "shpat_test_token",  # noqa: S107  (a fake's own)
        maximum: float = 1000.0,
        restore_rate: float = 50.0,
        clock: Callable[[], float] = time.monotonic,
        wall: WallClock | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.clock = clock
        self.wall = wall or WallClock()
        self.bucket = Bucket(maximum, restore_rate, maximum, clock())
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.faults = Faults()
        self.served: list[Served] = []
        self._next_id = 1000
        self._app.router.add_post(f"/admin/api/{API_VERSION}/graphql.json", self._graphql)
        self._app.router.add_get("/_fake/stats", self._ctl_stats)

    # -- data ------------------------------------------------------------------------

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_product(
        self, title: str, variants: list[tuple[str, str, int | None]], **fields: Any
    ) -> Product:
        """A product with variants of (sku, price, stock); more than one gets titles."""
        product = Product(self._id(), title, updated_at=self.wall(), **fields)
        self.products[product.id] = product
        for number, (sku, price, stock) in enumerate(variants, start=1):
            title_of = "Default Title" if len(variants) == 1 else f"Option {number}"
            variant = Variant(self._id(), product.id, sku, price, stock, title_of, self.wall())
            self.variants[variant.id] = variant
        return product

    def variant(self, sku: str) -> Variant:
        return next(v for v in self.variants.values() if v.sku == sku)

    def change(self, sku: str, **values: Any) -> None:
        """A change made in the store (its admin), a second after the last: price,
        inventory, title (the variant's), description, vendor (the product's)..."""
        self.wall.tick(1)
        variant = self.variant(sku)
        for name, value in values.items():
            if hasattr(variant, name):
                setattr(variant, name, value)
            else:
                setattr(self.products[variant.product_id], name, value)
        variant.updated_at = self.wall()

    def count(self, operation: str, status: int = 200) -> int:
        return sum(1 for s in self.served if s.operation == operation and s.status == status)

    @property
    def throttled(self) -> int:
        return self.count("THROTTLED")

    def stats(self) -> dict[str, dict[str, int]]:
        counts: dict[str, int] = {}
        for served in self.served:
            counts[served.operation] = counts.get(served.operation, 0) + 1
        return {"operations": counts}

    def reset(self) -> None:
        self.served.clear()

    def _recent(self) -> str:
        last = ", ".join(f"{s.operation}->{s.status}" for s in self.served[-5:])
        return f"{len(self.served)} requests, last: [{last}]"

    # -- the endpoint ----------------------------------------------------------------

    async def _graphql(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            self.served.append(Served("auth", 401))
            return web.json_response(
                {
                    "errors": "[API] Invalid API key or access token (unrecognized login or "
                    "wrong password)"
                },
                status=401,
            )
        fault = self.faults.next()
        if fault is not None:
            status, retry_after = fault
            self.served.append(Served("fault", status))
            headers = {"Retry-After": retry_after} if retry_after else {}
            return web.json_response({"errors": "Internal error"}, status=status, headers=headers)
        body = await request.json()
        found = _OPERATION.match(body.get("query", ""))
        name = found.group(1) if found else ""
        variables = body.get("variables") or {}
        handler, requested = self._operation(name, variables)
        self.bucket.refill(self.clock())
        if requested > self.bucket.available:
            self.served.append(Served("THROTTLED", 200, variables))
            return web.json_response(
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {"code": "THROTTLED", "documentation": "..."},
                        }
                    ],
                    "extensions": {"cost": self._cost(requested, None)},
                }
            )
        data, actual = handler(variables)
        self.bucket.available -= actual
        self.served.append(Served(name, 200, variables))
        await self._notify()
        return web.json_response(
            {"data": data, "extensions": {"cost": self._cost(requested, actual)}}
        )

    def _cost(self, requested: float, actual: float | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": self.bucket.status(),
        }

    def _operation(
        self, name: str, variables: dict[str, Any]
    ) -> tuple[Callable[[dict[str, Any]], tuple[dict[str, Any], float]], float]:
        if name == "SoukVariants":
            return self._variants, 2 + int(variables["first"]) * 3 + 1
        if name == "SoukLocation":
            return lambda _: ({"locations": {"nodes": [{"id": LOCATION}]}}, 3), 3
        if name == "SoukPrices":
            return self._prices, 10
        if name == "SoukStock":
            return self._stock, 10
        raise web.HTTPBadRequest(text=f"fake Shopify does not know the operation {name!r}")

    def _variants(self, variables: dict[str, Any]) -> tuple[dict[str, Any], float]:
        matching = sorted(self.variants.values(), key=lambda v: v.id)
        query = variables.get("query") or ""
        since = _SINCE.search(query)
        if since:
            after_time = datetime.fromisoformat(since.group(1))
            matching = [v for v in matching if self._updated(v) > after_time]
        total = len(matching)
        if variables.get("after"):
            last = int(base64.b64decode(variables["after"]).decode())
            matching = [v for v in matching if v.id > last]
        page = matching[: int(variables["first"])]
        more = len(matching) > len(page)
        data = {
            "productVariants": {
                "nodes": [self._node(v) for v in page],
                "pageInfo": {
                    "hasNextPage": more,
                    "endCursor": base64.b64encode(str(page[-1].id).encode()).decode()
                    if page
                    else None,
                },
            },
            "productVariantsCount": {"count": total},
        }
        return data, 2 + len(page) * 3 + 1

    def _updated(self, variant: Variant) -> datetime:
        product = self.products[variant.product_id]
        assert variant.updated_at is not None and product.updated_at is not None
        return max(variant.updated_at, product.updated_at)

    def _node(self, variant: Variant) -> dict[str, Any]:
        product = self.products[variant.product_id]
        assert variant.updated_at is not None and product.updated_at is not None
        return {
            "id": variant.gid,
            "sku": variant.sku,
            "title": variant.title,
            "price": variant.price,
            "inventoryQuantity": variant.inventory,
            "updatedAt": variant.updated_at.isoformat().replace("+00:00", "Z"),
            "inventoryItem": {
                "id": f"gid://shopify/InventoryItem/{variant.id}",
                "tracked": variant.inventory is not None,
            },
            "product": {
                "id": f"gid://shopify/Product/{product.id}",
                "title": product.title,
                "description": product.description,
                "vendor": product.vendor,
                "productType": product.product_type,
                "status": product.status,
                "updatedAt": product.updated_at.isoformat().replace("+00:00", "Z"),
            },
        }

    def _prices(self, variables: dict[str, Any]) -> tuple[dict[str, Any], float]:
        product_id = int(str(variables["productId"]).rsplit("/", 1)[-1])
        errors, changed = [], []
        for index, entry in enumerate(variables["variants"]):
            variant = self.variants.get(int(str(entry["id"]).rsplit("/", 1)[-1]))
            try:
                price = Decimal(str(entry["price"]))
            except InvalidOperation:
                price = Decimal(-1)
            if variant is None or variant.product_id != product_id or price < 0:
                errors.append({"field": ["variants", str(index)], "message": "Invalid variant"})
                continue
            changed.append((variant, f"{price:.2f}"))
        if not errors:
            for variant, price_text in changed:
                variant.price, variant.updated_at = price_text, self.wall()
        payload = {
            "productVariants": [{"id": v.gid, "price": v.price} for v, _ in changed],
            "userErrors": errors,
        }
        return {"productVariantsBulkUpdate": payload}, 10

    def _stock(self, variables: dict[str, Any]) -> tuple[dict[str, Any], float]:
        changes = variables["input"]["changes"]
        errors = []
        for index, change in enumerate(changes):
            variant = self.variants.get(int(str(change["inventoryItemId"]).rsplit("/", 1)[-1]))
            if variant is None or change["locationId"] != LOCATION or variant.inventory is None:
                errors.append({"field": ["input", "changes", str(index)], "message": "Not stocked"})
        if not errors:
            for change in changes:
                variant = self.variants[int(str(change["inventoryItemId"]).rsplit("/", 1)[-1])]
                assert variant.inventory is not None
                variant.inventory += int(change["delta"])
                variant.updated_at = self.wall()
        return {"inventoryAdjustQuantities": {"userErrors": errors}}, 10


def seed(store: FakeShopify, products: int) -> None:
    """`products` one-variant products, SKU-000001... (what bench/sync.py syncs)."""
    for n in range(1, products + 1):
        store.add_product(
            f"Product {n}",
            [(f"SKU-{n:06d}", f"{(n % 900) + 10}.00", n % 50)],
            description=f"A thing numbered {n}.",
            vendor=f"Brand {n % 40}",
            product_type=f"Type {n % 12}",
        )


async def _serve(args: argparse.Namespace) -> None:
    store = FakeShopify(token=args.token, maximum=args.bucket, restore_rate=args.restore_rate)
    seed(store, args.products)
    await serve_until_stopped(store, args.host, args.port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Shopify GraphQL Admin API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--products", type=int, default=0)
    parser.add_argument("--token", default="shpat_bench")
    parser.add_argument("--bucket", type=float, default=2000.0)
    parser.add_argument("--restore-rate", type=float, default=100.0)
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
