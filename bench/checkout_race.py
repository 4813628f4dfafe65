"""Checkout race: N customers confirm the last unit at once -> one order, N-1 refusals.

A shop with a pickup option (no address asked) and a product with a stock of 1 are made
in the database; `souk serve` (its own process, souk's default limits) serves the shop's
bot against the fake Bot API, which runs in this process with its limits off. N
customers (distinct Telegram users) are each taken through the webhook to the order
summary (cart:add -> /checkout -> ship:pickup -> shared contact), then all N Confirm
presses are posted at once. Once every press is answered and every update processed:

- exactly one order holds the product, and its buyer is the one told 'is placed';
- the N-1 others got the alert that it has just sold out, and nobody got anything else;
- the stock is 0, reached by a single RESERVE movement of -1, never below 0.

`--rounds R` repeats the race with a fresh product and fresh customers.

Run: `.venv/bin/python bench/checkout_race.py [--customers 50] [--rounds 1]`.
Prints the figures and PASS/FAIL; exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.checkout_customers import Customer, Webhook, drive_to_summary, race
from bench.checkout_report import RaceFigures, race_figures, report
from bench.checkout_shop import BenchShop, add_last_unit, create_shop, ledger, settle
from bench.fixtures import bench_workdir, embedded_services, new_bot_token
from bench.processes import (
    PYTHON,
    Child,
    free_port,
    parse_env_pairs,
    souk_env,
    spawn,
    wait_http_ok,
)
from souk.db.session import create_engine, create_session_factory
from souk.embedded import ServiceURLs
from souk.logs import setup_logging
from tests.fakes.telegram_api import FakeBotAPI, FakeLimits

FIRST_USER = 7_000_000
USERS_PER_ROUND = 100_000


@dataclass(frozen=True)
class Arena:
    """What every round runs against: the fake, the webhook, the shop and its database."""

    args: argparse.Namespace
    api: FakeBotAPI
    webhook: Webhook
    shop: BenchShop
    session_factory: async_sessionmaker[AsyncSession]
    souk: Child


async def start_souk(
    workdir: Path, data_dir: Path, urls: ServiceURLs, api_base: str, args: argparse.Namespace
) -> tuple[Child, str]:
    """`souk serve` on a free port, once /readyz answers; (the process, its base URL).

    No TELEGRAM_BOT_TOKEN: the bot is the bench shop's, connected in the database."""
    port = free_port()
    env = souk_env(
        data_dir=data_dir,
        urls=urls,
        api_base=api_base,
        extra={"HTTP_PORT": str(port), "LOG_LEVEL": args.log_level, **args.souk_env},
    )
    child = spawn("souk-serve", [PYTHON, "-m", "souk", "serve"], env=env, workdir=workdir)
    base = f"http://127.0.0.1:{port}"
    await wait_http_ok(f"{base}/readyz", child)
    return child, base


async def run_round(arena: Arena, round_number: int) -> RaceFigures:
    """A fresh last unit, fresh customers at its summary, the race, then the database."""
    args = arena.args
    arena.api.reset()  # the previous round is settled: its calls are of no more use
    product_id = await add_last_unit(arena.session_factory, arena.shop, round_number)
    first = FIRST_USER + round_number * USERS_PER_ROUND
    customers = [
        Customer(
            webhook=arena.webhook,
            api=arena.api,
            bot_id=arena.shop.bot_id,
            user_id=user_id,
            timeout=args.timeout,
        )
        for user_id in range(first, first + args.customers)
    ]
    started = time.monotonic()
    await drive_to_summary(customers, product_id, args.drive_concurrency)
    # The summaries' writes commit after they are sent: start the race from a quiet inbox.
    await settle(arena.session_factory, arena.shop, within=args.timeout)
    print(
        f"round {round_number}: {len(customers)} customers at the summary "
        f"in {time.monotonic() - started:.1f}s; confirming at once ...",
        flush=True,
    )
    answers = await race(arena.webhook, customers, within=args.timeout)
    updates = await settle(arena.session_factory, arena.shop, within=args.timeout)
    figures = race_figures(
        round_number,
        customers,
        answers,
        await ledger(arena.session_factory, product_id),
        updates,
    )
    print(
        f"round {round_number}: {len(answers.answers)}/{len(customers)} answered "
        f"in {answers.seconds:.2f}s: {'PASS' if figures.passed else 'FAIL'}",
        flush=True,
    )
    return figures


async def run_rounds(
    args: argparse.Namespace, api: FakeBotAPI, workdir: Path, token: str
) -> list[RaceFigures]:
    """Postgres and Redis, the shop, `souk serve`; then every round against them."""
    data_dir = workdir / "data"
    async with embedded_services(data_dir, fast=args.fast_postgres) as urls:
        engine = create_engine(urls.database_url, pool_size=2, max_overflow=2)
        souk: Child | None = None
        try:
            session_factory = create_session_factory(engine)
            shop = await create_shop(session_factory, token)
            souk, base = await start_souk(workdir, data_dir, urls, api.base_url, args)
            url = f"{base}/webhook/telegram/{shop.bot_id}"
            connector = aiohttp.TCPConnector(limit=0)  # every Confirm in flight at once
            timeout = aiohttp.ClientTimeout(total=args.timeout)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
                webhook = Webhook(http, url, shop.webhook_secret)
                arena = Arena(args, api, webhook, shop, session_factory, souk)
                results = [await run_round(arena, n) for n in range(1, args.rounds + 1)]
            if args.show_logs or not all(r.passed for r in results):
                print(f"--- souk serve log (tail) ---\n{souk.log_tail(40)}")
            return results
        finally:
            if souk is not None:
                await souk.stop()
            await engine.dispose()


async def run(args: argparse.Namespace) -> bool:
    """Every round against one fake Bot API; the report; whether all passed."""
    token = new_bot_token()
    api = FakeBotAPI(tokens=[token], limits=FakeLimits(enabled=False))
    await api.start()
    try:
        async with bench_workdir("souk-bench-race-") as workdir:
            results = await run_rounds(args, api, workdir, token)
    finally:
        await api.close()
    return report(results, args)


def parse_args() -> argparse.Namespace:
    """The command line, checked; `--souk-env` pairs become a dict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=50, help="customers per race (N)")
    parser.add_argument("--rounds", type=int, default=1, help="races, each on a fresh product")
    parser.add_argument(
        "--drive-concurrency",
        type=int,
        default=25,
        help="customers taken to the summary at the same time (the race itself is all at once)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds a step or the race may take"
    )
    parser.add_argument("--log-level", default="INFO", help="of `souk serve`")
    parser.add_argument(
        "--souk-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of `souk serve` (experiments), repeatable",
    )
    parser.add_argument(
        "--fast-postgres", action="store_true", help="run Postgres without fsync, as the tests do"
    )
    parser.add_argument("--show-logs", action="store_true", help="print souk serve's log tail")
    args = parser.parse_args()
    try:
        args.souk_env = parse_env_pairs(args.souk_env)
    except ValueError as error:
        parser.error(str(error))
    if args.customers < 2 or args.rounds < 1 or args.drive_concurrency < 1:
        parser.error("a race needs --customers >= 2, --rounds >= 1, --drive-concurrency >= 1")
    return args


def main() -> None:
    args = parse_args()
    setup_logging(level="WARNING")
    passed = asyncio.run(run(args))
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
