"""GCRA rate limits in a real Redis, driven by a fake clock (no test waits for time to pass)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from souk.embedded import ServiceURLs
from souk.services.ratelimit import Limit, Rate, RateLimiter

# A realistic epoch time: the Lua script works in milliseconds since the epoch.
START = 1_750_000_000.0
MS = 1e-3


class FakeClock:
    """`now` in seconds; `sleep` advances it instead of waiting and records each wait."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], Awaitable[None]] | None = None

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            await self.on_sleep()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def prefix() -> str:
    return f"t:{uuid.uuid4().hex}:"


@pytest.fixture
def limiter(redis: Redis, clock: FakeClock, prefix: str) -> RateLimiter:
    return RateLimiter(redis, prefix=prefix, clock=clock, sleep=clock.sleep)


CHAT = Rate(per_second=1.0, burst=2)
BOT = Rate(per_second=30.0, burst=5)


def test_rate_intervals() -> None:
    assert Rate(per_second=4.0).interval_ms == pytest.approx(250.0)
    assert Rate(per_second=4.0, burst=3).tolerance_ms == pytest.approx(500.0)
    assert Rate(per_second=4.0).tolerance_ms == 0.0
    assert Rate.per_minute(20).interval_ms == pytest.approx(3000.0)
    assert Rate.per_minute(20, burst=4).burst == 4


async def test_burst_is_admitted_then_one_interval(limiter: RateLimiter, clock: FakeClock) -> None:
    chat = [Limit("chat:1", CHAT)]
    assert [await limiter.try_acquire(chat) for _ in range(CHAT.burst)] == [0.0, 0.0]
    assert await limiter.try_acquire(chat) == pytest.approx(1.0, abs=MS)
    # A refusal does not move the schedule: asking again at once gives the same wait.
    assert await limiter.try_acquire(chat) == pytest.approx(1.0, abs=MS)

    clock.advance(0.4)
    assert await limiter.try_acquire(chat) == pytest.approx(0.6, abs=MS)
    clock.advance(0.6)
    assert await limiter.try_acquire(chat) == 0.0
    assert await limiter.try_acquire(chat) == pytest.approx(1.0, abs=MS)


async def test_burst_refills_after_idle(limiter: RateLimiter, clock: FakeClock) -> None:
    limits = [Limit("bot:1", BOT)]
    for _ in range(BOT.burst):
        assert await limiter.try_acquire(limits) == 0.0
    assert await limiter.try_acquire(limits) == pytest.approx(1 / 30, abs=MS)
    clock.advance(10.0)
    for _ in range(BOT.burst):
        assert await limiter.try_acquire(limits) == 0.0
    assert await limiter.try_acquire(limits) > 0


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    assert await limiter.try_acquire([Limit("chat:a", Rate(1.0))]) == 0.0
    assert await limiter.try_acquire([Limit("chat:a", Rate(1.0))]) == pytest.approx(1.0, abs=MS)
    assert await limiter.try_acquire([Limit("chat:b", Rate(1.0))]) == 0.0


async def test_no_limits_is_admitted(limiter: RateLimiter) -> None:
    assert await limiter.try_acquire([]) == 0.0


async def test_refused_by_chat_does_not_consume_bot(
    limiter: RateLimiter, redis: Redis, prefix: str
) -> None:
    bot = Limit("bot:7", BOT)
    chat_a = [Limit("chat:a", CHAT), bot]
    assert await limiter.try_acquire(chat_a) == 0.0
    assert await limiter.try_acquire(chat_a) == 0.0
    bot_tat = await redis.get(prefix + bot.key)
    for _ in range(3):
        assert await limiter.try_acquire(chat_a) == pytest.approx(1.0, abs=MS)
    assert await redis.get(prefix + bot.key) == bot_tat

    # The bot has 3 of its burst of 5 left: two for chat b, one for chat c.
    chat_b = [Limit("chat:b", CHAT), bot]
    chat_c = [Limit("chat:c", CHAT), bot]
    assert await limiter.try_acquire(chat_b) == 0.0
    assert await limiter.try_acquire(chat_b) == 0.0
    assert await limiter.try_acquire(chat_c) == 0.0
    # Chat c still has burst, so this wait is the bot's: one bot interval.
    assert await limiter.try_acquire(chat_c) == pytest.approx(1 / 30, abs=MS)


