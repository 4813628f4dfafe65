"""WhatsApp intake against Telegram's: one `souk serve`, both webhooks, the same handler.

The demo shop gets a Telegram bot and a WhatsApp number; one `souk serve` process takes
both webhooks. Per measured run, N distinct users each send one message, posted with
concurrency C over keep-alive HTTP:

- Telegram: `/help` (the Bot API update, with the webhook's secret token);
- WhatsApp: the word `help` in a Cloud API webhook payload signed with the app secret
  (`X-Hub-Signature-256`), which the bridge turns into `/help`.

Both are answered by the same handler. Replies go to fakes running inside this process
(the Bot API with its limits off; the Graph API as `--no-limits --no-window`: no
throughput, pair rate or 24-hour window), which record when each reply arrived on this
process's monotonic clock. Figures per platform: updates/s (N / first POST -> last
reply), ack latency (POST -> 200), end-to-end latency (POST -> reply at the fake).
Rounds alternate the order (telegram, whatsapp; then whatsapp, telegram; ...) so that
neither platform always runs on the emptier database or in the quieter minute; each
platform's runs are merged. On a shared machine updates/s swings with the neighbours'
load; souk's CPU per update, printed too, swings less.

Run: `.venv/bin/python bench/whatsapp_intake.py [--updates N] [--rounds R]`. Prints the
figures and the issue's target (WhatsApp >= 0.7x Telegram's updates/s); asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import bench_workdir, embedded_services, new_bot_token
from bench.procfs import peak_rss_mb
from bench.webhook_channels import TelegramChannel, WhatsAppChannel
from bench.webhook_measure import Figures, measure, meters_for
from bench.webhook_targets import (
    Target,
    add_webhook_arguments,
    check_webhook_arguments,
    start_souk,
    telegram_webhook_url,
)
from bench.whatsapp_report import TELEGRAM, WHATSAPP, report, round_order
from souk.config import WhatsAppSettings
from souk.db.session import create_engine, create_session_factory
from souk.logs import setup_logging
from souk.services.demo import connect_demo_number
from tests.fakes.telegram_api import FakeBotAPI, FakeLimits
from tests.fakes.whatsapp_api import FakeWhatsAppAPI, WhatsAppLimits

USERS_PER_RUN = 10_000_000  # each run's users (warm-up included) are numbered apart


async def connect_number(database_url: str, number: str, token: str) -> None:
    """Attach the WhatsApp number to the demo shop (created here; `souk serve` attaches
    the bot of TELEGRAM_BOT_TOKEN to the same shop)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            settings = WhatsAppSettings(phone_number_id=number, access_token=token)
            await connect_demo_number(session, settings)
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> None:
    """Start the fakes, Postgres, Redis and `souk serve`, measure the rounds, report."""
    bot_token = new_bot_token()
    number = str(1_000_000 + secrets.randbelow(9_000_000))
    number_token, app_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    bot_api = FakeBotAPI(tokens=[bot_token], limits=FakeLimits(enabled=False))
    graph_api = FakeWhatsAppAPI(
        {number: number_token},
        limits=WhatsAppLimits(throughput_enabled=False, pair_enabled=False, window_enabled=False),
    )
    bot_base, graph_base = await bot_api.start(), await graph_api.start()
    try:
        async with bench_workdir("souk-bench-wa-") as workdir:
            data_dir = workdir / "data"
            async with embedded_services(data_dir, fast=args.fast_postgres) as urls:
                await connect_number(urls.database_url, number, number_token)
                child, base, secret = await start_souk(
                    workdir,
                    data_dir,
                    urls,
                    bot_base,
                    bot_token,
                    args,
                    extra_env={
                        "WHATSAPP_API_BASE": graph_base,
                        "WHATSAPP_APP_SECRET": app_secret,
                        "WHATSAPP_PER_NUMBER_RATE": str(args.souk_number_rate),
                    },
                )
                try:
                    targets = {
                        TELEGRAM: Target(
                            TELEGRAM,
                            child,
                            telegram_webhook_url(base, bot_token),
                            TelegramChannel(bot_api, secret),
                            "/help",
                        ),
                        WHATSAPP: Target(
                            WHATSAPP,
                            child,
                            f"{base}/webhook/whatsapp",
                            WhatsAppChannel(graph_api, number, app_secret),
                            "help",
                        ),
                    }
                    rounds = await measure_rounds(targets, data_dir, args)
                    peak = peak_rss_mb(child.pid)
                finally:
                    await child.stop()
                    if args.show_logs:
                        print(f"--- {child.name} log (tail) ---\n{child.log_tail(40)}")
    finally:
        await bot_api.close()
        await graph_api.close()
    report(rounds, peak, args)


async def measure_rounds(
    targets: dict[str, Target], data_dir: Path, args: argparse.Namespace
) -> list[dict[str, Figures]]:
    """Each round measures every target once, in an order that alternates by round."""
    rounds: list[dict[str, Figures]] = []
    runs = 0
    for number in range(args.rounds):
        measured: dict[str, Figures] = {}
        for name in round_order(number, list(targets)):
            target = targets[name]
            print(f"round {number + 1}, {name}: measuring ...", flush=True)
            runs += 1
            figures = await measure(
                target,
                meters_for(target.child, data_dir),
                args,
                first_user=USERS_PER_RUN * runs,
                profile_name=f"{name}-{number + 1}",
            )
            print(
                f"round {number + 1}, {name}: {figures.replies}/{figures.updates} replies "
                f"in {figures.seconds:.2f}s",
                flush=True,
            )
            measured[name] = figures
        rounds.append(measured)
    return rounds


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line (run with --help to read it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_webhook_arguments(parser, updates=1500)
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="measured runs per platform, the order alternating (T W, W T, T W, ...): "
        "short runs side by side feel the same load from the rest of the machine",
    )
    parser.add_argument(
        "--souk-number-rate",
        type=float,
        default=100_000.0,
        help="souk's WHATSAPP_PER_NUMBER_RATE; the fake's limits are off, so by default "
        "souk's is lifted too (80 = production). The pair rate (45, then 1 per 6 s) "
        "stays: each user gets one reply",
    )
    return parser


def parse_args() -> argparse.Namespace:
    """The command line, checked; `--souk-env` pairs become a dict."""
    parser = build_parser()
    args = check_webhook_arguments(parser, parser.parse_args())
    if args.rounds < 1 or args.updates < 1:
        parser.error("--rounds and --updates must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    setup_logging(level="WARNING")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
