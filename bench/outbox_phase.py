"""One outbox phase: enqueue, start a worker, kick delivery, maybe kill it, count the result."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from dataclasses import dataclass, field

from bench.outbox_bench import Bench, Phase
from bench.processes import Child
from bench.procfs import child_pids, peak_rss_mb
from souk.workers.app import DELIVER_TASK, SWEEP_TASK

KILL_AT = 0.4
POLL_SECONDS = 0.5


@dataclass
class Timeline:
    """Seconds since the kick (monotonic clock of this process, which the fake shares)."""

    killed_at: float | None = None
    delivered_at_kill: int = 0
    worker_ready_at: float | None = None
    resumed_at: float | None = None  # first delivery recorded after the kill


@dataclass
class PhaseFigures:
    """What one phase achieved, as the fake and the outbox table saw it."""

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


@dataclass
class PhaseRun:
    """A phase while its pushes are delivered: the live worker and what happened so far."""

    bench: Bench
    phase: Phase
    worker: Child
    kicked: float  # time.monotonic() when delivery was kicked
    timeline: Timeline = field(default_factory=Timeline)
    # [pool child, main] VmHWM of killed workers; live ones are read at the end.
    killed_rss: list[float] = field(default_factory=list)

    async def poll_until_done(self, limit: float) -> bool:
        """Poll until no row is pending or sending (killing the worker once, in a kill
        phase); True if `limit` seconds passed first."""
        phase = self.phase
        while True:
            await asyncio.sleep(POLL_SECONDS)
            delivered = len(self.bench.deliveries(phase))
            if (
                phase.kill
                and self.timeline.killed_at is None
                and delivered >= KILL_AT * phase.pushes
            ):
                await self.kill_and_replace(delivered)
            statuses = await self.bench.statuses(phase)
            if statuses.get("pending", 0) + statuses.get("sending", 0) == 0:
                return False
            if time.monotonic() - self.kicked > limit:
                return True
            if not self.worker.alive():
                raise RuntimeError(f"{self.worker.name} died:\n{self.worker.log_tail()}")

    async def kill_and_replace(self, delivered: int) -> None:
        """SIGKILL the worker's whole process group, start a new one, kick it."""
        bench, worker, timeline = self.bench, self.worker, self.timeline
        child_mb, main_mb = pool_rss(worker)
        self.killed_rss += [child_mb, main_mb]
        worker.signal_group(signal.SIGKILL)
        timeline.killed_at, timeline.delivered_at_kill = time.monotonic() - self.kicked, delivered
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(worker.process.wait, 10)
        self.worker = await bench.start_worker(f"worker-{bench.args.run_id}-restarted")
        timeline.worker_ready_at = time.monotonic() - self.kicked
        await bench.celery.send(DELIVER_TASK)

    async def figures(
        self, *, enqueue_seconds: float, timed_out: bool, child_mb: float, main_mb: float
    ) -> PhaseFigures:
        """What the fake recorded and the outbox holds once the phase is over."""
        bench, phase, kicked, timeline = self.bench, self.phase, self.kicked, self.timeline
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
            worker_rss_mb=max([child_mb, *self.killed_rss[0::2]]),
            main_rss_mb=max([main_mb, *self.killed_rss[1::2]]),
            timed_out=timed_out,
            timeline=timeline,
        )


async def run_phase(bench: Bench, phase: Phase) -> PhaseFigures:
    """Enqueue the phase's pushes, deliver them with a fresh worker, stop it, count."""
    bench.api.reset()  # per-phase call records, stats and fresh flood-control buckets
    enqueue_seconds = await bench.enqueue(phase)
    worker = await bench.start_worker(f"worker-{phase.name}")
    limit = max(120.0, phase.pushes / bench.settings.telegram.per_bot_rate * 2 + 90)
    run = PhaseRun(bench, phase, worker, kicked=time.monotonic())
    await bench.celery.send(DELIVER_TASK)
    sweeper = asyncio.create_task(sweep_forever(bench))
    try:
        timed_out = await run.poll_until_done(limit)
        child_mb, main_mb = pool_rss(run.worker)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await run.worker.stop()
    return await run.figures(
        enqueue_seconds=enqueue_seconds, timed_out=timed_out, child_mb=child_mb, main_mb=main_mb
    )
