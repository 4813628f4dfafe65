"""Hybrid product search: meaning (pgvector), words (full text) and spelling (trigrams).

Each method ranks up to `CANDIDATES` products of the shop that pass the filters; the
rankings are fused with reciprocal rank fusion (score = sum of 1 / (K + rank)), so a
product found by several methods rises, and no method's raw scores need calibrating
against another's. One SQL statement does all of it. A caller may run only some of the
methods (`methods=`), e.g. to measure what each contributes.
"""

from __future__ import annotations

import enum
import functools

from sqlalchemy import TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.db.models import Product
from souk.services.search_filters import SearchQuery

CANDIDATES = 50
# Spelling ranks at most this many titles like the words (in table order): a typo of a
# common word is like thousands of titles, nearly all equally, and each likeness costs
# tens of microseconds.
SPELLING_CAP = 200
RRF_K = 60
# The HNSW index is asked for more than the candidates it must return, and with
# pgvector's iterative scan it keeps looking when the filters (price, stock, shop) drop
# rows, so a filtered search still gets its candidates. A catalog is clusters of nearly
# identical variants, which a narrow search misses whole: at 100k products (m=32,
# ef_construction=400) recall@10 is 0.93 at ef_search 400, 0.98 at 800. A filter that
# almost nothing passes stops the scan after MAX_SCAN_TUPLES instead of pgvector's
# 20,000 (the other methods still answer). Set for this transaction only.
EF_SEARCH = 800
MAX_SCAN_TUPLES = 4000
_HNSW_SETTINGS = text(
    f"SELECT set_config('hnsw.ef_search', '{EF_SEARCH}', true), "
    "set_config('hnsw.iterative_scan', 'relaxed_order', true), "
    f"set_config('hnsw.max_scan_tuples', '{MAX_SCAN_TUPLES}', true)"
)


class SearchMethod(enum.Enum):
    """One way of ranking products for a query; the value names its ranking in the SQL."""

    SEMANTIC = "semantic"  # nearest embeddings: meaning, across languages
    KEYWORD = "keyword"  # full-text match of the words
    SPELLING = "spelling"  # trigram likeness of the title: typos, partial words


ALL_METHODS = frozenset(SearchMethod)

_FILTERS = """
    p.shop_id = :shop_id AND p.is_active
    AND (CAST(:min_price AS numeric) IS NULL OR p.price >= :min_price)
    AND (CAST(:max_price AS numeric) IS NULL OR p.price <= :max_price)
    AND (NOT :in_stock OR p.stock > 0)
"""

# Each method takes its top candidates first (so HNSW and the GIN indexes are used) and
# is ranked within them; equal scores (a product's colour variants) are ordered by id, so
# the same query gives the same page every time. Only the module's own SQL text is
# interpolated; every value is a bound parameter.
_RANKINGS = {
    SearchMethod.SEMANTIC: f"""
semantic AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS rank FROM (
        SELECT p.id, p.embedding <=> CAST(:vector AS vector) AS distance
        FROM products AS p
        WHERE {_FILTERS} AND p.embedding IS NOT NULL
        ORDER BY distance LIMIT :candidates
    ) AS nearest
)""",  # noqa: S608
    # Products with all of the words; only if there are none, products with any of them
    # (stopwords left out, or "с" and "for" would match everything): one misspelt or
    # unknown word ("hedphones sony") must not leave the method with nothing to rank. The
    # 'russian' configuration knows English stopwords too (Latin words go to its English
    # stemmer); it only picks the words, the products' vectors stay 'simple'.
    SearchMethod.KEYWORD: f"""
all_words AS (
    SELECT p.id, ts_rank_cd(p.search_vector, query.ts) AS relevance
    FROM products AS p, (SELECT websearch_to_tsquery('simple', :words) AS ts) AS query
    WHERE {_FILTERS} AND p.search_vector @@ query.ts
    ORDER BY relevance DESC, p.id LIMIT :candidates
),
any_word AS (
    SELECT p.id, ts_rank_cd(p.search_vector, query.ts) AS relevance
    FROM products AS p, (
        SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS ts
        FROM unnest(tsvector_to_array(to_tsvector('simple', :words))) AS lexeme
        WHERE to_tsvector('russian', lexeme) <> ''
        HAVING count(*) > 0
    ) AS query
    WHERE NOT EXISTS (SELECT FROM all_words) AND {_FILTERS} AND p.search_vector @@ query.ts
    ORDER BY relevance DESC, p.id LIMIT :candidates
),
keyword AS (
    SELECT id, row_number() OVER (ORDER BY relevance DESC, id) AS rank
    FROM (SELECT * FROM all_words UNION ALL SELECT * FROM any_word) AS matching
)""",  # noqa: S608
    # Only when fewer than CANDIDATES products have all the words (a typo, a partial
    # word): otherwise trigrams would rank again the titles full text found, and a common
    # word is like thousands of titles, each costing a similarity computed twice.
    SearchMethod.SPELLING: f"""
whole_words AS (
    SELECT count(*) AS found FROM (
        SELECT FROM products AS p
        WHERE {_FILTERS} AND p.search_vector @@ websearch_to_tsquery('simple', :words)
        LIMIT :candidates
    ) AS matching
),
spelling AS (
    SELECT id, row_number() OVER (ORDER BY likeness DESC, id) AS rank FROM (
        SELECT id, word_similarity(:words, titles) AS likeness FROM (
            SELECT p.id, p.titles FROM products AS p
            WHERE (SELECT found FROM whole_words) < :candidates
                AND {_FILTERS} AND :words <% p.titles
            LIMIT :alike_cap
        ) AS capped
        ORDER BY likeness DESC, id LIMIT :candidates
    ) AS alike
)""",  # noqa: S608
}

