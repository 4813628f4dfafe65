"""Child processes of a benchmark: their environment, start, readiness and stop.

Child processes run in their own session (process group), so stopping one stops its
whole tree (Celery's pool children included) and nothing else on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from souk.embedded import ServiceURLs

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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    """This process's environment without souk's settings, plus `extra`."""
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
