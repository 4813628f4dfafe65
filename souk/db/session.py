"""Engine and session factory; one engine per process (per event loop in workers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session


def create_engine(
    url: str, *, pool_size: int = 20, max_overflow: int = 10, autocommit: bool = False
) -> AsyncEngine:
    """An asyncpg engine; `url` may point at a unix socket (`?host=/path`).

    `autocommit` engines run each statement on its own, with no BEGIN/COMMIT round trips:
    for single-statement work such as storing an inbound update.
    """
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it costs three round trips per checkout, on every update. A dead
        # connection fails its statement, the pool drops it, the work is retried by the
        # inbox sweep or the outbox lease; pool_recycle keeps idle ones fresh.
        pool_recycle=600,
        # asyncpg prepares statements per connection; use pgbouncer in session mode only.
        connect_args={"server_settings": {"application_name": "souk"}},
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def driver(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a SQLAlchemy one, inside the same transaction.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its own first statement; a
    statement sent to the driver before that would run outside the transaction (and an
    advisory transaction lock would be released at once). So the BEGIN is made to happen
    here. `_start_transaction` is the adapter's own hook (SQLAlchemy 2.1, pinned <2.2);
    tests/services/test_inbox_outbox.py proves an advisory lock taken through it is held.
    """
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    if connection.in_transaction() and adapter._transaction is None:
        async with adapter._execute_mutex:
            if adapter._transaction is None:
                await adapter._start_transaction()
    return cast(asyncpg.Connection, raw.driver_connection)


def after_commit(
    session: AsyncSession,
    callback: Callable[[], None],
    *,
    otherwise: Callable[[], None] | None = None,
) -> None:
    """Call `callback` once the session's current transaction commits, or `otherwise` if
    it rolls back. For work another process does with what the transaction writes:
    queued earlier, it could run before the rows are visible."""

    def committed(sync_session: Session) -> None:
        if event.contains(sync_session, "after_rollback", rolled_back):
            event.remove(sync_session, "after_rollback", rolled_back)
        callback()

    def rolled_back(sync_session: Session) -> None:
        if event.contains(sync_session, "after_commit", committed):
            event.remove(sync_session, "after_commit", committed)
        if otherwise is not None:
            otherwise()

    event.listen(session.sync_session, "after_commit", committed, once=True)
    event.listen(session.sync_session, "after_rollback", rolled_back, once=True)
