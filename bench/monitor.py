"""Competitor monitoring: 10,000 offers on one fake host with 50 ms per page, checked by one
worker process's monitoring service with a per-host concurrency of 20.

Postgres and Redis are embedded (production settings unless --fast-postgres); the fake
competitor site runs in a subprocess (`tests.fakes.competitor_site`), every page a JSON-LD
product page answered after --latency seconds. A shop gets a bot, an owner and N products,
each watched on one page of the fake (the competitor 5 above our price: no undercut). The
monitoring service is built as a worker builds it (`souk.workers.monitoring`: the real
outbox and staff pushes), with MONITOR_PER_HOST_CONCURRENCY=20 and no per-host delay.

- run 1: all N offers due; offers/s and total seconds (target < 120 s);
- run 2: all N due again, --changes pages now 50 below our price (undercuts): the same
  figures, and per change the time from the check that saw it (the page fetched) to its
  staff push being in the outbox (committed, seen by a poller), and to the repricing
  decision's push (every product has an auto rule: beat the lowest by 1, ceiling our
  price, so run 1 holds every price and run 2 lowers the undercut ones): target < 60 s.

Run: `.venv/bin/python bench/monitor.py [--offers 10000]`. Prints the figures and PASS/FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import String, cast, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.fixtures import bench_workdir, embedded_services, new_bot_token
from bench.report import fmt, print_table
from souk.config import Settings
from souk.connectors.fetch import PageFetcher
from souk.db.models import (
    Competitor,
    CompetitorOffer,
    OfferSource,
    OutboxMessage,
    Product,
    Staff,
    StaffRole,
)
from souk.db.models.repricing import RepriceDecision, RepriceMode, RepriceRule, Strategy
from souk.embedded import ServiceURLs
from souk.logs import setup_logging
from souk.runtime import Runtime
from souk.services.monitoring import MonitorService
from souk.services.offer_checks import OfferChecker, Ours, Seen
from souk.services.shops import ShopService
from souk.workers.monitoring import announcer, repricer
from tests.fakes.http_fake import standalone

TARGET_RUN_SECONDS = 120.0
TARGET_PUSH_SECONDS = 60.0
OWNER = 5_000_001


@dataclass
class RunFigures:
    name: str
    offers: int
    checked: int
    good: int
    seconds: float
    push_seconds: list[float] = field(default_factory=list)
    reprice_seconds: list[float] = field(default_factory=list)
    changes: int = 0

    @property
    def per_second(self) -> float:
        return self.checked / self.seconds if self.seconds else 0.0


class TimedChecker(OfferChecker):
    """Notes when the check of a watched URL saw its page (the observed change)."""

    def __init__(self, fetcher: PageFetcher, settings: Settings, watched: set[str]) -> None:
        super().__init__(fetcher, settings.monitor)
        self.watched = watched
        self.seen_at: dict[str, float] = {}

    async def page(self, url: str, ours: Ours, selectors: dict[str, str] | None = None) -> Seen:
        seen = await super().page(url, ours, selectors)
        if url in self.watched:
            self.seen_at[url] = time.monotonic()
        return seen


async def make_shop(
    sessions: async_sessionmaker[AsyncSession], site: str, offers: int, bot_token: str
) -> tuple[int, dict[int, str]]:
    """A shop with a bot and an owner, `offers` products, each watched on one page of
    `site` priced 5 above ours; returns the shop id and each product's page by id."""
    async with sessions() as session, session.begin():
        shops = ShopService(session)
        slug = f"bench-monitor-{secrets.token_hex(3)}"
        shop = await shops.create(slug=slug, name="Bench monitor")
        await shops.connect_telegram(shop, bot_token)
        session.add(Staff(shop_id=shop.id, telegram_user_id=OWNER, role=StaffRole.OWNER))
        competitor = Competitor(shop_id=shop.id, name="Fake host", host="127.0.0.1")
        session.add(competitor)
        await session.flush()
        ids = list(
            await session.scalars(
                insert(Product).returning(Product.id),
                [
                    {
                        "shop_id": shop.id,
                        "sku": f"MB-{n}",
                        "title": f"Product {n}",
                        "price": Decimal(1000 + n) - 5,
                        "currency": "KZT",
                        "stock": 10,
                    }
                    for n in range(offers)
                ],
            )
        )
        pages = {product_id: f"{site}/product/{n}" for n, product_id in enumerate(ids)}
        await session.execute(
            insert(RepriceRule),
            [
                {
                    "shop_id": shop.id,
                    "product_id": product_id,
                    "strategy": Strategy.BEAT,
                    "step": Decimal(1),
                    "max_price": Decimal(1000 + n) - 5,
                    "mode": RepriceMode.AUTO,
                }
                for n, product_id in enumerate(ids)
            ],
        )
        await session.execute(
            insert(CompetitorOffer),
            [
                {
                    "shop_id": shop.id,
                    "product_id": product_id,
                    "competitor_id": competitor.id,
                    "source": OfferSource.PAGE,
                    "url": url,
                    "next_check_at": datetime.now(UTC),
                }
                for product_id, url in pages.items()
            ],
        )
    return shop.id, pages


