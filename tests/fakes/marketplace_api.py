"""A fake marketplace offers API over real HTTP on 127.0.0.1: for each product, every
seller's offer (price, currency, rating, delivery, stock), paged as the connector reads it
(`souk.connectors.marketplace`), with every request recorded.

``api.set_offers("phone-x", [Seller(...), ...])`` sets a product's sellers;
``api.fail("phone-x", status)`` makes its list answer that status (429 opens the breaker).
``GET /offers/{product}?page=N`` answers the page; unknown products answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from tests.fakes.http_fake import FakeHTTPServer


@dataclass(frozen=True)
class Seller:
    seller_id: str
    name: str
    price: str | float | None
    currency: str | None = "KZT"
    rating: float | None = 4.5
    delivery: str | None = "tomorrow"
    in_stock: bool = True


class FakeMarketplace(FakeHTTPServer):
    label = "fake marketplace"

    def __init__(self, *, page_size: int = 2) -> None:
        super().__init__()
        self.page_size = page_size
        self.paths: list[str] = []
        self._products: dict[str, list[Seller]] = {}
        self._failing: dict[str, int] = {}
        self._app.router.add_get("/offers/{product}", self._offers)

    def url(self, product: str) -> str:
        return f"{self.root_url}/offers/{product}"

    def set_offers(self, product: str, sellers: list[Seller]) -> None:
        self._products[product] = list(sellers)
        self._failing.pop(product, None)

    def fail(self, product: str, status: int) -> None:
        self._failing[product] = status

    def _recent(self) -> str:
        return f"{len(self.paths)} requests, last: {self.paths[-5:]}"

    async def _offers(self, request: web.Request) -> web.Response:
        product = request.match_info["product"]
        self.paths.append(request.path_qs)
        await self._notify()
        if product in self._failing:
            return web.Response(status=self._failing[product], text="refused")
        sellers = self._products.get(product)
        if sellers is None:
            return web.Response(status=404, text="no such product")
        page = int(request.query.get("page", "1"))
        start = (page - 1) * self.page_size
        rows = sellers[start : start + self.page_size]
        more = start + self.page_size < len(sellers)
        return web.json_response(
            {
                "product": {"id": product, "name": f"Product {product}"},
                "offers": [
                    {
                        "seller_id": s.seller_id,
                        "seller_name": s.name,
                        "price": s.price,
                        "currency": s.currency,
                        "rating": s.rating,
                        "delivery": s.delivery,
                        "in_stock": s.in_stock,
                    }
                    for s in rows
                ],
                "next": f"/offers/{product}?page={page + 1}" if more else None,
            }
        )
