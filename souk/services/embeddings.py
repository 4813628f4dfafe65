"""Product embeddings, recomputed only when a product's content hash changed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.db.models import Product
from souk.services.demo import content_hash

BATCH_SIZE = 32


def product_passage(product: Product) -> str:
    """What a product is embedded as: every language's title and description, and specs."""
    parts = [product.title, product.brand or "", product.description]
    for language in sorted(product.translations):
        texts = product.translations[language]
        parts += [texts.get("title", ""), texts.get("description", "")]
    parts += [f"{key}: {value}" for key, value in product.attributes.items()]
    return ". ".join(part for part in parts if part)


def current_hash(product: Product) -> str:
    return content_hash(
        product.title,
        product.description,
        product.brand,
        product.translations,
        dict(product.attributes),
    )


class EmbeddingService:
    """Finds products whose embedding is missing or stale and embeds them in batches."""

    def __init__(self, session: AsyncSession, embedder: Embedder) -> None:
        self._session = session
        self._embedder = embedder

    @staticmethod
    def _stale(shop_id: int | None) -> ColumnElement[bool]:
        stale = and_(
            Product.is_active.is_(True),
            or_(
                Product.embedding.is_(None),
                Product.content_hash.is_(None),
                Product.embedded_hash.is_distinct_from(Product.content_hash),
            ),
        )
        return stale if shop_id is None else and_(stale, Product.shop_id == shop_id)

    async def count_stale(self, shop_id: int | None = None) -> int:
        return int(
            await self._session.scalar(select(func.count(Product.id)).where(self._stale(shop_id)))
            or 0
        )

    async def refresh_batch(self, shop_id: int | None = None, size: int = BATCH_SIZE) -> int:
        """Embed up to `size` stale products; returns how many were embedded.

        Across shops (no `shop_id`) the shops take turns, oldest product first in each: a
        shop that imported 100,000 products does not hold another's three new ones back
        until all of its own are done. Rows another worker is embedding are skipped."""
        if shop_id is None:
            stale = select(
                Product.id,
                func.row_number()
                .over(partition_by=Product.shop_id, order_by=Product.id)
                .label("turn"),
            ).where(self._stale(None))
            ranked = stale.subquery()
            query = (
                select(Product)
                .join(ranked, ranked.c.id == Product.id)
                .order_by(ranked.c.turn, Product.id)
            )
        else:
            query = select(Product).where(self._stale(shop_id)).order_by(Product.id)
        products = list(
            await self._session.scalars(
                query.limit(size).with_for_update(of=Product, skip_locked=True)
            )
        )
        if not products:
            return 0
        vectors = await self._embedder.embed_passages([product_passage(p) for p in products])
        for product, vector in zip(products, vectors, strict=True):
            digest = current_hash(product)
            await self._session.execute(
                update(Product)
                .where(Product.id == product.id)
                .values(embedding=vector, content_hash=digest, embedded_hash=digest)
            )
        return len(products)

    async def backfill(
        self, shop_id: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Embed every stale product, committing batch by batch; returns the total."""
        total = 0
        while done := await self.refresh_batch(shop_id):
            await self._session.commit()
            total += done
            if progress is not None:
                progress(done)
        return total
