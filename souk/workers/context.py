"""The bridge from Celery's synchronous tasks to souk's async services.

Each worker process owns one event loop and one `Runtime` (engine, Redis, bots),
created on first use *in that process*, so a prefork child never inherits a parent's
sockets. A task calls `run(coroutine_function)`, which runs it to completion on that
loop; the loop lives as long as the process and is closed at process shutdown.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from celery import Celery
from celery.signals import worker_process_shutdown

from souk.config import Settings
from souk.embedded import ServiceURLs
from souk.runtime import Runtime

T = TypeVar("T")


class WorkerContext:
    """The event loop and runtime of one worker process."""

    def __init__(self, settings: Settings, urls: ServiceURLs) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.runtime = Runtime.create(settings, urls, handle_updates=False, pool_size=10)

    def run(self, work: Callable[[Runtime], Awaitable[T]]) -> T:
        return self.loop.run_until_complete(work(self.runtime))

    def close(self) -> None:
        self.loop.run_until_complete(self.runtime.close())
        self.loop.close()


_context: WorkerContext | None = None


def context_for(app: Celery) -> WorkerContext:
    """This process's context, built on first use (after any fork)."""
    global _context
    if _context is None or _context.pid != os.getpid():
        _context = WorkerContext(app.conf.souk_settings, app.conf.souk_urls)
    return _context


@worker_process_shutdown.connect
def _close_context(**_: object) -> None:
    global _context
    if _context is not None and _context.pid == os.getpid():
        _context.close()
        _context = None
