"""Runs souk commands as separate processes, the way an operator does, for end-to-end tests.

All waits are async so the fake Bot API, which lives in the test's event loop, keeps
answering while a child process starts or stops.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from souk.embedded import ServiceURLs

ROOT = Path(__file__).resolve().parents[2]
# How long a test waits for what souk processes do, their start included: most of a
# minute on a loaded two-core machine. The waits end as soon as it has happened.
WITHIN = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def souk_env(urls: ServiceURLs, api_base: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "INBOX_", "OUTBOX_", "HTTP_"))
    }
    env.update(
        DATABASE_URL=urls.database_url,
        REDIS_URL=urls.redis_url,
        DATA_DIR=str(data_dir),
        TELEGRAM_API_BASE=api_base,
        INBOX_SWEEP_SECONDS="0.5",
        INBOX_STALE_SECONDS="1",
        OUTBOX_LEASE_SECONDS="2",
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@dataclass
class SoukProcess:
    """One `python -m souk COMMAND` child with its output in a log file."""

    command: str
    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = field(default=None, init=False)

    async def start(self) -> SoukProcess:
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "souk",
            self.command,
            env=self.env,
            cwd=str(ROOT),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    async def kill(self) -> None:
        """kill -9 the whole process group (a Celery worker has pool children)."""
        if self.process is not None and self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()

    async def stop(self, grace: float = 20.0) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            await self.kill()
            return None


async def start_server(env: dict[str, str], log_dir: Path, name: str) -> tuple[SoukProcess, str]:
    """`souk serve` on a free port; returns it once /readyz answers 200."""
    port = free_port()
    server = await SoukProcess(
        "serve", {**env, "HTTP_PORT": str(port)}, log_dir / f"{name}.log"
    ).start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WITHIN
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert server.process is not None
            if server.process.returncode is not None:
                raise AssertionError(f"souk serve exited:\n{server.output()}")
            try:
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        return server, base
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)  # waiting for another process to listen
    await server.kill()
    raise AssertionError(f"souk serve never became ready:\n{server.output()}")
