"""Rate limits shared by every process, kept in Redis.

The algorithm is GCRA (the generic cell rate algorithm): each key stores one number,
its "theoretical arrival time". One Lua call checks several keys at once (a chat, its
bot) and either admits the request on all of them or admits it on none and says how
long to wait, so a slow chat never holds back the others. A 429 from a platform
pushes only that key's arrival time into the future (`pause`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

_ACQUIRE = """
local now = tonumber(ARGV[1])
local wait = 0
local blocking = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local allow_at = tat - tolerance
  if allow_at > now and allow_at - now > wait then
    wait = allow_at - now
    blocking = i
  end
  tats[i] = tat + interval
end
if wait > 0 then return {tostring(wait), blocking} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tostring(tats[i]), 'PX', math.ceil(tats[i] - now) + 1000)
end
return {'0', 0}
"""

_PAUSE = """
-- The arrival time goes past the pause by the burst tolerance, so nothing is admitted early.
local until_ms = tonumber(ARGV[1]) + tonumber(ARGV[2]) + tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < until_ms then
  local ttl = math.ceil(until_ms - tonumber(ARGV[1])) + 1000
  redis.call('SET', KEYS[1], tostring(until_ms), 'PX', ttl)
end
return 1
"""


@dataclass(frozen=True)
class Rate:
    """`per_second` events on average, with up to `burst` at once."""

    per_second: float
    burst: int = 1

    @classmethod
    def per_minute(cls, count: float, burst: int = 1) -> Rate:
        return cls(per_second=count / 60.0, burst=burst)

    @property
    def interval_ms(self) -> float:
        return 1000.0 / self.per_second

    @property
    def tolerance_ms(self) -> float:
        return self.interval_ms * (self.burst - 1)


@dataclass(frozen=True)
class Limit:
    """One key and the rate it is held to."""

    key: str
    rate: Rate


def _ensure_within(total_wait: float, max_wait: float) -> None:
    if total_wait > max_wait:
        raise TimeoutError(f"rate limit wait of {total_wait:.1f}s exceeds {max_wait:.0f}s")


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """GCRA limits in Redis, shared by all processes that use the same Redis."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "souk:rl:",
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._sleep = sleep
        self._acquire = redis.register_script(_ACQUIRE)
        self._queues: dict[str, asyncio.Lock] = {}
        self._pause = redis.register_script(_PAUSE)

    async def try_acquire(self, limits: Sequence[Limit], *, at: float | None = None) -> float:
        """Admit one event on every limit, or none: returns 0.0 or the seconds to wait.

        `at` (epoch seconds) judges an event by when it happened instead of now: a queued
        inbound update is counted at its arrival, not when its turn came.
        """
        if not limits:
            return 0.0
        wait, _blocking = await self._try(limits, at)
        return wait

    async def _try(self, limits: Sequence[Limit], at: float | None) -> tuple[float, int]:
        """(seconds to wait, 1-based index of the limit that is in the way, or 0)."""
        args: list[float] = [(self._clock() if at is None else at) * 1000.0]
        for limit in limits:
            args += [limit.rate.interval_ms, limit.rate.tolerance_ms]
        keys = [self._prefix + limit.key for limit in limits]
        wait_ms, blocking = await self._acquire(keys=keys, args=args)
        return float(wait_ms) / 1000.0, int(blocking)

    async def acquire(self, limits: Sequence[Limit], *, max_wait: float = 3600.0) -> float:
        """Wait until one event is admitted on every limit; returns the seconds waited.

        Waiters in this process that share the last (widest) limit queue behind one lock
        while that limit is what holds them back: one Redis call per admission instead of
        a herd of waiters waking together. A wait caused by a narrower limit (one chat) is
        slept outside the lock, so a paused chat never holds the others back.
        """
        if not limits:
            return 0.0
        waited = 0.0
        queue = self._queues.setdefault(limits[-1].key, asyncio.Lock())
        while True:
            async with queue:
                while True:
                    wait, blocking = await self._try(limits, None)
                    if wait <= 0:
                        return waited
                    _ensure_within(waited + wait, max_wait)
                    if blocking != len(limits):
                        break
                    await self._sleep(wait)
                    waited += wait
            await self._sleep(wait)
            waited += wait

    async def pause(self, limit: Limit, seconds: float) -> None:
        """Admit nothing on `limit` for `seconds` (the platform said retry_after)."""
        args = [self._clock() * 1000.0, seconds * 1000.0, limit.rate.tolerance_ms]
        await self._pause(keys=[self._prefix + limit.key], args=args)