_FILTER_ONLY = text(f"""
SELECT p.id FROM products AS p WHERE {_FILTERS} ORDER BY p.stock = 0, p.price, p.id
LIMIT :limit OFFSET :offset
""")  # noqa: S608


@functools.cache
def _ranked_statement(methods: frozenset[SearchMethod]) -> TextClause:
    """The fused ranking of `methods` (in a fixed order, so the SQL is stable)."""
    chosen = [method for method in SearchMethod if method in methods]
    ctes = ",".join(_RANKINGS[method] for method in chosen)
    union = " UNION ALL ".join(f"SELECT * FROM {method.value}" for method in chosen)  # noqa: S608
    return text(f"""
WITH {ctes},
fused AS (
    SELECT id, sum(1.0 / (:rrf_k + rank)) AS score, count(*) AS methods
    FROM ({union}) AS ranked
    GROUP BY id
)
SELECT id FROM fused ORDER BY score DESC, methods DESC, id
LIMIT :limit OFFSET :offset
""")  # noqa: S608


class SearchService:
    """Searches one shop's active products."""

    def __init__(self, session: AsyncSession, embedder: Embedder, shop_id: int) -> None:
        self._session = session
        self._embedder = embedder
        self._shop_id = shop_id

    async def search(
        self,
        query: SearchQuery,
        *,
        limit: int = 5,
        offset: int = 0,
        methods: frozenset[SearchMethod] = ALL_METHODS,
    ) -> list[Product]:
        """The best matches first, ranked by `methods` (all of them unless told); with no
        words, the products the filters allow, cheapest first."""
        if not methods:
            raise ValueError("search needs at least one method")
        params: dict[str, object] = {
            "shop_id": self._shop_id,
            "min_price": query.min_price,
            "max_price": query.max_price,
            "in_stock": query.in_stock,
            "limit": limit,
            "offset": offset,
        }
        if query.text:
            params |= {
                "words": query.text,
                "candidates": CANDIDATES,
                "alike_cap": SPELLING_CAP,
                "rrf_k": RRF_K,
            }
            if SearchMethod.SEMANTIC in methods:
                (vector,) = await self._embedder.embed_queries([query.text])
                params["vector"] = str(vector)
                await self._session.execute(_HNSW_SETTINGS)
            statement = _ranked_statement(frozenset(methods))
        else:
            statement = _FILTER_ONLY
        ids = [row[0] for row in await self._session.execute(statement, params)]
        if not ids:
            return []
        products = await self._session.scalars(select(Product).where(Product.id.in_(ids)))
        by_id = {product.id: product for product in products}
        return [by_id[product_id] for product_id in ids if product_id in by_id]
