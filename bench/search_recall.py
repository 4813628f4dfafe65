"""Recall of the HNSW index against an exact scan of the same embeddings.

The query is the app's semantic one without price filters: the shop's active products
nearest to the query vector, LIMIT 50 (the app's candidate count). Recall@k is given
two ways: strictly (the share of the true k nearest ids that HNSW returned among its
first k) and as ann-benchmarks counts it (a returned product counts when its distance
is within 0.001 of the true k-th nearest's, so a near-duplicate standing in for another
is not a miss). Strict recall@10 is also given without the queries that are a bare model
number: their true neighbours are one model's variants, a tight cluster the HNSW graph
can miss as a whole (recall 0 or 1), which is what drags the average down.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from bench.report import percentiles
from bench.search_load import HNSW_INDEX
from souk.ai.embedder import Vector

DEPTH = 50  # the app's semantic method takes this many candidates (CANDIDATES)
TIE_EPSILON = 1e-3  # ann-benchmarks' default
NEAREST = """
SELECT id, embedding <=> $2 AS distance FROM products
WHERE shop_id = $1 AND is_active AND embedding IS NOT NULL
ORDER BY embedding <=> $2 LIMIT $3
"""

Answer = list[tuple[int, float]]  # (product id, cosine distance), nearest first


@dataclass(frozen=True)
class RecallFigures:
    """HNSW against exact at one `hnsw.ef_search` (or the exact scan itself, ef 0)."""

    ef_search: int
    recall_at_10: float
    recall_at_10_ties: float  # ann-benchmarks' definition
    recall_at_10_words: float  # strict, over the queries that are not bare model numbers
    recall_at_depth: float
    rows: float  # mean rows answered to LIMIT DEPTH
    latencies: list[float]  # seconds per query

    @property
    def p50_p95_ms(self) -> tuple[float, float]:
        p50, p95 = percentiles(self.latencies, (50, 95))
        return p50 * 1000, p95 * 1000


async def nearest(
    connection: asyncpg.Connection,
    shop_id: int,
    vectors: Sequence[Vector],
    *,
    exact: bool,
    ef_search: int = 0,
) -> tuple[list[Answer], list[float]]:
    """The DEPTH nearest active products of the shop for each vector, by the HNSW index
    at `ef_search` (sorting off: only the index gives that order, so a small catalog uses
    it too) or by an exact scan (index scans off); seconds per query."""
    if exact:
        settings = ["SET LOCAL enable_indexscan = off"]
    else:
        settings = ["SET LOCAL enable_sort = off", f"SET LOCAL hnsw.ef_search = {ef_search:d}"]
    answers, latencies = [], []
    async with connection.transaction():
        for setting in settings:
            await connection.execute(setting)
        plan = await explain(connection, shop_id, vectors[0])
        if uses_hnsw(plan) == exact:
            raise RuntimeError(f"unexpected plan ({exact=}):\n{plan[-600:]}")
        statement = await connection.prepare(NEAREST)
        for vector in vectors:
            started = time.perf_counter()
            rows = await statement.fetch(shop_id, vector, DEPTH)
            latencies.append(time.perf_counter() - started)
            answers.append([(row["id"], row["distance"]) for row in rows])
    return answers, latencies


async def explain(connection: asyncpg.Connection, shop_id: int, vector: Vector) -> str:
    """The plan of the nearest-products query."""
    rows = await connection.fetch(f"EXPLAIN {NEAREST}", shop_id, vector, DEPTH)
    return "\n".join(row[0] for row in rows)


def uses_hnsw(plan: str) -> bool:
    return HNSW_INDEX in plan


@dataclass(frozen=True)
class RecallResult:
    """The exact scan, HNSW at each ef_search measured, and what the app runs with."""

    exact: RecallFigures
    by_ef_search: list[RecallFigures]
    app_ef_search: int  # the hnsw.ef_search the app sets for its searches
    planner_hnsw: bool  # whether the planner picks HNSW for the query on its own
    words: int  # queries that are not a bare model number

    @property
    def app(self) -> RecallFigures:
        return next(r for r in self.by_ef_search if r.ef_search == self.app_ef_search)


async def measure_recall(
    connection: asyncpg.Connection,
    shop_id: int,
    vectors: Sequence[Vector],
    *,
    words: Sequence[bool],
    ef_values: Sequence[int],
    app_ef_search: int,
) -> RecallResult:
    """Exact answers first, then HNSW's at the app's ef_search and at `ef_values`;
    `words` says which queries are words rather than a bare model number."""
    print(f"recall over {len(vectors)} queries ...", flush=True)
    planner_hnsw = uses_hnsw(await explain(connection, shop_id, vectors[0]))
    truth, exact_latencies = await nearest(connection, shop_id, vectors, exact=True)
    exact = RecallFigures(0, 1.0, 1.0, 1.0, 1.0, _mean_rows(truth), exact_latencies)
    truth_words = list(itertools.compress(truth, words))
    rows = []
    for ef_search in sorted({app_ef_search, *ef_values}):
        found, latencies = await nearest(
            connection, shop_id, vectors, exact=False, ef_search=ef_search
        )
        rows.append(
            RecallFigures(
                ef_search,
                _recall(found, truth, 10),
                _recall_with_ties(found, truth, 10),
                _recall(list(itertools.compress(found, words)), truth_words, 10),
                _recall(found, truth, DEPTH),
                _mean_rows(found),
                latencies,
            )
        )
    return RecallResult(exact, rows, app_ef_search, planner_hnsw, sum(words))


def _recall(found: list[Answer], truth: list[Answer], k: int) -> float:
    """Of the true `k` nearest, the share found among the first `k` answered."""
    hits = expected = 0
    for answer, true in zip(found, truth, strict=True):
        hits += len({i for i, _ in answer[:k]} & {i for i, _ in true[:k]})
        expected += min(k, len(true))
    return hits / expected if expected else 1.0


def _recall_with_ties(found: list[Answer], truth: list[Answer], k: int) -> float:
    """The share of the first `k` answered within TIE_EPSILON of the true k-th distance."""
    hits = expected = 0
    for answer, true in zip(found, truth, strict=True):
        if not true:
            continue
        threshold = true[min(k, len(true)) - 1][1] + TIE_EPSILON
        hits += sum(1 for _, distance in answer[:k] if distance <= threshold)
        expected += min(k, len(true))
    return hits / expected if expected else 1.0


def _mean_rows(answers: list[Answer]) -> float:
    return sum(len(a) for a in answers) / len(answers) if answers else 0.0
