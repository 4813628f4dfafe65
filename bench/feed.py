"""Kaspi price feed: 100,000 offers generated, checked, published and served.

Postgres and Redis are embedded with production settings (fsync on). A shop with
100,000 active products (titles with & < > and quotes, a fifth out of stock) gets a
feed with two stores; then, the way the beat job does it:

- "first": the feed generated, checked, gzipped and published;
- "unchanged": the next tick, nothing changed (only the fingerprint query runs);
- "1 price": one price changed, the whole feed regenerated;
- "fetch gzip" / "fetch plain" / "fetch 304": the marketplace's GET over HTTP, as
  stored, decompressed on the fly, and answered from its ETag.

Run: `.venv/bin/python bench/feed.py [--rows 100000]`. Prints seconds, offers/s, sizes
and the growth of this process's peak memory (VmHWM) while generating; PASS if the
first generation takes under 60 s and the peak grows by under 200 MiB (the document
is never a tree nor one string: only its gzip is held).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession, encode_basic_auth
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from bench.fixtures import bench_workdir, embedded_services
from bench.procfs import peak_rss_mb
from bench.report import fmt, print_table
from souk.config import Settings
from souk.embedded import ServiceURLs
from souk.logs import setup_logging
from souk.runtime import Runtime
from souk.services.feed_setup import FeedOptions, FeedSetup
from souk.services.feeds import FeedPublisher, FeedStatus
from souk.services.shops import ShopService
from souk.web import build_app

TARGET_SECONDS = 60.0
TARGET_PEAK_GROWTH_MB = 200.0
NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)

_PRODUCTS = text(
    """
    INSERT INTO products (shop_id, sku, title, brand, price, currency, stock)
    SELECT :shop_id, 'SKU-' || lpad(n::text, 6, '0'),
           'Kettle & cup <' || n || '> "steel" ''' || (n % 13) || '''',
           'Brand ' || (n % 97), 100 + (n * 37) % 500000 / 100.0, 'KZT',
           CASE WHEN n % 5 = 0 THEN 0 ELSE n % 40 END
    FROM generate_series(1, :rows) AS n
    """
)

_ONE_PRICE = text(
    "UPDATE products SET price = price + 1 WHERE shop_id = :shop_id AND sku = 'SKU-000001'"
)


@dataclass(frozen=True)
class Phase:
    name: str
    status: str
    seconds: float
    offers: int = 0
    megabytes: float | None = None


async def seed(runtime: Runtime, rows: int, slug: str) -> tuple[int, str]:
    """The shop's id and its feed's secret."""
    async with runtime.session_factory() as session, session.begin():
        shop = await ShopService(session).create(slug=slug, name="Bench & Feed", currency="KZT")
        await session.execute(_PRODUCTS, {"shop_id": shop.id, "rows": rows})
        secret = await FeedSetup(session, shop).enable(FeedOptions("M-1", ["PP1", "PP2"]))
    assert secret is not None
    return shop.id, secret


async def fetches(server: TestServer, slug: str, secret: str) -> list[Phase]:
    url = server.make_url(f"/feeds/kaspi/{slug}.xml")
    auth = {"Authorization": encode_basic_auth("kaspi", secret)}
    phases, etag = [], ""
    async with ClientSession(auto_decompress=False) as client:
        for name, encoding in (
            ("fetch gzip", "gzip"),
            ("fetch plain", "identity"),
            ("fetch 304", ""),
        ):
            headers = {**auth, "Accept-Encoding": encoding or "gzip"}
            if not encoding:
                headers["If-None-Match"] = etag
            started = time.perf_counter()
            async with client.get(url, headers=headers) as response:
                body = await response.read()
                etag = response.headers.get("ETag", etag)
            phases.append(
                Phase(
                    name, str(response.status), time.perf_counter() - started, 0, len(body) / 2**20
                )
            )
    return phases


async def attempt(publisher: FeedPublisher, shop_id: int, name: str, now: datetime) -> Phase:
    """One beat tick at `now`: offers counts only a document made."""
    started = time.perf_counter()
    outcome = await publisher.refresh(shop_id, now)
    made = outcome.offers if outcome.status is not FeedStatus.UNCHANGED else 0
    return Phase(name, outcome.status, time.perf_counter() - started, made)


async def measure(
    urls: ServiceURLs, rows: int, slug: str = "bench-feed"
) -> tuple[list[Phase], float]:
    """The phases, and how much the peak memory grew while the first feed was made."""
    runtime = Runtime.create(Settings(), urls, handle_updates=False, pool_size=2)
    server = TestServer(build_app(runtime))
    await server.start_server()
    try:
        shop_id, secret = await seed(runtime, rows, slug)
        publisher = FeedPublisher(runtime.session_factory, runtime.settings.feed)
        baseline = peak_rss_mb(os.getpid()) or 0.0
        phases = [await attempt(publisher, shop_id, "first", NOW)]
        growth = (peak_rss_mb(os.getpid()) or 0.0) - baseline
        phases.append(await attempt(publisher, shop_id, "unchanged", NOW + timedelta(minutes=1)))
        async with runtime.session_factory() as session, session.begin():
            await session.execute(_ONE_PRICE, {"shop_id": shop_id})
        phases.append(await attempt(publisher, shop_id, "1 price", NOW + timedelta(minutes=2)))
        phases += await fetches(server, slug, secret)
        return phases, growth
    finally:
        await server.close()
        await runtime.close()


def verdict(phases: list[Phase], growth: float) -> bool:
    first = phases[0]
    return (
        first.status == FeedStatus.PUBLISHED
        and first.seconds < TARGET_SECONDS
        and growth < TARGET_PEAK_GROWTH_MB
    )


async def run(rows: int) -> bool:
    async with bench_workdir("souk-bench-feed-") as workdir, embedded_services(workdir) as urls:
        phases, growth = await measure(urls, rows)
    print(
        f"Kaspi feed, {rows:,} products (target: first generation < {TARGET_SECONDS:.0f} s, "
        f"peak memory growth < {TARGET_PEAK_GROWTH_MB:.0f} MiB)"
    )
    print_table(
        ["phase", "status", "seconds", "offers", "offers/s", "MB sent"],
        [
            [
                phase.name,
                phase.status,
                fmt(phase.seconds, 3),
                f"{phase.offers:,}" if phase.offers else "-",
                fmt(phase.offers / phase.seconds, 0) if phase.offers else "-",
                fmt(phase.megabytes, 2),
            ]
            for phase in phases
        ],
    )
    print(f"peak memory growth while generating: {fmt(growth)} MiB")
    passed = verdict(phases, growth)
    print("PASS" if passed else "FAIL")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    setup_logging(level="WARNING", json=False)
    sys.exit(0 if asyncio.run(run(args.rows)) else 1)


if __name__ == "__main__":
    main()
