"""Search over a generated catalog: latency of the whole search, recall of HNSW, index cost.

A catalog of N products (default 100k; `bench/search_catalog.py`) goes into one shop,
and 1,000 more into a second shop so that the shop filter has something to filter. Base
products are embedded for real with the local model, their variants get derived vectors
(`bench/search_vectors.py` says how and why). Products are loaded by COPY with the search
indexes dropped, then the indexes are built again as the migration defines them, timed.
Then, one at a time after a warm-up:

- the whole search: `parse_search` + `SearchService.search` with the local embedder
  built as the app builds it (EMBEDDINGS_THREADS, the query cache), for a few hundred
  English and Russian queries, 40% of them with price or stock filters;
- the same searches with the query vectors already embedded (the SQL's share);
- recall@10 (and @50, the app's candidate count) of the shop-scoped HNSW query against
  an exact scan of the same embeddings, at several `hnsw.ef_search` values.

Each pass of searches stops after `--budget` seconds (the report says how many ran), so
a slow search cannot make the run endless. The first run embeds ~2,200 passages (about
6 min on two shared cores); they are cached, later runs take about 8 min.

Run: `.venv/bin/python bench/search.py [--products 100000] [--queries 300]`; a quick
look: `--products 5000`. Prints figures and the issue's targets with PASS or FAIL;
exits 1 if a target fails.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.fixtures import bench_workdir, embedded_services
from bench.search_catalog import (
    BaseProduct,
    GeneratedProduct,
    is_model_number,
    make_bases,
    make_products,
    make_queries,
)
from bench.search_load import (
    build_indexes,
    connect,
    copy_products,
    create_shop,
    drop_search_indexes,
    product_records,
    relation_sizes,
    server_settings,
    vacuum_analyze,
)
from bench.search_measure import RecordedEmbedder, SearchFigures, TimedEmbedder, time_searches
from bench.search_recall import measure_recall
from bench.search_report import CatalogFigures, Figures, LoadFigures, MachineFigures, report
from bench.search_vectors import Matrix, catalog_vectors
from souk.ai.embedder import Embedder, build_embedder
from souk.config import DEFAULT_SHARED_BUFFERS, AISettings
from souk.db.session import create_engine, create_session_factory
from souk.logs import setup_logging
from souk.services.search import EF_SEARCH
from souk.services.search_filters import parse_search


@dataclass(frozen=True)
class Catalog:
    """The generated products of both shops, with their vectors."""

    bases: list[BaseProduct]
    products: list[GeneratedProduct]
    vectors: Matrix
    other_products: list[GeneratedProduct]
    other_vectors: Matrix
    figures: CatalogFigures


async def run(args: argparse.Namespace) -> bool:
    """Generate, embed, load, measure; report and say whether every target passed."""
    load_at_start = os.getloadavg()[0]
    embedder = build_embedder(AISettings(embeddings="local"))  # as the app builds it
    catalog = await generate_catalog(args, embedder)
    async with (
        bench_workdir("souk-bench-search-") as workdir,
        embedded_services(
            workdir / "data", fast=args.fast_postgres, shared_buffers=args.shared_buffers
        ) as urls,
    ):
        engine = create_engine(urls.database_url, pool_size=2, max_overflow=0)
        connection = await connect(urls.database_url)
        try:
            session_factory = create_session_factory(engine)
            shop_id, load = await load_catalog(args, session_factory, connection, catalog)
            timed = TimedEmbedder(embedder)
            searches = await measure_searches(args, session_factory, timed, shop_id, catalog)
            texts = searches.texts[: args.recall_queries]
            recall = await measure_recall(
                connection,
                shop_id,
                await timed.vectors_for(texts),
                words=[not is_model_number(text) for text in texts],
                ef_values=args.ef_search,
                app_ef_search=EF_SEARCH,
            )
        finally:
            await connection.close()
            await engine.dispose()
    machine = MachineFigures(os.cpu_count() or 0, load_at_start, os.getloadavg()[0])
    return report(Figures(catalog.figures, load, searches, recall, machine))


async def generate_catalog(args: argparse.Namespace, embedder: Embedder) -> Catalog:
    """The products of both shops, and their vectors (real for the bases, else derived)."""
    started = time.monotonic()
    bases = make_bases(args.bases, args.seed)
    products = list(make_products(bases, args.products, args.seed))
    other = list(make_products(bases, args.other_products, args.seed + 1))
    generate_seconds = time.monotonic() - started
    print(f"embedding {len(bases):,} base products ...", flush=True)
    vectors = await catalog_vectors(bases, embedder)
    return Catalog(
        bases,
        products,
        vectors.derive(products, args.seed),
        other,
        vectors.derive(other, args.seed + 1),
        CatalogFigures(len(products), len(other), len(bases), generate_seconds, vectors),
    )


async def load_catalog(
    args: argparse.Namespace,
    session_factory: async_sessionmaker[AsyncSession],
    connection: asyncpg.Connection,
    catalog: Catalog,
) -> tuple[int, LoadFigures]:
    """Both shops' products by COPY without the search indexes, then the indexes built."""
    shop = await create_shop(session_factory, "bench-search", "Search Bench")
    other = await create_shop(session_factory, "bench-other", "Another Shop")
    definitions = await drop_search_indexes(connection)
    rows = len(catalog.products) + len(catalog.other_products)
    print(f"loading {rows:,} products ...", flush=True)
    started = time.monotonic()
    await copy_products(connection, product_records(shop, catalog.products, catalog.vectors))
    await copy_products(
        connection, product_records(other, catalog.other_products, catalog.other_vectors)
    )
    copy_seconds = time.monotonic() - started
    vacuum_seconds = await vacuum_analyze(connection)
    print("building the search indexes ...", flush=True)
    builds = await build_indexes(connection, definitions, args.maintenance_work_mem)
    return shop.shop_id, LoadFigures(
        rows=rows,
        copy_seconds=copy_seconds,
        vacuum_seconds=vacuum_seconds,
        index_builds=builds,
        maintenance_work_mem=args.maintenance_work_mem,
        sizes=await relation_sizes(connection),
        settings=await server_settings(connection),
    )


