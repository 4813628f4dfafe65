"""What the fake API servers share: a socket on 127.0.0.1, a clean close, waiting until
recorded requests make a condition true, and running standalone until SIGTERM.

Subclasses add their routes to ``self._app``, call ``_notify()`` after every request they
record and describe their recent requests in ``_recent()`` for timeout messages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    L = TypeVar("L", bound=DataclassInstance)
else:
    L = TypeVar("L")

from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]


class ManualClock:
    """A clock for the fakes' ``clock=`` that only moves when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeHTTPServer:
    """Lifecycle and waiting of a fake HTTP API; ``base_url`` is set by ``start()``."""

    label = "fake server"

    def __init__(self, *, base_path: str = "", client_max_size: int = 64 * 1024 * 1024) -> None:
        self._base_path = base_path
        self._cond = asyncio.Condition()
        self._waiters = 0
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.root_url = ""
        self.base_url = ""
        self._app = web.Application(client_max_size=client_max_size)

    # The ``timeout`` argument is part of the agreed test-facing API, hence the noqa.
    async def wait_for(
        self,
        predicate: Callable[[Self], object],
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate(self)`` is true; re-checked after every recorded request."""
        try:
            await self._wait(lambda: bool(predicate(self)), timeout)
        except TimeoutError:
            name = getattr(predicate, "__qualname__", repr(predicate))
            msg = f"{self.label}: {name} still false after {timeout}s; {self._recent()}"
            raise TimeoutError(msg) from None

    def _recent(self) -> str:
        """How many requests were recorded and the last few, for timeout messages."""
        raise NotImplementedError

    def stats(self) -> dict[str, dict[str, int]]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    async def _ctl_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port); return ``base_url``."""
        self._closing = False
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # Pending long polls are woken by close(), so a short grace period suffices.
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock, backlog=1024).start()
        self.root_url = f"http://{host}:{sock.getsockname()[1]}"
        self.base_url = self.root_url + self._base_path
        return self.base_url

    async def close(self) -> None:
        self._closing = True
        await self._notify()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- waiting ---------------------------------------------------------------------

    async def _wait(self, check: Callable[[], bool], seconds: float) -> None:
        if check():
            return
        self._waiters += 1
        try:
            async with asyncio.timeout(seconds), self._cond:
                await self._cond.wait_for(check)
        finally:
            self._waiters -= 1

    async def _notify(self) -> None:
        # Skipping the lock when nobody waits keeps the hot path cheap at ~1.5k req/s.
        if self._waiters:
            async with self._cond:
                self._cond.notify_all()

    def _wake(self) -> None:
        """Synchronous variant of _notify for sync callers such as reset()."""
        if not self._waiters:
            return
        task = asyncio.get_running_loop().create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def serve_until_stopped(api: FakeHTTPServer, host: str, port: int) -> None:
    """Run ``api`` until SIGTERM or SIGINT; print ``READY <base_url>`` once listening."""
    base_url = await api.start(host=host, port=port)
    print(f"READY {base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await api.close()


def changed_limits(limits: L, changes: Mapping[str, Any]) -> L:
    """A copy of the ``limits`` dataclass with ``changes`` coerced to the fields' types."""
    current = dataclasses.asdict(limits)
    unknown = set(changes) - set(current)
    if unknown:
        raise ValueError(f"unknown limit fields: {sorted(unknown)}")
    for key, value in changes.items():
        current[key] = type(current[key])(value)
    return type(limits)(**current)


def limit_changes(config: dict[str, Any], limits: type, other_keys: set[str]) -> dict[str, Any]:
    """Split a ``/_fake/config`` body: limit fields (top level or under "limits") are
    returned; keys that are neither limits nor ``other_keys`` raise ValueError."""
    names = {f.name for f in dataclasses.fields(limits)}
    changes = {key: value for key, value in config.items() if key in names}
    changes.update(config.pop("limits", None) or {})
    unknown = set(config) - names - other_keys
    if unknown:
        raise ValueError(f"unknown config keys: {sorted(unknown)}")
    return changes


@asynccontextmanager
async def standalone(module: str, *args: str) -> AsyncIterator[str]:
    """Run ``python -m module --port 0 *args``; yield its base URL, then SIGTERM it and
    check it exits cleanly."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "--port",
        "0",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"{module} did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0, f"{module} exited with {code}"
