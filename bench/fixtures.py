"""What every benchmark run stands on: a scratch directory, Postgres and Redis, a bot token."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from souk.cli import migrate_database
from souk.config import DEFAULT_SHARED_BUFFERS
from souk.embedded import EmbeddedServices, ServiceURLs


def new_bot_token() -> str:
    """A token in @BotFather's shape: '<bot id>:<secret>'."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"


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
async def embedded_services(
    data_dir: Path, *, fast: bool = False, shared_buffers: str = DEFAULT_SHARED_BUFFERS
) -> AsyncIterator[ServiceURLs]:
    """Postgres and Redis, migrated; stopped at the end. Durable settings (fsync on, as in
    production) unless `fast` (the tests' settings: no fsync, no AOF)."""
    services = EmbeddedServices(
        data_dir=data_dir,
        database_url=None,
        redis_url=None,
        fast=fast,
        shared_buffers=shared_buffers,
    )
    try:
        urls = await asyncio.to_thread(services.start)
        await asyncio.to_thread(migrate_database, urls.database_url)
        yield urls
    finally:
        await asyncio.to_thread(services.stop, only_started=False)