@dataclass
class Pushes:
    """When each product's first push of each kind appeared in the outbox (polled)."""

    competition: dict[int, float] = field(default_factory=dict)
    reprice: dict[int, float] = field(default_factory=dict)


async def pushed_at(
    sessions: async_sessionmaker[AsyncSession], shop_id: int, stop: asyncio.Event
) -> Pushes:
    pushes = Pushes()
    # A staff push's key: "reprice:{decision id}:{staff member}".
    decision_key = literal("reprice:") + cast(RepriceDecision.id, String) + literal(":%")
    while not stop.is_set():
        async with sessions() as session:
            keys = await session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.shop_id == shop_id, OutboxMessage.kind == "competition"
                )
            )
            repriced = await session.scalars(
                select(RepriceDecision.product_id).join(
                    OutboxMessage,
                    (OutboxMessage.shop_id == shop_id)
                    & OutboxMessage.idempotency_key.like(decision_key),
                )
            )
            now = time.monotonic()
            for key in keys:
                pushes.competition.setdefault(int(key.split(":")[2]), now)
            for product_id in repriced:
                pushes.reprice.setdefault(product_id, now)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)
    return pushes


async def one_run(
    name: str,
    runtime: Runtime,
    checker: OfferChecker,
    shop_id: int,
    offers: int,
) -> RunFigures:
    def now() -> datetime:
        return datetime.now(UTC)

    # As in production, each pass hands its changed products on and goes on checking;
    # a second worker (here a task of this process) runs the repricing task's work.
    handed: asyncio.Queue[tuple[int, set[int]]] = asyncio.Queue()

    async def hand_on(shop: int, product_ids: set[int]) -> None:
        handed.put_nowait((shop, product_ids))

    async def repricing_worker() -> None:
        reprice = repricer(runtime, now)
        while True:
            shop, product_ids = await handed.get()
            try:
                await reprice(shop, product_ids)
            finally:
                handed.task_done()

    service = MonitorService(
        runtime.session_factory,
        runtime.settings.monitor,
        checker,
        announcer(runtime),
        now=now,
        on_committed=hand_on,
        shop_id=shop_id,
    )
    async with runtime.session_factory() as session, session.begin():
        await session.execute(
            update(CompetitorOffer)
            .where(CompetitorOffer.shop_id == shop_id)
            .values(next_check_at=datetime.now(UTC))
        )
    worker = asyncio.create_task(repricing_worker())
    try:
        report = await service.run(time_budget=3600)
        await handed.join()  # the run's repricing done before the next step
    finally:
        worker.cancel()
    return RunFigures(name, offers, report.checked, report.good, report.seconds)


