"""Search quality: recall@10 and MRR@10 of vector-only, keyword-only and hybrid search.

The demo catalog is seeded into a fresh embedded Postgres and embedded with the real
local model; then every query of the labelled set (bench/data/search_queries.json: en
and ru, plain, cross-lingual, typo and filter queries, each with every SKU that answers
it) is searched three ways through `SearchService`: vector-only (the semantic method),
keyword-only (full text and trigram spelling, the methods without a model) and hybrid
(all three, fused).

recall@10 is the share of a query's relevant products in its first 10 results, out of
at most 10 (a query with 23 relevant products scores 1 when the 10 results are all
relevant); MRR@10 is the mean of 1 / rank of the first relevant result (0 if none is in
the first 10). Both are averaged over the queries.

Embedding the catalog takes a minute on two cores, so product embeddings are kept in
`.cache/bench/` for the next run, keyed by the text embedded, in a file named after what
the model makes of a probe text (another model or engine, another file); `--no-cache`
computes them all again.

Run: `.venv/bin/python bench/search_quality.py [--details] [--no-cache] [--database-url URL]`.
Exits with 1 unless hybrid beats both single modes on both metrics.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.fixtures import bench_workdir, embedded_services
from bench.report import fmt, print_table
from souk.ai.embedder import Embedder, LocalEmbedder, Vector
from souk.db.session import create_engine, create_session_factory
from souk.logs import setup_logging
from souk.services.demo import seed_demo
from souk.services.embeddings import EmbeddingService
from souk.services.search import ALL_METHODS, SearchMethod, SearchService
from souk.services.search_filters import parse_search

QUERIES = Path(__file__).resolve().parent / "data" / "search_queries.json"
CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "bench"
K = 10
MODES: dict[str, frozenset[SearchMethod]] = {
    "vector-only": frozenset({SearchMethod.SEMANTIC}),
    "keyword-only": frozenset({SearchMethod.KEYWORD, SearchMethod.SPELLING}),
    "hybrid": ALL_METHODS,
}


@dataclass(frozen=True)
class LabelledQuery:
    """A query as a customer would type it, and every SKU of the demo catalog that answers it."""

    query: str
    lang: str
    kind: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    """What one mode returned for one query, scored."""

    query: LabelledQuery
    found: list[str]
    recall: float
    reciprocal_rank: float

    @property
    def first_hit(self) -> int | None:
        """1-based rank of the first relevant result, if any is in the first K."""
        return next(
            (i for i, sku in enumerate(self.found[:K], 1) if sku in self.query.relevant), None
        )


class CachedEmbedder:
    """An embedder that remembers: passages on disk (`path`), queries for the run."""

    def __init__(self, model: Embedder, path: Path | None) -> None:
        self._model = model
        self._path = path
        self._passages: dict[str, Vector] = {}
        if path is not None and path.exists():
            self._passages = json.loads(path.read_text(encoding="utf-8"))
        self._queries: dict[str, Vector] = {}

    @classmethod
    async def open(cls, model: Embedder, cache_dir: Path | None) -> CachedEmbedder:
        """`model`, caching passages in `cache_dir` (None: not on disk)."""
        if cache_dir is None:
            return cls(model, None)
        (probe,) = await model.embed_passages(["souk search quality probe"])
        fingerprint = cls._key(json.dumps([round(x, 4) for x in probe]))[:16]
        return cls(model, cache_dir / f"search-quality-{fingerprint}.json")

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        missing = [text for text in dict.fromkeys(texts) if text not in self._queries]
        self._queries |= zip(missing, await self._model.embed_queries(missing), strict=True)
        return [self._queries[text] for text in texts]

    async def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        missing = [text for text in dict.fromkeys(texts) if self._key(text) not in self._passages]
        vectors = await self._model.embed_passages(missing)
        self._passages |= {self._key(t): v for t, v in zip(missing, vectors, strict=True)}
        if missing and self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Its own partial file: test workers and benches may write the cache at once.
            partial = self._path.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(json.dumps(self._passages), encoding="utf-8")
            partial.replace(self._path)
        return [self._passages[self._key(text)] for text in texts]

    async def close(self) -> None:
        await self._model.close()


def load_queries(path: Path = QUERIES) -> list[LabelledQuery]:
    """The labelled set, as written in `path`."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    return [
        LabelledQuery(e["query"], e["lang"], e["kind"], frozenset(e["relevant"])) for e in entries
    ]


def recall_at(found: Sequence[str], relevant: frozenset[str], k: int = K) -> float:
    """Relevant products among the first `k` found, out of min(k, all relevant)."""
    return len(relevant.intersection(found[:k])) / min(k, len(relevant))


def reciprocal_rank(found: Sequence[str], relevant: frozenset[str], k: int = K) -> float:
    """1 / rank of the first relevant product among the first `k` found; 0 if none."""
    return next((1.0 / rank for rank, sku in enumerate(found[:k], 1) if sku in relevant), 0.0)


async def prepare_demo_shop(
    session_factory: async_sessionmaker[AsyncSession], embedder: Embedder
) -> int:
    """Seed the demo shop and embed its products (what is already there is kept)."""
    started = time.perf_counter()
    async with session_factory() as session, session.begin():
        seeded = await seed_demo(session)
    async with session_factory() as session:
        embedded = await EmbeddingService(session, embedder).backfill(seeded.shop_id)
    seconds = time.perf_counter() - started
    print(f"demo shop: {seeded.products} products, {embedded} embedded now, in {seconds:.1f}s")
    return seeded.shop_id


