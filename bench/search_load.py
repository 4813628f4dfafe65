"""Loading the generated catalog into Postgres: shops and categories through the services,
products by COPY with the search indexes dropped, then the indexes built again (timed)
with the definitions the migration created, and the sizes read back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import asyncpg
from pgvector.asyncpg import register_vector
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.search_catalog import GeneratedProduct
from bench.search_vectors import Matrix
from bench.search_vocabulary import CATEGORIES
from souk.db.models import Category
from souk.services.shops import ShopService

HNSW_INDEX = "ix_products_embedding_hnsw"
# Built again after the load, in this order: the GIN index first, HNSW (the slow one) last.
# (search_words, the shops' title words, is filled by a trigger during the COPY.)
SEARCH_INDEXES = ("ix_products_search_vector", HNSW_INDEX)
COLUMNS = (
    "shop_id",
    "category_id",
    "sku",
    "title",
    "description",
    "brand",
    "translations",
    "price",
    "currency",
    "stock",
    "attributes",
    "is_active",
    "content_hash",
    "embedded_hash",
    "embedding",
)
SETTINGS = (
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "max_parallel_maintenance_workers",
    "max_parallel_workers_per_gather",
    "hnsw.ef_search",
    "hnsw.iterative_scan",
)


@dataclass(frozen=True)
class ShopCatalog:
    """A shop of the benchmark and its categories' ids by slug."""

    shop_id: int
    categories: dict[str, int]


async def connect(database_url: str) -> asyncpg.Connection:
    """A plain asyncpg connection (autocommit, vector codec) for COPY and maintenance."""
    dsn = make_url(database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    await register_vector(connection)
    return connection


async def create_shop(
    session_factory: async_sessionmaker[AsyncSession], slug: str, name: str
) -> ShopCatalog:
    """A shop and the catalog's categories, made the way the app makes them."""
    async with session_factory() as session, session.begin():
        shop = await ShopService(session).create(slug=slug, name=name)
        for position, words in enumerate(CATEGORIES):
            session.add(
                Category(
                    shop_id=shop.id,
                    slug=words.slug,
                    name=words.name[0],
                    names={"en": words.name[0], "ru": words.name[1]},
                    position=position,
                )
            )
        await session.flush()
        rows = await session.execute(
            select(Category.slug, Category.id).where(Category.shop_id == shop.id)
        )
        return ShopCatalog(shop.id, {slug: category_id for slug, category_id in rows})


async def drop_search_indexes(connection: asyncpg.Connection) -> dict[str, str]:
    """Drop the search indexes; their definitions (as the migration made them) by name."""
    rows = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE tablename = 'products' AND indexname = ANY($1::text[])",
        list(SEARCH_INDEXES),
    )
    definitions = {row["indexname"]: row["indexdef"] for row in rows}
    missing = set(SEARCH_INDEXES) - set(definitions)
    if missing:
        raise RuntimeError(f"the migration did not create {sorted(missing)}")
    for name in SEARCH_INDEXES:
        await connection.execute(f'DROP INDEX "{name}"')
    return definitions


def product_records(
    shop: ShopCatalog, products: Sequence[GeneratedProduct], vectors: Matrix
) -> Iterator[tuple[object, ...]]:
    """COPY records in COLUMNS order."""
    for product, vector in zip(products, vectors, strict=True):
        texts, brand = product.texts, product.base.brand
        digest = texts.content_hash(brand)
        yield (
            shop.shop_id,
            shop.categories[product.base.category],
            texts.sku,
            texts.title,
            texts.description,
            brand,
            json.dumps(texts.translations, ensure_ascii=False),
            product.price,
            "USD",
            product.stock,
            json.dumps(texts.attributes, ensure_ascii=False),
            product.is_active,
            digest,
            digest,
            vector,
        )


async def copy_products(
    connection: asyncpg.Connection, records: Iterator[tuple[object, ...]]
) -> None:
    await connection.copy_records_to_table("products", records=records, columns=COLUMNS)


async def vacuum_analyze(connection: asyncpg.Connection) -> float:
    """VACUUM ANALYZE products (visibility map and planner statistics); seconds."""
    started = time.monotonic()
    await connection.execute("VACUUM ANALYZE products")
    return time.monotonic() - started


async def build_indexes(
    connection: asyncpg.Connection, definitions: dict[str, str], maintenance_work_mem: str
) -> list[tuple[str, float]]:
    """CREATE each dropped index again with `maintenance_work_mem`; seconds per index."""
    await connection.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
    timings = []
    try:
        for name in SEARCH_INDEXES:
            started = time.monotonic()
            await connection.execute(definitions[name])
            timings.append((name, time.monotonic() - started))
            print(f"  {name}: {timings[-1][1]:.1f}s", flush=True)
    finally:
        await connection.execute("RESET maintenance_work_mem")
    return timings


async def relation_sizes(connection: asyncpg.Connection) -> list[tuple[str, int]]:
    """Bytes of the products table, its TOAST, each of its indexes and the total, and of
    the shops' title words that spelling corrects against."""
    sizes = [
        ("table (heap)", "pg_relation_size('products')"),
        ("table + TOAST", "pg_table_size('products')"),
        ("all indexes", "pg_indexes_size('products')"),
        ("total", "pg_total_relation_size('products')"),
    ]
    figures = [(label, int(await connection.fetchval(f"SELECT {sql}"))) for label, sql in sizes]
    indexes = await connection.fetch(
        "SELECT c.relname AS name, pg_relation_size(i.indexrelid) AS bytes "
        "FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'products'::regclass ORDER BY bytes DESC"
    )
    words = int(await connection.fetchval("SELECT pg_total_relation_size('search_words')"))
    return [
        *figures[:2],
        *[(f"  {row['name']}", int(row["bytes"])) for row in indexes],
        *figures[2:],
        ("search_words (title words, with its indexes)", words),
        ("total with search_words", figures[-1][1] + words),
    ]


async def server_settings(connection: asyncpg.Connection) -> dict[str, str]:
    """The Postgres and pgvector versions and the settings that matter here."""
    await connection.fetchval("SELECT '[1]'::vector")  # loads pgvector, so hnsw.* exist
    figures = {
        "postgres": str(await connection.fetchval("SHOW server_version")),
        "pgvector": str(
            await connection.fetchval(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
            )
        ),
    }
    for name in SETTINGS:
        figures[name] = str(await connection.fetchval("SELECT current_setting($1, true)", name))
    return figures
