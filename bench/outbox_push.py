"""Outbox push: how close `souk worker` gets to a bot's allowed rate, and what a kill -9 costs.

Phase 1: P pushes to P chats are enqueued in the outbox, `souk worker` (2 pool
processes) is started and kicked with `souk.outbox.deliver`; delivery runs through
the fake Bot API with its flood limits on (30/s per bot, burst 30) while souk holds
itself to its own defaults (TELEGRAM_PER_BOT_RATE=30, burst 5). Phase 2: another
batch; once ~40% is delivered the worker's whole process group gets SIGKILL, a new
worker is started, and the rows the dead one had claimed come back after their lease
(OUTBOX_LEASE_SECONDS=5 in both phases).

While a phase runs, this script sends `souk.outbox.sweep` every OUTBOX_SWEEP_SECONDS,
standing in for `souk beat` (which is what re-queues delivery once leases run out).

Run: `.venv/bin/python bench/outbox_push.py [--pushes 5000] [--kill-pushes 2000]`.
Prints figures and the issue's targets next to them; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.celery_client import CeleryClient
from bench.fixtures import bench_workdir, embedded_services, new_bot_token
from bench.outbox_bench import Bench, Phase, create_shop
from bench.outbox_phase import PhaseFigures, run_phase
from bench.outbox_report import report
from souk.config import Settings
from souk.db.session import create_engine, create_session_factory
from souk.logs import setup_logging
from souk.workers.app import create_celery
from tests.fakes.telegram_api import FakeBotAPI, FakeLimits


def build_phases(args: argparse.Namespace) -> list[Phase]:
    """The steady phase, then (unless --kill-pushes is 0) the kill -9 phase."""
    phases = [Phase("steady", args.pushes, 1_000_000, f"bench:{args.run_id}:a:", kill=False)]
    if args.kill_pushes > 0:
        phases.append(
            Phase(
                "kill -9 at 40%",
                args.kill_pushes,
                2_000_000,
                f"bench:{args.run_id}:b:",
                kill=True,
            )
        )
    return phases


async def run_phases(bench: Bench, phases: list[Phase]) -> list[PhaseFigures]:
    """Each phase in turn, with a progress line before and after it."""
    results: list[PhaseFigures] = []
    for phase in phases:
        print(f"{phase.name}: {phase.pushes} pushes ...", flush=True)
        figures = await run_phase(bench, phase)
        results.append(figures)
        print(
            f"{phase.name}: {figures.delivered}/{phase.pushes} chats reached "
            f"in {figures.seconds:.1f}s",
            flush=True,
        )
    return results


async def stop_workers(bench: Bench, *, show_logs: bool) -> None:
    """Stop every worker started, then print their log tails if asked."""
    for child in bench.children:
        await child.stop()
    if show_logs:
        for child in bench.children:
            print(f"--- {child.name} log (tail) ---\n{child.log_tail(30)}")


async def run(args: argparse.Namespace) -> None:
    """Run the phases against one fake Bot API, Postgres and Redis, then report."""
    token = new_bot_token()
    api = FakeBotAPI(tokens=[token], limits=FakeLimits())  # Telegram's limits, on
    await api.start()
    settings = Settings()  # souk's defaults: the worker reads the same ones
    results: list[PhaseFigures] = []
    try:
        async with bench_workdir("souk-bench-outbox-") as workdir:
            data_dir = workdir / "data"
            async with embedded_services(data_dir) as urls:
                engine = create_engine(urls.database_url, pool_size=2, max_overflow=2)
                celery = CeleryClient(create_celery(settings, urls))
                bench: Bench | None = None
                try:
                    session_factory = create_session_factory(engine)
                    shop_id, bot_id = await create_shop(session_factory, token)
                    bench = Bench(
                        args=args,
                        workdir=workdir,
                        data_dir=data_dir,
                        urls=urls,
                        api=api,
                        celery=celery,
                        session_factory=session_factory,
                        settings=settings,
                        shop_id=shop_id,
                        bot_id=bot_id,
                    )
                    results = await run_phases(bench, build_phases(args))
                finally:
                    if bench is not None:
                        await stop_workers(bench, show_logs=args.show_logs)
                    celery.close()
                    await engine.dispose()
    finally:
        await api.close()
    if results:
        report(results, settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pushes", type=int, default=5000, help="pushes of the steady phase")
    parser.add_argument(
        "--kill-pushes", type=int, default=2000, help="pushes of the kill -9 phase (0: skip it)"
    )
    parser.add_argument("--log-level", default="INFO", help="of the workers")
    parser.add_argument("--show-logs", action="store_true", help="print the workers' log tails")
    args = parser.parse_args()
    args.run_id = secrets.token_hex(3)
    setup_logging(level="WARNING")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
