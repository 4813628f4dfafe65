"""A fake competitor shop over real HTTP on 127.0.0.1: product pages and the ways real
sites answer a price monitor (slowly, 429 with Retry-After, 403, 5xx, redirects, huge
bodies), with every request recorded and the requests in flight per Host counted.

``site.answer(path, Answer(...), ...)`` sets what a path answers, in turn (the last answer
repeats). Unknown paths answer 404. Slow answers wait until their delay passes or the site
closes, so a test's timeout never keeps the site busy after it.

Run standalone (a host for benchmarks): ``python -m tests.fakes.competitor_site --port 8090
--latency 0.05`` serves ``/product/{n}`` as a JSON-LD page of n's price;
``POST /_fake/page {"path": "/product/7", "price": "950.00", "currency": "KZT"}`` changes
what a path shows (with the same latency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.http_fake import FakeHTTPServer, serve_until_stopped

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """One answer of a path: status, headers, body; ``delay`` seconds before answering;
    ``stream_bytes`` > 0 streams that many bytes chunked (no Content-Length)."""

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = HTML
    delay: float = 0.0
    stream_bytes: int = 0


@dataclass(frozen=True)
class SeenRequest:
    path: str
    host: str
    user_agent: str
    status: int


def product_page(title: str, price: str, currency: str, *, in_stock: bool = True) -> str:
    """A small product page with a schema.org JSON-LD offer."""
    offer = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "offers": {
            "@type": "Offer",
            "price": price,
            "priceCurrency": currency,
            "availability": "https://schema.org/" + ("InStock" if in_stock else "OutOfStock"),
        },
    }
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<script type="application/ld+json">{json.dumps(offer)}</script></head>'
        f"<body><h1>{title}</h1><p>{price} {currency}</p></body></html>"
    )


class CompetitorSite(FakeHTTPServer):
    """The fake site; see the module."""

    label = "fake competitor site"

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.requests: list[SeenRequest] = []
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self._answers: dict[str, list[Answer]] = {}
        self._released = asyncio.Event()
        self._app.router.add_get("/_fake/stats", self._ctl_stats)
        self._app.router.add_post("/_fake/reset", self._ctl_reset)
        self._app.router.add_post("/_fake/page", self._ctl_page)
        self._app.router.add_get("/{path:.*}", self._handle)

    def answer(self, path: str, *answers: Answer) -> None:
        """What `path` answers, in turn; the last one repeats."""
        self._answers[path] = list(answers)

    def page(self, path: str, html: str) -> None:
        self.answer(path, Answer(body=html))

    async def _ctl_page(self, request: web.Request) -> web.Response:
        data = await request.json()
        html = product_page(
            data.get("title", "Product"),
            str(data["price"]),
            data.get("currency", "KZT"),
            in_stock=data.get("in_stock", True),
        )
        self.answer(data["path"], Answer(body=html, delay=self.latency))
        return web.json_response({"ok": True})

    def hits(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path == path)

    def reset(self) -> None:
        self.requests.clear()
        self._answers.clear()
        self.max_in_flight.clear()

    def stats(self) -> dict[str, dict[str, int]]:
        statuses = Counter(str(request.status) for request in self.requests)
        return {"requests": dict(statuses)}

    def _recent(self) -> str:
        last = ", ".join(f"{r.host}{r.path}->{r.status}" for r in self.requests[-5:])
        return f"{len(self.requests)} requests recorded, last: [{last}]"

    async def close(self) -> None:
        self._released.set()
        await super().close()

    def _next_answer(self, path: str) -> Answer:
        queue = self._answers.get(path)
        if not queue:
            number = path.removeprefix("/product/")
            if number.isdigit():
                html = product_page(f"Product {number}", f"{1000 + int(number)}.00", "KZT")
                return Answer(body=html, delay=self.latency)
            return Answer(status=404, body="not found", content_type="text/plain")
        return queue.pop(0) if len(queue) > 1 else queue[0]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        host = request.host.rsplit(":", 1)[0]
        answer = self._next_answer(path)
        self.requests.append(
            SeenRequest(path, host, request.headers.get("User-Agent", ""), answer.status)
        )
        self.in_flight[host] += 1
        self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            if answer.delay:
                try:
                    async with asyncio.timeout(answer.delay):
                        await self._released.wait()
                except TimeoutError:
                    pass
            return await self._respond(request, answer)
        finally:
            self.in_flight[host] -= 1
            await self._notify()

    async def _respond(self, request: web.Request, answer: Answer) -> web.StreamResponse:
        if not answer.stream_bytes:
            body = answer.body.encode() if isinstance(answer.body, str) else answer.body
            response = web.Response(status=answer.status, body=body, headers=answer.headers)
            response.content_type, _, charset = answer.content_type.partition("; charset=")
            response.charset = charset or None
            return response
        stream = web.StreamResponse(status=answer.status, headers=answer.headers)
        stream.content_type = answer.content_type.partition(";")[0]
        stream.enable_chunked_encoding()
        await stream.prepare(request)
        chunk = b"<p>" + b"x" * 16_000 + b"</p>\n"
        sent = 0
        try:
            while sent < answer.stream_bytes:
                await stream.write(chunk)
                sent += len(chunk)
        except (ConnectionError, RuntimeError):
            return stream  # the client stopped reading, as it should
        await stream.write_eof()
        return stream


async def _serve(args: argparse.Namespace) -> None:
    await serve_until_stopped(CompetitorSite(latency=args.latency), args.host, args.port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake competitor shop")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per page")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