async def measure(
    urls: ServiceURLs,
    settings: Settings,
    site: str,
    args: argparse.Namespace,
    *,
    bot_token: str,
    progress: Callable[[str], None] = print,
) -> list[RunFigures]:
    """The two runs against the fake at `site` (its control endpoint changes pages); the
    shop's staff pushes go through the bot of `bot_token` (queued, not delivered here)."""
    monitor = settings.monitor
    monitor.per_host_concurrency = args.concurrency
    monitor.per_host_delay_seconds = 0.0
    monitor.allow_private_addresses = True
    runtime = Runtime.create(settings, urls, handle_updates=False, pool_size=10)
    fetcher = PageFetcher(monitor)
    try:
        shop_id, pages = await make_shop(runtime.session_factory, site, args.offers, bot_token)
        progress(f"{args.offers} offers watched; run 1 ...")
        first = await one_run(
            "run 1", runtime, OfferChecker(fetcher, monitor), shop_id, args.offers
        )
        step = max(1, args.offers // max(1, args.changes))
        changed = dict(list(pages.items())[::step][: args.changes])
        async with aiohttp.ClientSession() as http:
            for n, url in enumerate(changed.values()):
                path = url.removeprefix(site)
                number = int(path.rsplit("/", 1)[1])
                body = {"path": path, "price": f"{1000 + number - 55}.00", "currency": "KZT"}
                async with http.post(f"{site}/_fake/page", json=body) as answer:
                    answer.raise_for_status()
                if n % 1000 == 999:
                    progress(f"{n + 1} pages changed")
        progress(f"{len(changed)} pages changed; run 2 ...")
        checker = TimedChecker(fetcher, settings, set(changed.values()))
        stop = asyncio.Event()
        poller = asyncio.create_task(pushed_at(runtime.session_factory, shop_id, stop))
        second = await one_run("run 2", runtime, checker, shop_id, args.offers)
        await asyncio.sleep(0.3)  # one more poll after the last commit
        stop.set()
        pushed = await poller
        second.changes = len(changed)
        second.push_seconds = [
            pushed.competition[product_id] - checker.seen_at[url]
            for product_id, url in changed.items()
            if product_id in pushed.competition and url in checker.seen_at
        ]
        second.reprice_seconds = [
            pushed.reprice[product_id] - checker.seen_at[url]
            for product_id, url in changed.items()
            if product_id in pushed.reprice and url in checker.seen_at
        ]
        return [first, second]
    finally:
        await fetcher.close()
        await runtime.close()


def verdict(runs: list[RunFigures]) -> str:
    failures = []
    for run in runs:
        if run.checked < run.offers or run.good < run.offers:
            failures.append(f"{run.name}: {run.good}/{run.offers} checked with a price")
        if run.seconds >= TARGET_RUN_SECONDS:
            failures.append(f"{run.name}: {run.seconds:.1f} s")
        if run.changes and len(run.push_seconds) < run.changes:
            failures.append(f"{run.name}: {len(run.push_seconds)}/{run.changes} changes pushed")
        if run.changes and len(run.reprice_seconds) < run.changes:
            failures.append(f"{run.name}: {len(run.reprice_seconds)}/{run.changes} repriced")
        for label, seconds in (("push", run.push_seconds), ("repricing", run.reprice_seconds)):
            if seconds and max(seconds) >= TARGET_PUSH_SECONDS:
                failures.append(f"{run.name}: a {label} took {max(seconds):.1f} s")
    return "PASS" if not failures else "FAIL (" + "; ".join(failures) + ")"


def report(runs: list[RunFigures], args: argparse.Namespace) -> None:
    print(
        f"\n{args.offers} offers on one host, {args.latency * 1000:.0f} ms per page, "
        f"per-host concurrency {args.concurrency}"
    )
    rows = []
    for run in runs:
        row = [run.name, str(run.checked), fmt(run.seconds, 1), fmt(run.per_second, 0)]
        for seconds in (run.push_seconds, run.reprice_seconds):
            row += [
                f"{len(seconds)}/{run.changes}" if run.changes else "-",
                fmt(statistics.median(seconds), 2) if seconds else "-",
                fmt(max(seconds), 2) if seconds else "-",
            ]
        rows.append(row)
    print_table(
        [
            *("run", "checked", "seconds", "offers/s"),
            *("pushes", "push p50 s", "push max s"),
            *("repriced", "reprice p50 s", "reprice max s"),
        ],
        rows,
    )
    print(
        f"targets: each run < {TARGET_RUN_SECONDS:.0f} s; observed change -> staff push, "
        f"and -> repricing decision pushed to staff, in the outbox < {TARGET_PUSH_SECONDS:.0f} s"
    )
    print(verdict(runs))


async def run(args: argparse.Namespace) -> None:
    async with (
        bench_workdir("souk-bench-monitor-") as workdir,
        embedded_services(workdir / "data", fast=args.fast_postgres) as urls,
        standalone("tests.fakes.competitor_site", "--latency", str(args.latency)) as site,
    ):
        settings = Settings()
        settings.core.data_dir = workdir / "data"
        runs = await measure(urls, settings, site, args, bot_token=new_bot_token())
    report(runs, args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=50, help="pages changed for run 2")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per page")
    parser.add_argument("--concurrency", type=int, default=20, help="per-host concurrency")
    parser.add_argument(
        "--fast-postgres", action="store_true", help="no fsync (the tests' settings)"
    )
    return parser


def main() -> None:
    setup_logging(level="WARNING")
    asyncio.run(run(build_parser().parse_args()))


if __name__ == "__main__":
    main()
