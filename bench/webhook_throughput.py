"""Webhook throughput: `souk serve` against a bare aiogram echo bot, same load, same fake.

N distinct users each send one plain text message, posted with concurrency C over
keep-alive HTTP, first to `souk serve` (its fallback handler answers each), then to
`bench/echo_bot.py` (aiogram's SimpleRequestHandler, echoing each). Both reply through
the fake Bot API, which runs inside this process with its limits off, so the time it
records a reply (`RecordedCall.at`, this process's monotonic clock) is comparable with
the time the update was posted:

- ack latency: POST sent -> 200 received (both answer before processing);
- end-to-end latency: POST sent -> the reply recorded by the fake;
- updates/s: N / (first POST -> last reply recorded).

Run: `.venv/bin/python bench/webhook_throughput.py [--updates N] [--concurrency C]`.
Prints figures and the issue's targets next to them; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import bench_workdir, embedded_services, new_bot_token
from bench.processes import Child
from bench.webhook_measure import Figures, measure, meters_for
from bench.webhook_report import report
from bench.webhook_targets import (
    Target,
    add_webhook_arguments,
    check_webhook_arguments,
    echo_target,
    souk_target,
)
from souk.logs import setup_logging
from tests.fakes.telegram_api import FakeBotAPI, FakeLimits


async def run(args: argparse.Namespace) -> None:
    """Measure each target in turn against one in-process fake Bot API, then report."""
    souk_token, echo_token = new_bot_token(), new_bot_token()
    api = FakeBotAPI(tokens=[souk_token, echo_token], limits=FakeLimits(enabled=False))
    api_base = await api.start()
    results: list[Figures] = []
    children: list[Child] = []
    try:
        async with bench_workdir("souk-bench-web-") as workdir:
            data_dir = workdir / "data"
            async with embedded_services(data_dir, fast=args.fast_postgres) as urls:
                try:
                    for index, name in enumerate(args.targets):
                        api.reset()
                        if name == "souk":
                            target = await souk_target(
                                workdir, data_dir, urls, api, api_base, souk_token, args
                            )
                        else:
                            target = await echo_target(workdir, api, api_base, echo_token, args)
                        children.append(target.child)
                        results.append(await measure_target(target, index, data_dir, args))
                finally:
                    await stop_children(children, show_logs=args.show_logs)
    finally:
        await api.close()
    report(results, args)


async def measure_target(
    target: Target, index: int, data_dir: Path, args: argparse.Namespace
) -> Figures:
    """Measure one started target (its users are numbered apart from the others'), then stop it."""
    print(f"{target.name}: measuring ...", flush=True)
    figures = await measure(
        target,
        meters_for(target.child, data_dir),
        args,
        first_user=10_000_000 * (index + 1),
    )
    print(
        f"{target.name}: {figures.replies}/{figures.updates} replies in {figures.seconds:.2f}s",
        flush=True,
    )
    await target.child.stop()
    return figures


async def stop_children(children: list[Child], *, show_logs: bool) -> None:
    """Stop every started target, then print their log tails if asked."""
    for child in children:
        await child.stop()
    if show_logs:
        for child in children:
            print(f"--- {child.name} log (tail) ---\n{child.log_tail(40)}")


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line (run with --help to read it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_webhook_arguments(parser, updates=3000)
    parser.add_argument(
        "--targets",
        default="souk,echo",
        type=lambda text: [t for t in text.split(",") if t],
        help="comma-separated, from: souk, echo",
    )
    return parser


def parse_args() -> argparse.Namespace:
    """The command line, checked; `--souk-env` pairs become a dict."""
    parser = build_parser()
    args = check_webhook_arguments(parser, parser.parse_args())
    unknown = set(args.targets) - {"souk", "echo"}
    if unknown:
        parser.error(f"unknown targets: {sorted(unknown)}")
    return args


def main() -> None:
    args = parse_args()
    setup_logging(level="WARNING")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
