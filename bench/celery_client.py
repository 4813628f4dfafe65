"""A non-blocking face of Celery's blocking client, for the benchmarks' event loop."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import Celery


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
