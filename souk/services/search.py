"""Hybrid product search: meaning (pgvector), words (full text) and spelling (corrected words).

Each method ranks up to `CANDIDATES` products of the shop that pass the filters; the
rankings are fused with reciprocal rank fusion (score = sum of 1 / (K + rank)), so a
product found by several methods rises, and no method's raw scores need calibrating
against another's. The query is embedded (in a worker thread) while one statement ranks
by words and spelling; then a second asks HNSW for the nearest embeddings, and the
rankings are fused here. A query searched before has its vector at once (the query
cache): then all the rankings are one statement. A caller may run only some of the
methods (`methods=`), e.g. to measure what each contributes.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import math
from collections.abc import Sequence

from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from souk.ai.embedder import Embedder, Vector
from souk.db.models import Product
from souk.services.search_filters import SearchQuery

CANDIDATES = 50
# Full text ranks at most this many matches of a method's query (in table order): a
# common word ("black", "наушники") matches thousands of products, nearly all equally,
# and ranking each costs a row read and a rank, about 5 microseconds.
RANK_CAP = 1000
RRF_K = 60
# A query word that no title of the shop has is corrected to the shop's title words at
# least this alike (trigram similarity: "hedphones"/"headphones" 0.62, "парюм"/"парфюм"
# 0.44, "sony"/"sonora" 0.33) and at most MAX_LENGTH_CHANGE letters longer or shorter (a
# typo; "notebook"/"note" is 0.4 alike), the most alike first, at most CORRECTIONS.
MIN_LIKENESS = 0.4
MAX_LENGTH_CHANGE = 2
CORRECTIONS = 2
# The HNSW index is asked for more than the candidates it must return, and with
# pgvector's iterative scan it keeps looking when the filters (price, stock, shop) drop
# rows, so a filtered search still gets its candidates. A catalog is clusters of nearly
# identical variants, which a narrow search misses whole: at 100k products (m=32,
# ef_construction=400) recall@10 is 0.93-0.97 at ef_search 400 and 0.95-0.99 at 800,
# depending on the build (a parallel build's graph differs from run to run). The app
# asks for 1000, pgvector's maximum, for the margin: as fast as 800 within the noise
# (44.5 against 45.1 ms p50 in one loaded run), and never below 800's recall. A filter that
# almost nothing passes stops the scan after MAX_SCAN_TUPLES instead of pgvector's
# 20,000 (the other methods still answer): each tuple is a row read to check the filters.
# Of 140 filtered queries at 100k products, 4 get fewer than 50 candidates at 2,000 (2
# at 4,000, which doubles the slowest scans).
EF_SEARCH = 1000
MAX_SCAN_TUPLES = 2000
# Set for this transaction only. Statements are prepared (asyncpg), and after five runs
# Postgres may plan one for any values ("generic"): for these, 20-50 ms where a plan made
# for the query's own words and filters takes 5-9 ms, planning included (100k products).
_SETTINGS = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
    f"set_config('hnsw.ef_search', '{EF_SEARCH}', true), "
    "set_config('hnsw.iterative_scan', 'relaxed_order', true), "
    f"set_config('hnsw.max_scan_tuples', '{MAX_SCAN_TUPLES}', true)"
)


class SearchMethod(enum.Enum):
    """One way of ranking products for a query; the value names its ranking in the SQL."""

    SEMANTIC = "semantic"  # nearest embeddings: meaning, across languages
    KEYWORD = "keyword"  # full-text match of the words
    SPELLING = "spelling"  # full text of the words as prefixes, misspelt ones corrected


ALL_METHODS = frozenset(SearchMethod)
_WORD_METHODS = (SearchMethod.KEYWORD, SearchMethod.SPELLING)

_FILTERS = """
    p.shop_id = :shop_id AND p.is_active
    AND (CAST(:min_price AS numeric) IS NULL OR p.price >= :min_price)
    AND (CAST(:max_price AS numeric) IS NULL OR p.price <= :max_price)
    AND (NOT :in_stock OR p.stock > 0)
