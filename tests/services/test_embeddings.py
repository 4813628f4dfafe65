"""Embedding backfill with the real local model into pgvector."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.ai.embedder import LocalEmbedder
from souk.db.models import Product
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
