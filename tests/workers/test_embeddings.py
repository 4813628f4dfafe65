"""The embedding refresh of the workers: FAQ entries saved without an embedding (the demo
seed) are embedded first, then products, within the run's time budget."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import FaqEntry, Product
from souk.runtime import Runtime
from souk.services.embeddings import BATCH_SIZE, EmbeddingService
from souk.workers.embeddings import refresh_embeddings
from tests.channels.test_catalog import stock_shop
from tests.conftest import MakeShop
from tests.services.test_embeddings import RecordingEmbedder


class Runs:
    """A clock for `refresh_embeddings` that allows `rounds` batches, then is out of time."""

    def __init__(self, rounds: int) -> None:
        self._times: Iterator[float] = iter([0.0] * (rounds + 1))

    def __call__(self) -> float:
        return next(self._times, 1e9)


async def test_faq_entries_are_embedded_before_products_and_the_budget_holds(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], runtime: Runtime
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    async with session_factory() as session, session.begin():
        entry = FaqEntry(
            shop_id=shop.shop_id, language="en", question="Do you ship abroad?", answer="Yes."
        )
        session.add(entry)
        await session.flush()
        missing = await session.scalar(
            select(func.count(FaqEntry.id)).where(FaqEntry.embedding.is_(None))
        )
    assert missing is not None and missing <= 64  # one batch takes them all
    embedder = RecordingEmbedder()
    worker = cast(Runtime, _Runtime(runtime, embedder))

    entries, products = await refresh_embeddings(worker, budget_seconds=10, clock=Runs(1))
    assert (entries, products) == (missing, 0)  # the FAQ first; then out of time
    async with session_factory() as session:
        assert (await session.get_one(FaqEntry, entry.id)).embedding is not None
        assert (await session.get_one(Product, ids["PH-1"])).embedding is None

    assert "Do you ship abroad?" in embedder.queries and embedder.passages == []
    async with session_factory() as session:
        stale = await EmbeddingService(session, embedder).count_stale()
    entries, products = await refresh_embeddings(worker, budget_seconds=10, clock=Runs(1))
    assert (entries, products) == (0, min(BATCH_SIZE, stale))  # one batch of products
    assert len(embedder.passages) == products


async def test_a_stopping_worker_takes_no_batch_after_the_one_in_hand(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], runtime: Runtime
) -> None:
    for _ in range(BATCH_SIZE // 8 + 1):  # 8 products each: more than a batch
        await stock_shop(make_shop, session_factory)
    embedder = RecordingEmbedder()
    worker = cast(Runtime, _Runtime(runtime, embedder))
    asked = iter([False])  # one batch; then the worker is stopping

    entries, products = await refresh_embeddings(
        worker, budget_seconds=1e9, stop=lambda: next(asked, True)
    )
    assert (entries == 0) != (products == 0)  # one batch, of FAQ entries or of products
    async with session_factory() as session:
        assert await EmbeddingService(session, embedder).count_stale() > 0  # left for later


class _Runtime:
    """The parts of a runtime the refresh uses, with a quick embedder."""

    def __init__(self, runtime: Runtime, embedder: RecordingEmbedder) -> None:
        self.session_factory = runtime.session_factory
        self.settings = runtime.settings
        self.embedder = embedder
