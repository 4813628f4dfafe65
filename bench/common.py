"""What both benchmarks share: embedded servers, child processes, /proc readings, figures.

Child processes run in their own session (process group), so stopping one stops its
whole tree (Celery's pool children included) and nothing else on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from souk.cli import migrate_database
from souk.embedded import EmbeddedServices, ServiceURLs

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Settings of the developer's shell must not leak into the processes under test.
_SCRUBBED_PREFIXES = (
    "TELEGRAM_",
    "WHATSAPP_",
    "OPENAI_",
    "DATABASE_URL",
    "REDIS_URL",
    "INBOX_",
    "OUTBOX_",
    "HTTP_",
    "WORKER_",
    "PROMETHEUS_MULTIPROC_DIR",
    "DATA_DIR",
    "LOG_LEVEL",
    "LOG_JSON",
    "PUBLIC_URL",
    "ADMIN_TELEGRAM_IDS",
)
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- numbers ---------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentiles(values: Sequence[float], qs: Iterable[float] = (50, 95, 99)) -> list[float]:
    ordered = sorted(values)
    return [percentile(ordered, q) for q in qs]


def new_bot_token() -> str:
    """A token in @BotFather's shape: '<bot id>:<secret>'."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain text table: first column left-aligned, the figures right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(cells[0]).ljust(widths[0])]
        parts += [str(cell).rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(parts)

    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


# -- /proc -----------------------------------------------------------------------------


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


# -- child processes -------------------------------------------------------------------


def parse_env_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """["KEY=VALUE", ...] -> {KEY: VALUE} (for --env style flags)."""
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(_SCRUBBED_PREFIXES)
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def souk_env(
    *, data_dir: Path, urls: ServiceURLs, api_base: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a `souk` process using the bench's servers (it starts none)."""
    env = {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": urls.database_url,
        "REDIS_URL": urls.redis_url,
        "TELEGRAM_API_BASE": api_base,
        "HTTP_HOST": "127.0.0.1",
    }
    env.update(extra or {})
    return child_env(env)


@dataclass
class Child:
    """A process started by a benchmark, in its own process group, output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    async def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM the group, wait up to `grace` seconds, then SIGKILL whatever is left."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(self.process.wait, grace)
        self.signal_group(signal.SIGKILL)  # stragglers (pool children) too
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(self.process.wait, 5)
        return self.process.returncode


def spawn(name: str, args: Sequence[str], *, env: Mapping[str, str], workdir: Path) -> Child:
    """Start `args` in a new session; stdout and stderr go to `workdir/<name>.log`."""
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(args),
            env=dict(env),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Child(name, process, log_path)


async def wait_http_ok(url: str, child: Child, *, within: float = 90.0) -> float:
    """Poll `GET url` until it answers 200; returns seconds waited. Fails fast if `child` dies."""
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while True:
            if not child.alive():
                raise RuntimeError(
                    f"{child.name} exited ({child.process.returncode}) "
                    f"before {url} answered:\n{child.log_tail()}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            if time.monotonic() - started > within:
                raise TimeoutError(f"{url} not ready after {within:.0f}s:\n{child.log_tail()}")
            await asyncio.sleep(0.2)


# -- servers ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def bench_workdir(prefix: str) -> AsyncIterator[Path]:
    """A temporary directory for data, sockets and logs; removed at the end (logs kept
    only if `BENCH_KEEP` is set)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.asynccontextmanager
async def embedded_services(data_dir: Path, *, fast: bool = False) -> AsyncIterator[ServiceURLs]:
    """Postgres and Redis, migrated; stopped at the end. Durable settings (fsync on, as in
    production) unless `fast` (the tests' settings: no fsync, no AOF)."""
    services = EmbeddedServices(data_dir=data_dir, database_url=None, redis_url=None, fast=fast)
    try:
        urls = await asyncio.to_thread(services.start)
        await asyncio.to_thread(migrate_database, urls.database_url)
        yield urls
    finally:
        await asyncio.to_thread(services.stop, only_started=False)
