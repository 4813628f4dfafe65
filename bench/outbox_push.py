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
import contextlib
import functools
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from celery import Celery
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import (
    PYTHON,
    Child,
    bench_workdir,
    child_pids,
    embedded_services,
    fmt,
    new_bot_token,
    peak_rss_mb,
    print_table,
    souk_env,
    spawn,
)
from souk.config import Settings
from souk.db.models import ChannelKind
from souk.db.session import create_engine, create_session_factory
from souk.embedded import ServiceURLs
from souk.logs import setup_logging
from souk.services.outbox import OutboxService, Push
from souk.services.shops import ShopService
from souk.workers.app import DELIVER_TASK, SWEEP_TASK, create_celery
from tests.fakes.telegram_api import FakeBotAPI, FakeLimits

# The targets, printed next to the figures (never asserted).
TARGET_RATE_RATIO = 0.95
TARGET_WORKER_RSS_MB = 400.0
LEASE_SECONDS = 5.0
WORKER_CONCURRENCY = 2
KILL_AT = 0.4
POLL_SECONDS = 0.5
ENQUEUE_CHUNK = 500


@dataclass(frozen=True)
class Phase:
    name: str
    pushes: int
    first_chat: int
    key_prefix: str
    kill: bool

    @property
    def chats(self) -> range:
        return range(self.first_chat, self.first_chat + self.pushes)


@dataclass
class Timeline:
    """Seconds since the kick (monotonic clock of this process, which the fake shares)."""

    killed_at: float | None = None
    delivered_at_kill: int = 0
    worker_ready_at: float | None = None
    resumed_at: float | None = None  # first delivery recorded after the kill


@dataclass
class PhaseFigures:
    phase: Phase
    enqueue_seconds: float
    seconds: float  # kick -> last delivery recorded by the fake
    delivered: int  # chats with at least one message
    lost: int
    duplicated: int
    retry_after: int  # 429s answered by the fake
    statuses: dict[str, int]
    worker_rss_mb: float  # max VmHWM over the pool children
    main_rss_mb: float
    timed_out: bool
    timeline: Timeline = field(default_factory=Timeline)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0


class CeleryClient:
    """Publishes tasks and pings workers from one thread (Celery's client is blocking)."""

    def __init__(self, app: Celery) -> None:
        self._app = app
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="celery-client")

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )

    async def send(self, name: str, **options: Any) -> None:
        await self._call(self._app.send_task, name, **options)

    async def workers_answering(self) -> int:
        replies = await self._call(self._app.control.ping, timeout=1.0)
        return len(replies or [])

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._app.close()


@dataclass
class Bench:
    """What every phase uses."""

    args: argparse.Namespace
    workdir: Path
    data_dir: Path
    urls: ServiceURLs
    api: FakeBotAPI
    celery: CeleryClient
    session_factory: async_sessionmaker[AsyncSession]
    settings: Settings
    shop_id: int
    bot_id: int
    children: list[Child] = field(default_factory=list)

    async def enqueue(self, phase: Phase) -> float:
        started = time.monotonic()
        for start in range(0, phase.pushes, ENQUEUE_CHUNK):
            async with self.session_factory() as session, session.begin():
                outbox = OutboxService(session, self.settings.outbox)
                for index in range(start, min(start + ENQUEUE_CHUNK, phase.pushes)):
                    chat_id = phase.first_chat + index
                    await outbox.enqueue(
                        Push(
                            channel=ChannelKind.TELEGRAM,
                            receiver=str(self.bot_id),
                            chat_id=chat_id,
                            method="sendMessage",
                            payload={
                                "chat_id": chat_id,
                                "text": f"Your order #{index} has shipped",
                            },
                            kind="bench",
                            idempotency_key=f"{phase.key_prefix}{index}",
                            shop_id=self.shop_id,
                        )
                    )
        return time.monotonic() - started

    async def statuses(self, phase: Phase) -> dict[str, int]:
        async with self.session_factory() as session:
            rows = await session.execute(
                text(
                    "SELECT status, count(*) FROM outbox WHERE idempotency_key LIKE :prefix "
                    "GROUP BY status"
                ),
                {"prefix": phase.key_prefix + "%"},
            )
            return {str(status): int(count) for status, count in rows}

    def deliveries(self, phase: Phase) -> Counter[int]:
        """Successful sendMessage calls per chat of the phase."""
        chats = phase.chats
        counts: Counter[int] = Counter()
        for call in self.api.calls("sendMessage"):
            chat_id = call.params.get("chat_id")
            if call.bot_id == self.bot_id and isinstance(chat_id, int) and chat_id in chats:
                counts[chat_id] += 1
        return counts

    async def start_worker(self, name: str) -> Child:
        env = souk_env(
            data_dir=self.data_dir,
            urls=self.urls,
            api_base=self.api.base_url,
            extra={
                "WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
                "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
                "LOG_LEVEL": self.args.log_level,
            },
        )
        child = spawn(name, [PYTHON, "-m", "souk", "worker"], env=env, workdir=self.workdir)
        self.children.append(child)
        deadline = time.monotonic() + 90
        while await self.celery.workers_answering() == 0:
            if not child.alive():
                raise RuntimeError(
                    f"{name} exited ({child.process.returncode}):\n{child.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not answer a ping in 90s:\n{child.log_tail()}")
        return child