async def measure_searches(
    args: argparse.Namespace,
    session_factory: async_sessionmaker[AsyncSession],
    timed: TimedEmbedder,
    shop_id: int,
    catalog: Catalog,
) -> SearchFigures:
    """Warm-up, the whole searches, then the same searches with their vectors given."""
    queries = make_queries(catalog.bases, args.queries + args.warmup, args.seed + 7)
    warmup, planned = queries[: args.warmup], queries[args.warmup :]
    print(f"searching: {len(warmup)} warm-up, {len(planned)} measured ...", flush=True)
    search = functools.partial(
        time_searches, session_factory, shop_id=shop_id, limit=args.limit, budget=args.budget
    )
    await search(timed, queries=warmup)
    whole = await search(timed, queries=planned)
    print(f"  {len(whole)} whole searches; again with their vectors given ...", flush=True)
    recorded = await search(
        TimedEmbedder(RecordedEmbedder(timed.vectors)), queries=[t.query for t in whole]
    )
    texts = [text for text in dict.fromkeys(parse_search(q).text for q in planned) if text]
    return SearchFigures(len(warmup), len(planned), args.budget, whole, recorded, texts)


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line (run with --help to read it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--products", type=int, default=100_000, help="in the measured shop")
    parser.add_argument("--other-products", type=int, default=1000, help="in a second shop")
    parser.add_argument(
        "--bases",
        type=int,
        default=None,
        help="base products embedded for real (default: products/50, 100 to 2000)",
    )
    parser.add_argument("--queries", type=int, default=300, help="measured searches")
    parser.add_argument("--warmup", type=int, default=30, help="searches before measuring")
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds the warm-up and each measured pass may take (the rest is skipped)",
    )
    parser.add_argument("--recall-queries", type=int, default=200, help="queries for recall")
    parser.add_argument(
        "--ef-search",
        type=lambda text: [int(v) for v in text.split(",") if v],
        default=[40, 60, 80, 100, 150, 200, 400],
        help="hnsw.ef_search values to measure recall at, comma-separated",
    )
    parser.add_argument("--limit", type=int, default=6, help="results asked for (the bot: 5+1)")
    parser.add_argument("--maintenance-work-mem", default="512MB", help="for the index builds only")
    parser.add_argument("--seed", type=int, default=1, help="of the catalog and the queries")
    parser.add_argument(
        "--shared-buffers",
        default=DEFAULT_SHARED_BUFFERS,
        help="Postgres shared_buffers (POSTGRES_SHARED_BUFFERS's default unless told)",
    )
    parser.add_argument(
        "--fast-postgres",
        action="store_true",
        help="run Postgres without fsync, as the tests do (diagnosis only)",
    )
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.bases is None:
        args.bases = min(2000, max(100, args.products // 50))
    args.bases = min(args.bases, args.products)
    setup_logging(level="WARNING")
    sys.exit(0 if asyncio.run(run(args)) else 1)


if __name__ == "__main__":
    main()
