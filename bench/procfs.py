"""Readings from /proc: peak memory, CPU used and waited for, process trees, pid files."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _status_field(pid: int, field: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    return None


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process in MiB; None once it is gone."""
    kib = _status_field(pid, "VmHWM")
    return kib / 1024.0 if kib is not None else None


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def _parents() -> dict[int, int]:
    """pid -> ppid of every process (from /proc/*/stat)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                parents[int(entry.name)] = int(fields[1])
    return parents


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid`."""
    return [child for child, parent in _parents().items() if parent == pid]


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    parents = _parents()
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (0.0 once it is gone)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # utime and stime are fields 14 and 15 of stat; index 0 here is field 3 (state).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def runqueue_wait_seconds(pid: int) -> float:
    """Time a live process spent runnable but waiting for a CPU (/proc/PID/schedstat)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class CpuMeter:
    """CPU used (or, with `reading=runqueue_wait_seconds`, CPU waited for) by a changing
    set of processes between `start()` and `stop()`, in % of one core (processes that
    exit in between are not counted)."""

    def __init__(
        self, pids: Callable[[], Iterable[int]], reading: Callable[[int], float] = cpu_seconds
    ) -> None:
        self._pids = pids
        self._reading = reading
        self._start: dict[int, float] = {}
        self._started = 0.0

    def _sample(self) -> dict[int, float]:
        return {pid: self._reading(pid) for pid in self._pids()}

    def start(self) -> None:
        self._start, self._started = self._sample(), time.monotonic()

    def stop(self) -> float:
        wall = time.monotonic() - self._started
        used = sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._sample().items())
        return 100.0 * used / wall if wall > 0 else math.nan


def pid_from_file(path: Path) -> int | None:
    """The pid on the first line of a pid file (postmaster.pid, redis.pid)."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
