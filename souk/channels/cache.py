"""The bots of one kind of channel, loaded from `shop_channels` on first use and cached.

A known channel is kept for a minute (a token changed in the database is picked up
after that, and the live bot is kept while the channel is unchanged); an unknown id is
remembered briefly so junk requests cost no query.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import ChannelKind
from souk.services.shops import ChannelInfo, ShopService


class _HasChannel(Protocol):
    @property
    def channel(self) -> ChannelInfo: ...


Entry = TypeVar("Entry", bound=_HasChannel)

_UNKNOWN_TTL_SECONDS = 10.0
_KNOWN_TTL_SECONDS = 60.0


class ChannelCache(Generic[Entry]):
    """Entries (a bot and its channel) by the channel's platform id."""

    def __init__(
        self,
        load: Callable[[str], Awaitable[ChannelInfo | None]],
        make: Callable[[ChannelInfo], Entry],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._make = make
        self._clock = clock
        self._entries: dict[str, tuple[Entry, float]] = {}
        self._unknown: dict[str, float] = {}

    async def get(self, key: str) -> Entry | None:
        """The entry of channel `key`, or None if no active shop has it."""
        now = self._clock()
        cached = self._entries.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        if self._unknown.get(key, 0.0) > now:
            return None
        channel = await self._load(key)
        if channel is None:
            self._unknown[key] = now + _UNKNOWN_TTL_SECONDS
            self._entries.pop(key, None)
            return None
        entry = cached[0] if cached and cached[0].channel == channel else self._make(channel)
        self.put(key, entry)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self._entries[key] = (entry, self._clock() + _KNOWN_TTL_SECONDS)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
        self._unknown.pop(key, None)


def channel_loader(
    session_factory: async_sessionmaker[AsyncSession], kind: ChannelKind, *, needs_token: bool
) -> Callable[[str], Awaitable[ChannelInfo | None]]:
    """Loads the active channel of `kind` with a platform id (None without its token)."""

    async def load(key: str) -> ChannelInfo | None:
        async with session_factory() as session:
            channel = await ShopService(session).channel(kind, key)
        if channel is None or (needs_token and not channel.token):
            return None
        return channel

    return load
