"""What a polite fetcher keeps per competitor host (its turn, its slots, its breaker) and
the resolver that keeps staff-given URLs off the server's own network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from multidict import CIMultiDictProxy


class PrivateAddress(Exception):
    """A host name resolved to an address that is not public."""


def is_public_address(host: str) -> bool | None:
    """True/False for an IP address (public or not), None for a name."""
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return None


class PublicAddressResolver(AbstractResolver):
    """aiohttp's default resolver, refusing a name when any of its addresses is loopback,
    private, link-local or otherwise not public. Checking what the connection will use
    (not a lookup made beforehand) leaves no window for a name to change its answer."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not results or not all(is_public_address(result["host"]) for result in results):
            raise PrivateAddress(host)
        return results

    async def close(self) -> None:
        await self._inner.close()


class HostState:
    """One host's request slots, when its next request may start, and until when its
    breaker is open (all times on the fetcher's monotonic clock)."""

    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.next_start = float("-inf")
        self.open_until = float("-inf")


class HostGate:
    """Per-host concurrency and spacing: `turn()` holds one of the host's slots and starts
    no sooner than `delay` seconds after the previous start."""

    def __init__(
        self,
        *,
        concurrency: int,
        delay: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._concurrency = concurrency
        self._delay = delay
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, HostState] = {}

    def state(self, host: str) -> HostState:
        key = host.lower().rstrip(".")
        if key not in self._hosts:
            self._hosts[key] = HostState(self._concurrency)
        return self._hosts[key]

    @asynccontextmanager
    async def turn(self, host: str) -> AsyncIterator[HostState]:
        state = self.state(host)
        async with state.slots:
            now = self._clock()
            start = max(now, state.next_start)
            # Reserved before sleeping, so waiters queue one delay apart.
            state.next_start = start + self._delay
            if start > now:
                await self._sleep(start - now)
            yield state


def retry_after_seconds(headers: CIMultiDictProxy[str], now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks for (delta seconds or an HTTP date, measured from
    the answer's own `Date` when it has one, else from `now`), None without a valid one."""
    value = headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    reference = _http_date(headers.get("Date", "")) or now
    return max(0.0, (when - reference).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