"""


def _matches(name: str, query: str, *, unless: str | None = None) -> str:
    """The CTE `name`: the best CANDIDATES products (by ts_rank_cd) of at most RANK_CAP
    matching the tsquery `ts` that `query` selects (none if it selects no row, or if the
    CTE `unless` has rows). Only the module's own SQL text is interpolated.

    The tsquery is a CTE of its own, MATERIALIZED: computed once. As a subquery, Postgres
    computed it again for every product it checked when it scanned the shop's products
    (a small shop's plan): 10 of the 17 ms of a query at the 277-product demo shop."""
    # Uncorrelated, so checked once before the products are: none is read for nothing.
    skip = f"EXISTS (SELECT FROM {name}_query) AND"
    if unless:
        skip += f" NOT EXISTS (SELECT FROM {unless}) AND"
    return f"""
{name}_query AS MATERIALIZED ({query}),
{name} AS (
    SELECT id, ts_rank_cd(search_vector, ts) AS relevance FROM (
        SELECT p.id, p.search_vector, query.ts FROM products AS p, {name}_query AS query
        WHERE {skip} {_FILTERS} AND p.search_vector @@ query.ts
        LIMIT :rank_cap
    ) AS matching
    ORDER BY relevance DESC, id LIMIT :candidates
)"""  # noqa: S608


def _ranked(name: str, first: str, fallback: str) -> str:
    """The CTE `name`: the products of CTE `first`, or else of `fallback`, ranked; equal
    relevance (a product's colour variants) ordered by id, so the same query gives the
    same page every time."""
    return f"""
{name} AS (
    SELECT id, row_number() OVER (ORDER BY relevance DESC, id) AS rank
    FROM (SELECT * FROM {first} UNION ALL SELECT * FROM {fallback}) AS matching
)"""  # noqa: S608


# What both word methods start from: the query's words as full text has them, stopwords
# left out (or "с" and "for" would match everything; the 'russian' configuration knows
# English stopwords too, as Latin words go to its English stemmer; it only picks the
# words, the products' vectors stay 'simple'), and the products with all of the words.
_WORDS = ",".join(
    (
        """
lexemes AS (
    SELECT lexeme FROM unnest(tsvector_to_array(to_tsvector('simple', :words))) AS lexeme
    WHERE to_tsvector('russian', lexeme) <> ''
)""",
        _matches("all_words", "SELECT websearch_to_tsquery('simple', :words) AS ts"),
    )
)

# Full text: the products with all of the words; only if there are none, those with any
# of them: one misspelt or unknown word ("hedphones sony") must not leave the method with
# nothing to rank.
_KEYWORD = ",".join(
    (
        _matches(
            "any_word",
            "SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS ts "
            "FROM lexemes HAVING count(*) > 0",
            unless="all_words",
        ),
        _ranked("keyword", "all_words", "any_word"),
    )
)

# Spelling is full text again, each word also as a prefix ("watch" finds "Watch6",
# "наушн" "наушники"), and each word no product of the shop has (that could be a title
# word: a letter, three characters) also as the shop's title words most like it
# (search_words, kept by triggers on products): "samsng galaxy watch" -> "(samsng:* | samsung) &
# (galaxy:*) & (watch:*)". Then, as full text: all of the words, or else (if a word was
# corrected) any. Only when a word was corrected or no product has all the words as they
# are: otherwise it would rank again what full text has ranked, and count twice against
# the meaning.
_SPELLING = ",".join(
    (
        """
-- Once, not once per lexeme of `spelt`'s join (which inlining it did).
corrections AS MATERIALIZED (
    SELECT lexeme, alike.word FROM lexemes CROSS JOIN LATERAL (
        SELECT w.word FROM search_words AS w
        WHERE w.shop_id = :shop_id AND w.word % lexeme
            AND similarity(w.word, lexeme) >= :min_likeness
            AND abs(length(w.word) - length(lexeme)) <= :max_length_change
        ORDER BY similarity(w.word, lexeme) DESC, w.products DESC, w.word
        LIMIT :corrections
    ) AS alike
    WHERE length(lexeme) >= 3 AND lexeme ~ '[[:alpha:]]' AND NOT EXISTS (
        SELECT FROM search_words AS w WHERE w.shop_id = :shop_id AND w.word = lexeme
    ) AND NOT EXISTS (
        SELECT FROM products AS p
        WHERE p.shop_id = :shop_id
            AND p.search_vector @@ to_tsquery('simple', quote_literal(lexeme))
    )
),
spelt AS (
    SELECT '(' || quote_literal(l.lexeme) || ':*'
           || coalesce(' | ' || string_agg(quote_literal(c.word), ' | '), '') || ')' AS term,
           count(c.word) > 0 AS corrected
    FROM lexemes AS l LEFT JOIN corrections AS c USING (lexeme)
    GROUP BY l.lexeme
)""",
        _matches(
            "spelt_all",
            "SELECT to_tsquery('simple', string_agg(term, ' & ')) AS ts FROM spelt "
            "HAVING bool_or(corrected) OR NOT EXISTS (SELECT FROM all_words)",
        ),
        _matches(
            "spelt_any",
            "SELECT to_tsquery('simple', string_agg(term, ' | ')) AS ts FROM spelt "
            "HAVING count(*) > 1 AND bool_or(corrected)",
            unless="spelt_all",
        ),
        _ranked("spelling", "spelt_all", "spelt_any"),
    )
)

_RANKINGS = {SearchMethod.KEYWORD: _KEYWORD, SearchMethod.SPELLING: _SPELLING}

# HNSW takes the nearest candidates (the filters applied as it goes); equal distances
# ordered by id. Rows of (method, id, rank), as the word methods' are.
_NEAREST = f"""
SELECT '{SearchMethod.SEMANTIC.value}' AS method, id,
    row_number() OVER (ORDER BY distance, id) AS rank
FROM (
    SELECT p.id, p.embedding <=> CAST(:vector AS vector) AS distance
    FROM products AS p
    WHERE {_FILTERS} AND p.embedding IS NOT NULL
    ORDER BY distance LIMIT :candidates
) AS nearest
"""  # noqa: S608

_FILTER_ONLY = text(f"""
SELECT p.id FROM products AS p WHERE {_FILTERS} ORDER BY p.stock = 0, p.price, p.id
LIMIT :limit OFFSET :offset
""")  # noqa: S608


@functools.cache
def _rankings_statement(methods: frozenset[SearchMethod]) -> TextClause:
    """The rankings of `methods` in one statement: rows of (method, id, rank). The
    semantic one, if asked for, needs the query's vector (`:vector`)."""
    chosen = [method for method in _WORD_METHODS if method in methods]
    if not chosen:
        return text(_NEAREST)
    selects = [
        f"SELECT '{method.value}' AS method, id, rank FROM {method.value}"  # noqa: S608
        for method in chosen
    ]
    if SearchMethod.SEMANTIC in methods:
        selects.append(f"({_NEAREST})")
    ctes = ",".join([_WORDS, *(_RANKINGS[method] for method in chosen)])
    return text(f"WITH {ctes}\n{' UNION ALL '.join(selects)}")


def fuse(rankings: Sequence[Sequence[int]]) -> list[int]:
    """Ids ranked by reciprocal rank fusion of `rankings` (each best first): the highest
    sum of 1 / (RRF_K + rank) first, then the one more methods found, then the lowest id.
    Sums are correctly rounded (`math.fsum`), so the same ranks in other methods give the
    same score exactly (Fractions did that too, at 1.6 ms for three rankings of 50 and
    11 ms with a thousand keyword matches; this, a tenth to a fifth of that)."""
    terms: dict[int, list[float]] = {}
    for ranking in rankings:
        for rank, product_id in enumerate(ranking, start=1):
            terms.setdefault(product_id, []).append(1.0 / (RRF_K + rank))
    scores = {product_id: math.fsum(found) for product_id, found in terms.items()}
    return sorted(
        scores, key=lambda product_id: (-scores[product_id], -len(terms[product_id]), product_id)
    )


# The products found, built once (building it cost as much CPU as running it). Without
# their vector, which is not shown and alone is 1.5 kB read from TOAST and parsed: ~1 ms.
_PRODUCTS = (
    select(Product)
    .where(Product.id.in_(bindparam("ids", expanding=True)))
    .options(
        defer(Product.embedding, raiseload=True),
        defer(Product.search_vector, raiseload=True),
    )
)


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
        }
        if query.text:
            ranked = await self._ranked(query.text, methods, params)
            ids = ranked[offset : offset + limit]
        else:
            rows = await self._session.execute(
                _FILTER_ONLY, params | {"limit": limit, "offset": offset}
            )
            ids = [row[0] for row in rows]
        if not ids:
            return []
        products = await self._session.scalars(_PRODUCTS, {"ids": ids})
        by_id = {product.id: product for product in products}
        return [by_id[product_id] for product_id in ids if product_id in by_id]

    async def _ranked(
        self, words: str, methods: frozenset[SearchMethod], params: dict[str, object]
    ) -> list[int]:
        """Every candidate of `methods` for `words`, fused, best first."""
        params = params | {
            "words": words,
            "candidates": CANDIDATES,
            "rank_cap": RANK_CAP,
            "min_likeness": MIN_LIKENESS,
            "corrections": CORRECTIONS,
            "max_length_change": MAX_LENGTH_CHANGE,
        }
        embedding: asyncio.Future[list[Vector]] | None = None
        if SearchMethod.SEMANTIC in methods:
            embedding = asyncio.ensure_future(self._embedder.embed_queries([words]))
        word_methods = methods & frozenset(_WORD_METHODS)
        try:
            await self._session.execute(_SETTINGS)
            # Words searched before come from the query cache while the settings go: then
            # every ranking is one statement.
            if embedding is not None and embedding.done() and not embedding.exception():
                (vector,) = embedding.result()
                return fuse(await self._rankings(methods, params | {"vector": str(vector)}))
            rankings = await self._rankings(word_methods, params) if word_methods else []
            if embedding is not None:
                (vector,) = await embedding
                vectors = params | {"vector": str(vector)}
                rankings += await self._rankings(frozenset({SearchMethod.SEMANTIC}), vectors)
        finally:
            if embedding is not None:
                embedding.cancel()  # the statements failed first; a finished task ignores it
        return fuse(rankings)

    async def _rankings(
        self, methods: frozenset[SearchMethod], params: dict[str, object]
    ) -> list[list[int]]:
        """The ids each of `methods` ranks, best first (a method that found none: none)."""
        rows = await self._session.execute(_rankings_statement(methods), params)
        by_method: dict[str, list[tuple[int, int]]] = {}
        for name, product_id, rank in rows:
            by_method.setdefault(name, []).append((rank, product_id))
        return [[product_id for _, product_id in sorted(found)] for found in by_method.values()]
