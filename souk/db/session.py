"""Engine and session factory; one engine per process (per event loop in workers)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, *, pool_size: int = 20, max_overflow: int = 20) -> AsyncEngine:
    """An asyncpg engine; `url` may point at a unix socket (`?host=/path`)."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        # Statement cache keyed per connection; safe behind pgbouncer only in session mode.
        connect_args={"server_settings": {"application_name": "souk"}},
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
