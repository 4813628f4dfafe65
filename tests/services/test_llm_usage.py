"""Token accounting against real Postgres: a day's counters add up across turns, and
days and shops are kept apart."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.services.llm_usage import Period, Usage, UsageService
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


async def test_periods_count_back_from_today_and_leave_other_shops_out(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, other = await make_shop(), await make_shop()
    days_back = {0: 1, 1: 2, 6: 4, 7: 8, 29: 16, 30: 32, -1: 64}  # -1: tomorrow (a clock ahead)
    async with session_factory() as session, session.begin():
        usage = UsageService(session)
        for back, requests in days_back.items():
            await usage.record(
                shop.shop_id,
                DAY - timedelta(days=back),
                requests=requests,
                prompt_tokens=requests * 100,
                completion_tokens=requests * 10,
            )
        await usage.record(other.shop_id, DAY, requests=128, prompt_tokens=1, completion_tokens=1)
    async with session_factory() as session:
        periods = await UsageService(session).periods(shop.shop_id, DAY)
        nothing = await UsageService(session).periods((await make_shop()).shop_id, DAY)

    def used(requests: int) -> Usage:
        return Usage(requests, requests * 100, requests * 10)

    assert periods == {
        Period.TODAY: used(1),
        Period.YESTERDAY: used(2),
        Period.WEEK: used(1 + 2 + 4),  # 7 days back is the 8th day
        Period.MONTH: used(1 + 2 + 4 + 8 + 16),  # 29 back is the 30th day; 30 is not
    }
    assert nothing == {period: Usage() for period in Period}
