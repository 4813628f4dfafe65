"""Engine and session factory; one engine per process (per event loop in workers)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


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
