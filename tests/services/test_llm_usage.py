"""Token accounting against real Postgres: a day's counters add up across turns, and
days and shops are kept apart."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.services.llm_usage import Usage, UsageService
from tests.conftest import MakeShop

DAY = date(2026, 11, 21)


async def test_turns_of_a_day_add_up_and_other_days_and_shops_are_apart(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, other = await make_shop(), await make_shop()
    async with session_factory() as session, session.begin():
        usage = UsageService(session)
        await usage.record(shop.shop_id, DAY, requests=2, prompt_tokens=300, completion_tokens=40)
        await usage.record(shop.shop_id, DAY, requests=1, prompt_tokens=120, completion_tokens=9)
        await usage.record(shop.shop_id, date(2026, 11, 22), prompt_tokens=50, completion_tokens=5)
        await usage.record(other.shop_id, DAY, prompt_tokens=7, completion_tokens=1)
    async with session_factory() as session:
        usage = UsageService(session)
        assert await usage.of_day(shop.shop_id, DAY) == Usage(3, 420, 49)
        assert await usage.of_day(shop.shop_id, date(2026, 11, 22)) == Usage(1, 50, 5)
        assert await usage.of_day(other.shop_id, DAY) == Usage(1, 7, 1)
        assert await usage.of_day(other.shop_id, date(2026, 11, 20)) == Usage()
