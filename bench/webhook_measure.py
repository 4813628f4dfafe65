"""One measured webhook run: warm-up, load, CPU meters, memory, an optional py-spy profile."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.processes import PYTHON, Child, child_env, spawn
from bench.procfs import CpuMeter, peak_rss_mb, pid_from_file, process_tree, runqueue_wait_seconds
from bench.webhook_load import run_load
from bench.webhook_targets import Target

WARMUP_UPDATES = 200


@dataclass
class Figures:
    """What one target achieved in the measured run."""

    target: str
    updates: int
    replies: int
    failed_posts: int
    seconds: float
    ack_ms: list[float]
    e2e_ms: list[float]
    rss_mb: float | None
    cpu: dict[str, float]

    @property
    def throughput(self) -> float:
        return self.replies / self.seconds if self.seconds > 0 else 0.0


def merge(runs: list[Figures]) -> Figures:
    """Several measured runs of one target as one: counts, seconds and samples added up
    (so updates/s is all replies over all measured seconds), CPU weighted by each run's
    seconds, the highest peak memory."""
    if not runs:
        raise ValueError("nothing to merge")
    seconds = sum(run.seconds for run in runs)
    peaks = [run.rss_mb for run in runs if run.rss_mb is not None]
    return Figures(
        target=runs[0].target,
        updates=sum(run.updates for run in runs),
        replies=sum(run.replies for run in runs),
        failed_posts=sum(run.failed_posts for run in runs),
        seconds=seconds,
        ack_ms=[ms for run in runs for ms in run.ack_ms],
        e2e_ms=[ms for run in runs for ms in run.e2e_ms],
        rss_mb=max(peaks) if peaks else None,
        cpu={
            name: (
                sum(run.cpu[name] * run.seconds for run in runs) / seconds
                if seconds > 0
                else math.nan
            )
            for name in runs[0].cpu
        },
    )


@dataclass(frozen=True)
class Meters:
    """CPU meters of the processes that take part in a run."""

    target: CpuMeter
    bench: CpuMeter
    postgres: CpuMeter
    redis: CpuMeter
    target_waiting: CpuMeter

    def _all(self) -> dict[str, CpuMeter]:
        return {
            "target": self.target,
            "bench": self.bench,
            "postgres": self.postgres,
            "redis": self.redis,
            "target_waiting": self.target_waiting,
        }

    def start(self) -> None:
        for meter in self._all().values():
            meter.start()

    def stop(self) -> dict[str, float]:
        return {name: meter.stop() for name, meter in self._all().items()}


def meters_for(target: Child, data_dir: Path) -> Meters:
    """Meters of the target's process tree, this process (load and fake), Postgres, Redis."""

    def tree_of(pid_file: Path) -> Callable[[], list[int]]:
        def pids() -> list[int]:
            pid = pid_from_file(pid_file)
            return process_tree(pid) if pid is not None else []

        return pids

    return Meters(
        target=CpuMeter(lambda: process_tree(target.pid)),
        bench=CpuMeter(lambda: [os.getpid()]),
        postgres=CpuMeter(tree_of(data_dir / "postgres" / "postmaster.pid")),
        redis=CpuMeter(tree_of(data_dir / "redis" / "redis.pid")),
        target_waiting=CpuMeter(lambda: [target.pid], runqueue_wait_seconds),
    )


def start_profiler(pid: int, output: Path) -> Child:
    """py-spy recording `pid` into `output` (raw collapsed stacks)."""
    return spawn(
        f"py-spy-{output.stem}",
        [
            str(Path(PYTHON).parent / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        env=child_env({}),
        workdir=output.parent,
    )


async def stop_profiler(profiler: Child) -> None:
    """Stop py-spy the way that makes it write its output (up to a minute)."""
    profiler.signal_group(signal.SIGINT)  # py-spy writes its output on SIGINT
    with contextlib.suppress(subprocess.TimeoutExpired):
        await asyncio.to_thread(profiler.process.wait, 60)
    await profiler.stop(grace=5)


async def warm_up(target: Target, args: argparse.Namespace, *, first_user: int) -> None:
    """Post WARMUP_UPDATES updates (from users `first_user`, ...) and wait for their replies."""
    warmup = target.channel.updates(WARMUP_UPDATES, first_user=first_user, text=target.text)
    _, warm_replies = await run_load(
        target, warmup, concurrency=args.concurrency, within=args.timeout
    )
    if len(warm_replies) < len(warmup):
        print(f"  warning: warm-up got {len(warm_replies)}/{len(warmup)} replies")


async def measure(
    target: Target,
    meters: Meters,
    args: argparse.Namespace,
    *,
    first_user: int,
    profile_name: str | None = None,
) -> Figures:
    """Warm up (not measured), then post N updates and wait for their replies; with
    --profile-dir, py-spy records into `<profile_name or target name>.txt` there."""
    await warm_up(target, args, first_user=first_user)
    target.channel.reset()
    first = first_user + WARMUP_UPDATES
    updates = target.channel.updates(args.updates, first_user=first, text=target.text)
    profiler = None
    if args.profile_dir:
        output = args.profile_dir / f"{profile_name or target.name}.txt"
        profiler = start_profiler(target.child.pid, output)
        await asyncio.sleep(1.0)  # let py-spy attach
    meters.start()
    load, replies = await run_load(
        target, updates, concurrency=args.concurrency, within=args.timeout
    )
    cpu = meters.stop()
    if profiler is not None:
        await stop_profiler(profiler)
    e2e = [(at - load.sent_at[user]) * 1000.0 for user, at in replies.items()]
    last = max(replies.values(), default=load.first_post)
    return Figures(
        target=target.name,
        updates=len(updates),
        replies=len(replies),
        failed_posts=load.failed,
        seconds=last - load.first_post,
        ack_ms=load.ack_ms,
        e2e_ms=e2e,
        rss_mb=peak_rss_mb(target.child.pid),
        cpu=cpu,
    )