def pool_rss(worker: Child) -> tuple[float, float]:
    """(max VmHWM of the pool children, VmHWM of the main process) in MiB."""
    children = [peak_rss_mb(pid) for pid in child_pids(worker.pid)]
    return (
        max((mb for mb in children if mb is not None), default=0.0),
        peak_rss_mb(worker.pid) or 0.0,
    )


async def sweep_forever(bench: Bench) -> None:
    """Stand-in for `souk beat`: the outbox sweep on its schedule."""
    every = bench.settings.outbox.sweep_seconds
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):  # a missed tick costs latency only, as with beat
            await bench.celery.send(SWEEP_TASK, expires=every * 5)


async def kill_and_replace(
    bench: Bench, worker: Child, timeline: Timeline, delivered: int, kicked: float, rss: list[float]
) -> Child:
    """SIGKILL the worker's whole process group, start a new one, kick it."""
    child_mb, main_mb = pool_rss(worker)
    rss += [child_mb, main_mb]
    worker.signal_group(signal.SIGKILL)
    timeline.killed_at, timeline.delivered_at_kill = time.monotonic() - kicked, delivered
    with contextlib.suppress(subprocess.TimeoutExpired):
        await asyncio.to_thread(worker.process.wait, 10)
    replacement = await bench.start_worker(f"worker-{bench.args.run_id}-restarted")
    timeline.worker_ready_at = time.monotonic() - kicked
    await bench.celery.send(DELIVER_TASK)
    return replacement


async def run_phase(bench: Bench, phase: Phase) -> PhaseFigures:
    bench.api.reset()  # per-phase call records, stats and fresh flood-control buckets
    enqueue_seconds = await bench.enqueue(phase)
    worker = await bench.start_worker(f"worker-{phase.name}")
    timeline = Timeline()
    # [pool child, main] VmHWM of killed workers; live ones are read at the end.
    killed_rss: list[float] = []
    limit = max(120.0, phase.pushes / bench.settings.telegram.per_bot_rate * 2 + 90)
    kicked = time.monotonic()
    await bench.celery.send(DELIVER_TASK)
    sweeper = asyncio.create_task(sweep_forever(bench))
    timed_out = False
    try:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            delivered = len(bench.deliveries(phase))
            if phase.kill and timeline.killed_at is None and delivered >= KILL_AT * phase.pushes:
                worker = await kill_and_replace(
                    bench, worker, timeline, delivered, kicked, killed_rss
                )
            statuses = await bench.statuses(phase)
            if statuses.get("pending", 0) + statuses.get("sending", 0) == 0:
                break
            if time.monotonic() - kicked > limit:
                timed_out = True
                break
            if not worker.alive():
                raise RuntimeError(f"{worker.name} died:\n{worker.log_tail()}")
        child_mb, main_mb = pool_rss(worker)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await worker.stop()
    counts = bench.deliveries(phase)
    ok_calls = [call for call in bench.api.calls("sendMessage") if call.bot_id == bench.bot_id]
    last = max((call.at for call in ok_calls), default=kicked)
    if timeline.killed_at is not None:
        killed_abs = kicked + timeline.killed_at
        after = [call.at for call in ok_calls if call.at > killed_abs]
        timeline.resumed_at = min(after) - kicked if after else None
    stats = bench.api.stats().get("sendMessage", {})
    return PhaseFigures(
        phase=phase,
        enqueue_seconds=enqueue_seconds,
        seconds=last - kicked,
        delivered=len(counts),
        lost=sum(1 for chat in phase.chats if counts[chat] == 0),
        duplicated=sum(1 for n in counts.values() if n > 1),
        retry_after=stats.get("retry_after", 0),
        statuses=await bench.statuses(phase),
        worker_rss_mb=max([child_mb, *killed_rss[0::2]]),
        main_rss_mb=max([main_mb, *killed_rss[1::2]]),
        timed_out=timed_out,
        timeline=timeline,
    )