async def evaluate(
    session_factory: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    shop_id: int,
    queries: Sequence[LabelledQuery],
) -> dict[str, list[Outcome]]:
    """Every query searched by every mode, first K results scored."""
    outcomes: dict[str, list[Outcome]] = {mode: [] for mode in MODES}
    async with session_factory() as session:
        search = SearchService(session, embedder, shop_id).search
        for labelled in queries:
            parsed = parse_search(labelled.query)
            for mode, methods in MODES.items():
                products = await search(parsed, limit=K, methods=methods)
                found = [product.sku for product in products]
                outcomes[mode].append(
                    Outcome(
                        labelled,
                        found,
                        recall_at(found, labelled.relevant),
                        reciprocal_rank(found, labelled.relevant),
                    )
                )
    return outcomes


def _means(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    return fmean(o.recall for o in outcomes), fmean(o.reciprocal_rank for o in outcomes)


def print_breakdown(outcomes: dict[str, list[Outcome]]) -> None:
    """recall@K and MRR@K of each mode per kind and per language of query."""
    queries = outcomes["hybrid"]
    groups = sorted({o.query.kind for o in queries}) + sorted({o.query.lang for o in queries})
    rows = []
    for group in groups:
        picked = {
            mode: [o for o in found if group in (o.query.kind, o.query.lang)]
            for mode, found in outcomes.items()
        }
        means = {mode: _means(found) for mode, found in picked.items()}
        rows.append(
            [f"{group} ({len(picked['hybrid'])})"]
            + [fmt(means[mode][0], 3) for mode in MODES]
            + [fmt(means[mode][1], 3) for mode in MODES]
        )
    short = {"vector-only": "vec", "keyword-only": "kw", "hybrid": "hyb"}
    print_table(
        ["queries"]
        + [f"R@{K} {short[mode]}" for mode in MODES]
        + [f"MRR {short[mode]}" for mode in MODES],
        rows,
    )


def print_details(outcomes: dict[str, list[Outcome]]) -> None:
    """Per query: rank of the first relevant result and recall, for each mode."""
    rows = []
    for index, hybrid in enumerate(outcomes["hybrid"]):
        cells = [f"{hybrid.query.kind[:5]} {hybrid.query.query}"]
        for mode in MODES:
            outcome = outcomes[mode][index]
            cells.append(f"{outcome.first_hit or '-'} / {outcome.recall:.2f}")
        rows.append(cells)
    print_table(["query", *(f"{mode} first/R" for mode in MODES)], rows)


def report(outcomes: dict[str, list[Outcome]]) -> bool:
    """Print the figures; True if hybrid beats both single modes on both metrics."""
    means = {mode: _means(found) for mode, found in outcomes.items()}
    print_table(
        ["mode", f"recall@{K}", f"MRR@{K}"],
        [[mode, fmt(recall, 3), fmt(mrr, 3)] for mode, (recall, mrr) in means.items()],
    )
    print()
    print_breakdown(outcomes)
    hybrid_recall, hybrid_mrr = means["hybrid"]
    beats = all(
        hybrid_recall > recall and hybrid_mrr > mrr
        for mode, (recall, mrr) in means.items()
        if mode != "hybrid"
    )
    print()
    print(
        f"hybrid {'beats' if beats else 'does NOT beat'} vector-only and keyword-only "
        f"on both recall@{K} and MRR@{K}"
    )
    return beats


async def measure(
    database_url: str, queries: Sequence[LabelledQuery], *, cache: bool
) -> dict[str, list[Outcome]]:
    """Seed and embed the demo shop in `database_url`, then search every query every way."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    embedder = await CachedEmbedder.open(LocalEmbedder(), CACHE_DIR if cache else None)
    try:
        session_factory = create_session_factory(engine)
        shop_id = await prepare_demo_shop(session_factory, embedder)
        started = time.perf_counter()
        outcomes = await evaluate(session_factory, embedder, shop_id, queries)
        seconds = time.perf_counter() - started
        print(f"{len(queries)} queries x {len(MODES)} modes searched in {seconds:.1f}s\n")
        return outcomes
    finally:
        await embedder.close()
        await engine.dispose()


async def run(args: argparse.Namespace) -> bool:
    """Measure on the given database, or on a throwaway embedded one; report."""
    queries = load_queries(args.queries)
    kinds = ", ".join(sorted({q.kind for q in queries}))
    print(f"{len(queries)} labelled queries ({kinds}) from {args.queries}")
    if args.database_url:
        outcomes = await measure(args.database_url, queries, cache=args.cache)
    else:
        async with (
            bench_workdir("souk-bench-search-") as workdir,
            embedded_services(workdir / "data", fast=True) as urls,
        ):
            outcomes = await measure(urls.database_url, queries, cache=args.cache)
    if args.details:
        print_details(outcomes)
        print()
    return report(outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queries", type=Path, default=QUERIES, help="the labelled query set")
    parser.add_argument(
        "--database-url",
        help="a migrated database to use instead of a throwaway one (the demo shop is "
        "seeded and embedded there if missing)",
    )
    parser.add_argument("--details", action="store_true", help="print every query's ranks")
    parser.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help=f"embed every product again, not reusing {CACHE_DIR}",
    )
    args = parser.parse_args()
    setup_logging(level="WARNING")
    if not asyncio.run(run(args)):
        sys.exit(1)


if __name__ == "__main__":
    main()
