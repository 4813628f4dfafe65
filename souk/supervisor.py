"""`souk up`: embedded servers, migrations, the demo shop, then web + worker + beat.

The children run in their own sessions (Ctrl-C reaches only the supervisor, which
then stops them in order) and get SIGTERM from the kernel if the supervisor dies,
so a `kill -9` of `souk up` leaves no orphans but the servers, which the next run
finds and reuses. A lock file held with flock marks a running supervisor; the
kernel drops the lock with the process, so a crash never leaves it stale.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from souk.config import Settings
from souk.embedded import EmbeddedServices, ServiceURLs
from souk.errors import ConfigurationError
from souk.logs import get_logger

log = get_logger("souk.up")

CHILDREN = ("serve", "worker", "beat")
_PR_SET_PDEATHSIG = 1
_STOP_GRACE_SECONDS = 20.0
_MAX_RESTARTS = 5


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / "up.lock"


def supervisor_running(settings: Settings) -> bool:
    """Whether a `souk up` holds the lock of this DATA_DIR."""
    path = lock_path(settings)
    if not path.exists():
        return False
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    restarts: list[float] = field(default_factory=list)


class Supervisor:
    """Runs the platform on one machine until told to stop."""

    def __init__(self, settings: Settings, prepare: Callable[[ServiceURLs], None]) -> None:
        self._settings = settings
        self._prepare = prepare
        self._stopping = False
        self._children: dict[str, Child] = {}
        self._lock: IO[str] | None = None

    def _take_lock(self) -> None:
        path = lock_path(self._settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            handle.close()
            raise ConfigurationError(
                f"`souk up` is already running for {self._settings.data_dir}"
            ) from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def _child_env(self, urls: ServiceURLs) -> dict[str, str]:
        metrics_dir = self._settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)  # samples of dead processes
        metrics_dir.mkdir(parents=True)
        return {
            **os.environ,
            "DATABASE_URL": urls.database_url,
            "REDIS_URL": urls.redis_url,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }

    def _spawn(self, name: str, env: dict[str, str]) -> Child:
        process = subprocess.Popen(
            [sys.executable, "-m", "souk", name],
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.info("started", child=name, pid=process.pid)
        return Child(name, process)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stopping = True

    def run(self) -> int:
        self._take_lock()
        services = EmbeddedServices.from_settings(self._settings)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            urls = services.start()
            self._prepare(urls)
            env = self._child_env(urls)
            for name in CHILDREN:
                self._children[name] = self._spawn(name, env)
            self._announce()
            self._watch(env)
        finally:
            self._stop_children()
            services.stop(only_started=False)
            log.info("souk stopped")
        return 0

    def _announce(self) -> None:
        http = self._settings.http
        base = f"http://{http.host}:{http.port}"
        deadline = time.monotonic() + 60
        while not self._stopping and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.25)  # polling another process until it listens
        demo = (
            f"  chat with the demo shop (web chat), status, connecting a bot: {base}/\n"
            if self._settings.core.demo
            else ""
        )
        print(
            f"\n  souk is ready: {base}\n{demo}"
            f"  health {base}/healthz · metrics {base}/metrics\n"
            f"  data in {self._settings.data_dir} · Ctrl-C stops everything\n",
            flush=True,
        )

    def _watch(self, env: dict[str, str]) -> None:
        while not self._stopping:
            time.sleep(0.5)  # the supervisor's own pace; children report by exiting
            for name, child in list(self._children.items()):
                code = child.process.poll()
                if code is None or self._stopping:
                    continue
                now = time.monotonic()
                recent = [t for t in child.restarts if now - t < 60] + [now]
                if len(recent) > _MAX_RESTARTS:
                    log.error("child keeps failing; stopping", child=name, exit_code=code)
                    self._stopping = True
                    break
                log.warning("child exited; restarting", child=name, exit_code=code)
                restarted = self._spawn(name, env)
                restarted.restarts = recent
                self._children[name] = restarted

    def _stop_children(self) -> None:
        for child in self._children.values():
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        for child in self._children.values():
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("child did not stop in time; killing", child=child.name)
                child.process.kill()
                child.process.wait()
