"""Hybrid product search: meaning (pgvector), words (full text) and spelling (trigrams).

Each method ranks up to `CANDIDATES` products of the shop that pass the filters; the
three rankings are fused with reciprocal rank fusion (score = sum of 1 / (K + rank)), so
a product found by several methods rises, and no method's raw scores need calibrating
against another's. One SQL statement does all of it.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.db.models import Product
from souk.services.search_filters import SearchQuery

CANDIDATES = 50
RRF_K = 60

_FILTERS = """
    p.shop_id = :shop_id AND p.is_active
    AND (CAST(:min_price AS numeric) IS NULL OR p.price >= :min_price)
    AND (CAST(:max_price AS numeric) IS NULL OR p.price <= :max_price)
    AND (NOT :in_stock OR p.stock > 0)
"""

# Each method takes its top candidates first (so HNSW and the GIN indexes are used) and
# is ranked within them. Only the module's own filter text is interpolated; every value
# is a bound parameter.
_HYBRID = text(f"""
WITH query AS (SELECT websearch_to_tsquery('simple', :words) AS ts),
semantic AS (
    SELECT id, row_number() OVER (ORDER BY distance) AS rank FROM (
        SELECT p.id, p.embedding <=> CAST(:vector AS vector) AS distance
        FROM products AS p
        WHERE {_FILTERS} AND p.embedding IS NOT NULL
        ORDER BY distance LIMIT :candidates
    ) AS nearest
),
keyword AS (
    SELECT id, row_number() OVER (ORDER BY relevance DESC) AS rank FROM (
        SELECT p.id, ts_rank_cd(p.search_vector, query.ts) AS relevance
        FROM products AS p, query
        WHERE {_FILTERS} AND p.search_vector @@ query.ts
        ORDER BY relevance DESC LIMIT :candidates
    ) AS matching
),
spelling AS (
    SELECT id, row_number() OVER (ORDER BY likeness DESC) AS rank FROM (
        SELECT p.id, greatest(
            word_similarity(:words, p.title),
            word_similarity(:words, coalesce(p.translations #>> '{{ru,title}}', ''))
        ) AS likeness
        FROM products AS p
        WHERE {_FILTERS} AND (:words <% p.title
            OR :words <% coalesce(p.translations #>> '{{ru,title}}', ''))
        ORDER BY likeness DESC LIMIT :candidates
    ) AS alike
),
fused AS (
    SELECT id, sum(1.0 / (:rrf_k + rank)) AS score, count(*) AS methods
    FROM (SELECT * FROM semantic UNION ALL SELECT * FROM keyword UNION ALL SELECT * FROM spelling)
         AS ranked
    GROUP BY id
)
SELECT id FROM fused ORDER BY score DESC, methods DESC, id
LIMIT :limit OFFSET :offset
""")  # noqa: S608

_FILTER_ONLY = text(f"""
SELECT p.id FROM products AS p WHERE {_FILTERS} ORDER BY p.stock = 0, p.price, p.id
LIMIT :limit OFFSET :offset
""")  # noqa: S608


class SearchService:
    """Searches one shop's active products."""

    def __init__(self, session: AsyncSession, embedder: Embedder, shop_id: int) -> None:
        self._session = session
        self._embedder = embedder
        self._shop_id = shop_id

    async def search(self, query: SearchQuery, *, limit: int = 5, offset: int = 0) -> list[Product]:
        """The best matches first; with no words, the products the filters allow, cheapest
        first."""
        params: dict[str, object] = {
            "shop_id": self._shop_id,
            "min_price": query.min_price,
            "max_price": query.max_price,
            "in_stock": query.in_stock,
            "limit": limit,
            "offset": offset,
        }
        if query.text:
            (vector,) = await self._embedder.embed_queries([query.text])
            params |= {
                "words": query.text,
                "vector": str(vector),
                "candidates": CANDIDATES,
                "rrf_k": RRF_K,
            }
            statement = _HYBRID
        else:
            statement = _FILTER_ONLY
        ids = [row[0] for row in await self._session.execute(statement, params)]
        if not ids:
            return []
        products = await self._session.scalars(select(Product).where(Product.id.in_(ids)))
        by_id = {product.id: product for product in products}
        return [by_id[product_id] for product_id in ids if product_id in by_id]
