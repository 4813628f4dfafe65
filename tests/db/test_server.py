"""How the embedded Postgres is configured."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import DEFAULT_SHARED_BUFFERS


async def test_the_buffers_hold_a_large_catalogs_search_indexes(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        buffers = await session.scalar(text("SHOW shared_buffers"))
    assert buffers == DEFAULT_SHARED_BUFFERS == "512MB"  # Postgres' own default is 128MB
