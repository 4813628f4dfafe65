"""Work for other processes is queued only once what it needs is committed."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.session import after_commit


async def test_the_callback_runs_on_commit_only_and_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    calls: list[str] = []
    async with session_factory() as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, lambda: calls.append("kept"), otherwise=lambda: calls.append("no"))
        await session.rollback()
        assert calls == ["no"]

        await session.execute(text("SELECT 1"))
        after_commit(session, lambda: calls.append("kept"), otherwise=lambda: calls.append("no"))
        await session.commit()
        assert calls == ["no", "kept"]

        await session.execute(text("SELECT 1"))  # a later transaction: nothing registered
        await session.rollback()
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert calls == ["no", "kept"]
