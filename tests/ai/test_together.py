"""Two parts of a turn run at once; one failing does not leave the other running on."""

from __future__ import annotations

import asyncio

import pytest

from souk.ai.assistant import together


async def test_both_results_come_back_in_order() -> None:
    async def value(result: int) -> int:
        await asyncio.sleep(0)
        return result

    assert await together(value(1), value(2)) == (1, 2)


async def test_when_one_fails_the_other_is_cancelled_before_the_error_is_raised() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def using_the_session() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def redis_down() -> None:
        await started.wait()
        raise ConnectionError("redis is down")

    with pytest.raises(ConnectionError):
        await together(using_the_session(), redis_down())
    assert cancelled.is_set()
