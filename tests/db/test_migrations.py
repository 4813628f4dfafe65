"""Migrations on a database of their own: head matches the models, and down and up both work.

Alembic's command functions run `asyncio.run` in migrations/env.py, so they are called
in a worker thread: the test's event loop is already running in this one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from souk.db.migrations import alembic_config
from souk.db.models import EMBEDDING_DIMENSIONS, Base, StockReason
from souk.db.session import create_engine
from souk.embedded import EmbeddedPostgres, EmbeddedServices

DATABASE = "souk_migrations"


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """The filter of migrations/env.py (which cannot be imported: it runs on import)."""
    return not (type_ == "table" and reflected and compare_to is None)


@pytest.fixture(scope="module")
def postgres(embedded: EmbeddedServices) -> EmbeddedPostgres:
    if embedded.postgres is None:
        pytest.skip("DATABASE_URL points at an external server: no database to create")
    return embedded.postgres


@pytest.fixture(scope="module")
async def migration_db(postgres: EmbeddedPostgres) -> AsyncIterator[Config]:
    """A fresh database migrated to head; dropped afterwards."""
    await asyncio.to_thread(postgres.psql, f'DROP DATABASE IF EXISTS "{DATABASE}"')
    await asyncio.to_thread(postgres.create_database, DATABASE)
    config = alembic_config(postgres.url(DATABASE))
    await asyncio.to_thread(command.upgrade, config, "head")
    yield config
    await asyncio.to_thread(postgres.psql, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


@pytest.fixture
async def db(migration_db: Config) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(str(migration_db.attributes["database_url"]), pool_size=1)
    yield engine
    await engine.dispose()


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": include_object,
            "target_metadata": Base.metadata,
        },
    )
    return list(compare_metadata(context, Base.metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_head_matches_the_models(db: AsyncEngine) -> None:
    async with db.connect() as connection:
        tables = await connection.run_sync(_table_names)
        drift = await connection.run_sync(_drift)
    assert set(Base.metadata.tables) <= tables
    assert drift == [], "models and migrations differ: write a migration"


async def index_definition(engine: AsyncEngine, name: str) -> str:
    async with engine.connect() as connection:
        definition = await connection.scalar(
            text(
                "SELECT indexdef FROM pg_indexes "
                "WHERE schemaname = 'public' AND tablename = 'products' AND indexname = :name"
            ),
            {"name": name},
        )
    assert definition is not None, f"index {name} is missing"
    return str(definition)


async def test_search_indexes_exist(db: AsyncEngine) -> None:
    hnsw = await index_definition(db, "ix_products_embedding_hnsw")
    assert "USING hnsw (embedding vector_cosine_ops)" in hnsw
    assert "m='32'" in hnsw
    assert "ef_construction='400'" in hnsw
    assert "USING gin (search_vector)" in await index_definition(db, "ix_products_search_vector")
    async with db.connect() as connection:
        words = await connection.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_search_words_trgm'")
        )
        titles = await connection.scalar(
            text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_products_titles_trgm'")
        )
    assert "USING gin (shop_id, word gin_trgm_ops)" in str(words)
    assert titles == 0  # spelling corrects against search_words now


async def test_price_is_numeric_and_embedding_is_vector(db: AsyncEngine) -> None:
    async with db.connect() as connection:
        price = (
            await connection.execute(
                text(
                    "SELECT data_type, numeric_precision, numeric_scale "
                    "FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = 'products' "
                    "AND column_name = 'price'"
                )
            )
        ).one()
        embedding = await connection.scalar(
            text(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'products'::regclass AND attname = 'embedding'"
            )
        )
    assert tuple(price) == ("numeric", 12, 2)
    assert embedding == f"vector({EMBEDDING_DIMENSIONS})"
    assert EMBEDDING_DIMENSIONS == 384


async def test_every_stock_reason_of_the_model_is_allowed(db: AsyncEngine) -> None:
    # Alembic does not compare check constraints: a reason added to the model needs its
    # migration, or writing it fails at run time.
    async with db.connect() as connection:
        definition = await connection.scalar(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'ck_stock_movements_stock_reason'"
            )
        )
    assert definition is not None
    assert {reason.value for reason in StockReason} == set(re.findall(r"'(\w+)'", definition))


# Last in the module: it leaves the database at head again for nothing else to rely on.
async def test_downgrade_to_base_and_upgrade_again(migration_db: Config, db: AsyncEngine) -> None:
    await asyncio.to_thread(command.downgrade, migration_db, "base")
    async with db.connect() as connection:
        left = await connection.run_sync(_table_names)
    assert left <= {"alembic_version"}

    await asyncio.to_thread(command.upgrade, migration_db, "head")
    async with db.connect() as connection:
        tables = await connection.run_sync(_table_names)
        drift = await connection.run_sync(_drift)
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert set(Base.metadata.tables) <= tables
    assert drift == []
    assert version == ScriptDirectory.from_config(migration_db).get_current_head()
