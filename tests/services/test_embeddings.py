"""Embedding backfill with the real local model into pgvector."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.ai.embedder import LocalEmbedder
from souk.db.models import EMBEDDING_DIMENSIONS, Product
from souk.services.embeddings import EmbeddingService, current_hash
from tests.channels.test_catalog import stock_shop
from tests.conftest import MakeShop


async def test_backfill_embeds_only_what_is_missing_or_changed(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    embedder = LocalEmbedder()
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == ids["PH-6"]).values(is_active=False)
        )
        await session.execute(
            update(Product)
            .where(Product.id == ids["CS-1"])
            .values(title="Silicone case", description="A soft protective silicone cover.")
        )
    async with session_factory() as session:
        service = EmbeddingService(session, embedder)
        assert await service.count_stale(shop.shop_id) == 7
        batches: list[int] = []
        assert await service.backfill(shop.shop_id, progress=batches.append) == 7
        assert sum(batches) == 7 and await service.count_stale(shop.shop_id) == 0
        assert await service.backfill(shop.shop_id) == 0  # nothing to do twice

    async with session_factory() as session, session.begin():
        product = await session.get(Product, ids["PH-1"])
        assert product is not None and product.embedded_hash == current_hash(product)
        before = list(product.embedding or [])
        await session.execute(
            update(Product)
            .where(Product.id == ids["PH-1"])
            .values(title="Phone 1 Pro Max", content_hash="edited")
        )
    async with session_factory() as session:
        service = EmbeddingService(session, embedder)
        assert await service.count_stale(shop.shop_id) == 1
        assert await service.backfill(shop.shop_id) == 1
    async with session_factory() as session:
        product = await session.get(Product, ids["PH-1"])
        assert product is not None and list(product.embedding or []) != before

        # pgvector answers by meaning: a Russian query finds the English-titled case.
        (query,) = await embedder.embed_queries(["силиконовый чехол"])
        nearest = await session.scalar(
            select(Product.sku)
            .where(Product.shop_id == shop.shop_id, Product.embedding.is_not(None))
            .order_by(Product.embedding.cosine_distance(query))
            .limit(1)
        )
    assert nearest == "CS-1"


class RecordingEmbedder:
    """Records what it is asked to embed, in order; every vector is the same unit vector."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.passages: list[str] = []

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        self.queries += texts
        return [[1.0] + [0.0] * (EMBEDDING_DIMENSIONS - 1) for _ in texts]

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.passages += texts
        return [[1.0] + [0.0] * (EMBEDDING_DIMENSIONS - 1) for _ in texts]

    async def close(self) -> None:
        return None


async def test_shops_take_turns_so_a_big_import_does_not_hold_a_small_shop_back(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    big, _ = await stock_shop(make_shop, session_factory)  # older: first by product id
    small, _ = await stock_shop(make_shop, session_factory)
    async with session_factory() as session, session.begin():
        for shop in (big, small):
            await session.execute(
                update(Product)
                .where(Product.shop_id == shop.shop_id)
                .values(title=func.concat(shop.slug, " ", Product.sku), translations={})
            )
        await session.execute(
            update(Product)
            .where(Product.shop_id == small.shop_id, Product.sku.not_in(["PH-1", "PH-2"]))
            .values(is_active=False)
        )
    embedder = RecordingEmbedder()
    async with session_factory() as session, session.begin():
        # Every stale product of the database in one batch, in the order they are taken
        # (other tests' shops too; rolled back, so nothing is kept).
        await EmbeddingService(session, embedder).refresh_batch(size=100_000)
        await session.rollback()
    taken = [passage.split(".")[0] for passage in embedder.passages]
    bigs = [taken.index(f"{big.slug} PH-{n}") for n in range(7)]
    smalls = [taken.index(f"{small.slug} PH-{n}") for n in (1, 2)]
    assert bigs == sorted(bigs)  # each shop's oldest first
    # The small shop's two come with the big shop's first two, not after its eight.
    assert max(smalls) < bigs[2]