async def test_refused_by_bot_does_not_consume_chat(
    limiter: RateLimiter, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    bot = Limit("bot:8", BOT)
    for index in range(BOT.burst):
        assert await limiter.try_acquire([Limit(f"chat:{index}", CHAT), bot]) == 0.0
    chat = Limit("chat:late", CHAT)
    assert await limiter.try_acquire([chat, bot]) == pytest.approx(1 / 30, abs=MS)
    assert await redis.get(prefix + chat.key) is None

    clock.advance(1.0)  # the bot is full again; the chat was never charged: burst of 2
    assert await limiter.try_acquire([chat, bot]) == 0.0
    assert await limiter.try_acquire([chat, bot]) == 0.0
    assert await limiter.try_acquire([chat, bot]) == pytest.approx(1.0, abs=MS)


async def test_pause_refuses_then_admits(limiter: RateLimiter, clock: FakeClock) -> None:
    chat = Limit("chat:429", CHAT)
    await limiter.pause(chat, 3.0)
    # Not even the burst is available during the pause.
    assert await limiter.try_acquire([chat]) == pytest.approx(3.0, abs=MS)
    clock.advance(2.5)
    assert await limiter.try_acquire([chat]) == pytest.approx(0.5, abs=MS)
    clock.advance(0.5)
    assert await limiter.try_acquire([chat]) == 0.0


async def test_pause_does_not_shorten_a_longer_wait(limiter: RateLimiter) -> None:
    chat = Limit("chat:long", CHAT)
    await limiter.pause(chat, 10.0)
    await limiter.pause(chat, 1.0)
    assert await limiter.try_acquire([chat]) == pytest.approx(10.0, abs=MS)


async def test_pause_touches_only_its_key(limiter: RateLimiter) -> None:
    bot = Limit("bot:9", BOT)
    await limiter.pause(Limit("chat:paused", CHAT), 5.0)
    assert await limiter.try_acquire([Limit("chat:other", CHAT), bot]) == 0.0


async def test_acquire_sleeps_the_computed_wait(limiter: RateLimiter, clock: FakeClock) -> None:
    chat = [Limit("chat:acq", Rate(per_second=2.0))]
    assert await limiter.acquire(chat) == 0.0
    assert clock.sleeps == []
    assert await limiter.acquire(chat) == pytest.approx(0.5, abs=MS)
    assert clock.sleeps == [pytest.approx(0.5, abs=MS)]
    assert clock.now == pytest.approx(START + 0.5, abs=MS)


async def test_acquire_waits_again_when_another_takes_the_slot(
    limiter: RateLimiter, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    chat = [Limit("chat:race", Rate(per_second=1.0))]
    other = RateLimiter(redis, prefix=prefix, clock=clock)
    assert await limiter.acquire(chat) == 0.0

    async def competitor_takes_slot() -> None:
        clock.on_sleep = None
        assert await other.try_acquire(chat) == 0.0

    clock.on_sleep = competitor_takes_slot
    assert await limiter.acquire(chat) == pytest.approx(2.0, abs=MS)
    assert clock.sleeps == [pytest.approx(1.0, abs=MS), pytest.approx(1.0, abs=MS)]


async def test_per_minute_spaces_by_three_seconds(limiter: RateLimiter, clock: FakeClock) -> None:
    group = [Limit("group:1", Rate.per_minute(20))]
    assert await limiter.try_acquire(group) == 0.0
    assert await limiter.try_acquire(group) == pytest.approx(3.0, abs=MS)
    assert await limiter.acquire(group) == pytest.approx(3.0, abs=MS)
    assert clock.sleeps == [pytest.approx(3.0, abs=MS)]


async def test_acquire_gives_up_past_max_wait(
    limiter: RateLimiter, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    chat = Limit("chat:slow", Rate(per_second=1.0))
    await limiter.pause(chat, 30.0)
    with pytest.raises(TimeoutError):
        await limiter.acquire([chat], max_wait=10.0)
    assert clock.sleeps == []
    # A wait within max_wait is taken.
    assert await limiter.acquire([chat], max_wait=31.0) == pytest.approx(30.0, abs=MS)


@pytest.fixture
async def second_redis(urls: ServiceURLs) -> AsyncIterator[Redis]:
    client = Redis.from_url(urls.redis_url)
    yield client
    await client.aclose()


async def test_two_limiters_share_the_limit(
    limiter: RateLimiter, second_redis: Redis, clock: FakeClock, prefix: str
) -> None:
    """Two processes (own limiter, own connection) on one Redis draw from one budget."""
    other = RateLimiter(second_redis, prefix=prefix, clock=clock, sleep=clock.sleep)
    chat = [Limit("chat:shared", CHAT)]
    assert await limiter.try_acquire(chat) == 0.0
    assert await other.try_acquire(chat) == 0.0
    assert await limiter.try_acquire(chat) == pytest.approx(1.0, abs=MS)
    assert await other.try_acquire(chat) == pytest.approx(1.0, abs=MS)
    # A pause from one is honoured by the other.
    await other.pause(chat[0], 5.0)
    assert await limiter.try_acquire(chat) == pytest.approx(5.0, abs=MS)
