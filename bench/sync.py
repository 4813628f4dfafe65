"""Catalog sync: a 10,000-product Shopify store synced into an empty shop, then again.

Postgres and Redis are embedded with production settings (fsync on); the fake Shopify
(tests/fakes/shopify_api.py) runs as its own process with a Shopify Plus cost budget
(a 20,000-point bucket refilled at 1,000 points/s; `--restore-rate 100 --bucket 2000`
for a standard plan), and souk's connector honours it: the time spent waiting for the
budget is printed apart. Three runs, the way `souk sync --shop` runs them (no
embeddings: those are the worker's):

- "first": every item read and created (10,000 products, links, stock movements);
- "unchanged, full": every item read again and compared, nothing written;
- "unchanged, incremental": only items updated since the last run (none) are read.

Between runs the bench waits until the budget is full again (bucket / restore rate: 20 s),
as it is when runs are SYNC_INTERVAL_MINUTES apart; without that pause the second run
measures the refill of the 30,000 points the first one spent, not souk.

Run: `.venv/bin/python bench/sync.py [--products 10000]`. PASS if the first run takes
under 60 s and the unchanged full re-sync under 15 s.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import bench_workdir, embedded_services
from bench.report import fmt, print_table
from souk.config import SyncSettings
from souk.connectors.shopify import ShopifyConnector
from souk.connectors.store import StoreConnector
from souk.db.models import SyncKind
from souk.db.session import create_engine, create_session_factory
from souk.embedded import ServiceURLs
from souk.logs import setup_logging
from souk.services.shops import ShopService
from souk.services.sync import CatalogSync
from souk.services.sync_report import SyncReport
from souk.services.sync_sources import StoreAccess, SyncSources
from tests.fakes.http_fake import standalone

FIRST_TARGET = 60.0
RESYNC_TARGET = 15.0
TOKEN = "shpat_bench_token"


@dataclass(frozen=True)
class Figure:
    run: str
    report: SyncReport
    seconds: float
    throttle_seconds: float
    target: float | None

    @property
    def passed(self) -> bool:
        return self.report.error is None and (self.target is None or self.seconds < self.target)


class TimedSleep:
    """The connector's sleep, real, with the time spent in it added up."""

    def __init__(self) -> None:
        self.total = 0.0

    async def __call__(self, seconds: float) -> None:
        self.total += seconds
        await asyncio.sleep(seconds)


async def measure(
    urls: ServiceURLs, store_url: str, token: str, *, pause: float = 0.0
) -> list[Figure]:
    """The three runs against the store at `store_url` into a new shop, `pause` seconds
    apart (for the store's cost budget to refill, as it does between scheduled runs)."""
    engine = create_engine(urls.database_url, pool_size=2)
    sessions = create_session_factory(engine)
    settings = SyncSettings()
    try:
        async with sessions() as session, session.begin():
            shop = await ShopService(session).create(
                slug=f"bench-sync-{secrets.token_hex(4)}", name="Bench sync"
            )
            source = await SyncSources(session).add(
                shop.id, SyncKind.SHOPIFY, store_url, api_secret=token
            )
        figures = []
        runs: list[tuple[str, bool, float | None]] = [
            ("first", False, FIRST_TARGET),
            ("unchanged, full", True, RESYNC_TARGET),
            ("unchanged, incremental", False, None),
        ]
        for number, (name, full, target) in enumerate(runs):
            if number:
                await asyncio.sleep(pause)
            sleep = TimedSleep()
            service = CatalogSync(sessions, settings, _connector(settings, sleep))
            started = time.perf_counter()
            report = await service.run(source.id, full=full)
            seconds = time.perf_counter() - started
            figures.append(Figure(name, report, seconds, sleep.total, target))
        return figures
    finally:
        await engine.dispose()


def _connector(
    settings: SyncSettings, sleep: TimedSleep
) -> Callable[[StoreAccess], StoreConnector]:
    def connect(access: StoreAccess) -> StoreConnector:
        return ShopifyConnector(
            base_url=access.base_url,
            access_token=access.api_secret,
            settings=settings,
            sleep=sleep,
        )

    return connect


def print_figures(products: int, plan: str, figures: list[Figure]) -> bool:
    print(f"catalog sync, Shopify with {products:,} products ({plan}), no embeddings")
    print_table(
        [
            "run",
            "read",
            "new",
            "changed",
            "same",
            "pushed",
            "total s",
            "throttle s",
            "items/s",
            "target s",
        ],
        [
            [
                f.run,
                f"{f.report.read:,}",
                f"{f.report.created:,}",
                f"{f.report.updated:,}",
                f"{f.report.unchanged:,}",
                f"{f.report.prices_out + f.report.stock_out:,}",
                fmt(f.seconds),
                fmt(f.throttle_seconds),
                fmt(f.report.read / f.seconds, 0) if f.report.read else "-",
                fmt(f.target, 0) if f.target else "-",
            ]
            for f in figures
        ],
    )
    for figure in figures:
        if figure.report.error:
            print(f"{figure.run}: error {figure.report.error}")
    passed = all(figure.passed for figure in figures)
    print("PASS" if passed else "FAIL")
    return passed


async def run(products: int, bucket: float, restore_rate: float) -> bool:
    plan = f"a {bucket:,.0f}-point bucket refilled at {restore_rate:,.0f} points/s"
    fake = standalone(
        "tests.fakes.shopify_api",
        *("--products", str(products), "--token", TOKEN),
        *("--bucket", str(bucket), "--restore-rate", str(restore_rate)),
    )
    async with (
        bench_workdir("souk-bench-sync-") as workdir,
        embedded_services(workdir) as urls,
        fake as store_url,
    ):
        figures = await measure(urls, store_url, TOKEN, pause=bucket / restore_rate)
    return print_figures(products, plan, figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--bucket", type=float, default=20_000)
    parser.add_argument("--restore-rate", type=float, default=1_000)
    args = parser.parse_args()
    setup_logging(level="WARNING", json=False)
    sys.exit(0 if asyncio.run(run(args.products, args.bucket, args.restore_rate)) else 1)


if __name__ == "__main__":
    main()
