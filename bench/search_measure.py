"""Timing searches through `SearchService`, with the query embedding's share."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.ai.embedder import Embedder, Vector
from souk.services.search import SearchService
from souk.services.search_filters import parse_search


class TimedEmbedder:
    """Embeds through `inner`, keeping each query's vector and the last call's duration."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.vectors: dict[str, Vector] = {}
        self.last_seconds = 0.0

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        started = time.perf_counter()
        vectors = await self._inner.embed_queries(texts)
        self.last_seconds = time.perf_counter() - started
        self.vectors.update(zip(texts, vectors, strict=True))
        return vectors

    async def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        return await self._inner.embed_passages(texts)

    async def close(self) -> None:
        await self._inner.close()

    async def vectors_for(self, texts: Sequence[str]) -> list[Vector]:
        """The query vectors of `texts`, embedding (untimed) those not searched for."""
        missing = [text for text in dict.fromkeys(texts) if text not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, await self._inner.embed_queries(missing), strict=True))
        return [self.vectors[text] for text in texts]


class RecordedEmbedder:
    """Answers queries with vectors embedded before: a search without the model's time."""

    def __init__(self, vectors: dict[str, Vector]) -> None:
        self._vectors = vectors

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        return [self._vectors[text] for text in texts]

    async def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        raise NotImplementedError("the benchmark embeds no passages through this")

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class SearchTiming:
    """One search: the whole of it, and the query embedding's part."""

    query: str
    filtered: bool
    seconds: float
    embedding: float  # seconds
    results: int


async def time_searches(
    session_factory: async_sessionmaker[AsyncSession],
    embedder: TimedEmbedder,
    shop_id: int,
    queries: Sequence[str],
    *,
    limit: int,
    budget: float,
) -> list[SearchTiming]:
    """Each query parsed and searched as the bot does it, one after another, one session
    each (the pool's connections are reused, as in the app); the queries left when
    `budget` seconds have passed are skipped."""
    timings = []
    deadline = time.monotonic() + budget
    for query in queries:
        if time.monotonic() > deadline:
            break
        async with session_factory() as session:
            embedder.last_seconds = 0.0
            started = time.perf_counter()
            parsed = parse_search(query)
            found = await SearchService(session, embedder, shop_id).search(parsed, limit=limit)
            seconds = time.perf_counter() - started
        filtered = parsed.in_stock or parsed.min_price is not None or parsed.max_price is not None
        timings.append(SearchTiming(query, filtered, seconds, embedder.last_seconds, len(found)))
    return timings


@dataclass(frozen=True)
class SearchFigures:
    """The measured searches: whole (real embedder) and with their vectors given."""

    warmup: int
    planned: int  # searches meant to be measured (fewer if the time budget ran out)
    budget: float  # seconds each phase may take
    whole: list[SearchTiming]
    recorded: list[SearchTiming]
    texts: list[str]  # the distinct query words of every planned search, in order