def report(results: list[PhaseFigures], settings: Settings) -> None:
    allowed = settings.telegram.per_bot_rate
    print()
    print(
        f"outbox push: souk worker (WORKER_CONCURRENCY={WORKER_CONCURRENCY}, "
        f"OUTBOX_LEASE_SECONDS={LEASE_SECONDS:g}), souk limits TELEGRAM_PER_BOT_RATE="
        f"{allowed:g} burst {settings.telegram.per_bot_burst}; fake Bot API limits on "
        f"(per bot 30/s burst 30, per chat 1/s burst 3); one push per chat"
    )
    print()
    rows = []
    for r in results:
        rows.append(
            [
                r.phase.name + (" (TIMED OUT)" if r.timed_out else ""),
                str(r.phase.pushes),
                fmt(r.enqueue_seconds, 1),
                fmt(r.seconds, 1),
                fmt(r.rate, 2),
                fmt(allowed, 0),
                fmt(r.rate / allowed, 3),
                str(r.retry_after),
                str(r.lost),
                str(r.duplicated),
                " ".join(f"{k}={v}" for k, v in sorted(r.statuses.items())),
            ]
        )
    print_table(
        [
            "phase",
            "pushes",
            "enqueue s",
            "seconds",
            "rate/s",
            "allowed/s",
            "achieved/allowed",
            "429s",
            "lost",
            "duplicated",
            "outbox rows",
        ],
        rows,
    )
    print("(seconds: from the deliver kick to the last message recorded by the fake)")
    for r in results:
        t = r.timeline
        if t.killed_at is None:
            continue
        print(
            f"{r.phase.name}: SIGKILL to the worker's process group at {t.killed_at:.1f}s "
            f"({t.delivered_at_kill}/{r.phase.pushes} delivered); new worker answering at "
            f"{fmt(t.worker_ready_at)}s; first delivery after the kill at "
            f"{fmt(t.resumed_at)}s; rows claimed by the dead worker return after their "
            f"{LEASE_SECONDS:g}s lease, so the phase's rate includes that gap"
        )
    worker_mb = max(r.worker_rss_mb for r in results)
    main_mb = max(r.main_rss_mb for r in results)
    print()
    print_table(
        ["target", "figure", "issue's target"],
        [
            [
                "achieved / allowed (steady)",
                fmt(results[0].rate / allowed, 3),
                f">= {TARGET_RATE_RATIO}",
            ],
            ["429s received (all phases)", str(sum(r.retry_after for r in results)), "0"],
            ["lost (all phases)", str(sum(r.lost for r in results)), "0"],
            ["duplicated (all phases)", str(sum(r.duplicated for r in results)), "0"],
            ["worker pool process peak RSS MB", fmt(worker_mb), f"< {TARGET_WORKER_RSS_MB:g}"],
            ["worker main process peak RSS MB", fmt(main_mb), "-"],
        ],
    )


async def create_shop(
    session_factory: async_sessionmaker[AsyncSession], token: str
) -> tuple[int, int]:
    async with session_factory() as session, session.begin():
        shops = ShopService(session)
        shop = await shops.create(slug=f"bench-{secrets.token_hex(4)}", name="Bench shop")
        channel = await shops.connect_telegram(shop, token)
        return shop.id, int(channel.external_id)


async def run(args: argparse.Namespace) -> None:
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
                    phases = [
                        Phase(
                            "steady", args.pushes, 1_000_000, f"bench:{args.run_id}:a:", kill=False
                        )
                    ]
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
                    for phase in phases:
                        print(f"{phase.name}: {phase.pushes} pushes ...", flush=True)
                        figures = await run_phase(bench, phase)
                        results.append(figures)
                        print(
                            f"{phase.name}: {figures.delivered}/{phase.pushes} chats reached "
                            f"in {figures.seconds:.1f}s",
                            flush=True,
                        )
                finally:
                    if bench is not None:
                        for child in bench.children:
                            await child.stop()
                        if args.show_logs:
                            for child in bench.children:
                                print(f"--- {child.name} log (tail) ---\n{child.log_tail(30)}")
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
