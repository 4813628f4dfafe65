"""search: each shop's title words (search_words), kept by triggers on products, so that a
misspelt search word is corrected against a few thousand words instead of trigram-matching
every title (whose index goes)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words of a title as full text has them ('simple': lower case, as written), and
# which of them are kept: those with a letter and three characters or more (trigrams
# compare nothing shorter, and a number is not misspelt). Kept apart, so that a
# statement's words are counted first and checked once each.
_TITLE_WORDS = """
CREATE FUNCTION search_title_lexemes(titles text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT unnest(tsvector_to_array(to_tsvector('simple', titles)))
$$
"""
_IS_WORD = """
CREATE FUNCTION search_word(word text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT length(word) >= 3 AND word ~ '[[:alpha:]]'
$$
"""

# Adds `delta` products to each (shop, word) kept, in one upsert sorted by word (every
# writer locks the rows it changes in the same order), then drops the words no product
# has any more. A word losing products is only counted down if it is there: when a shop
# is deleted, its words go before its products do.
_APPLY = """
CREATE FUNCTION search_words_apply(shop_ids bigint[], words text[], deltas integer[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_words AS known (shop_id, word, products)
    SELECT shop_id, word, delta FROM (
        SELECT shop_id, word, sum(delta)::integer AS delta
        FROM unnest(shop_ids, words, deltas) AS c(shop_id, word, delta)
        GROUP BY shop_id, word
    ) AS c
    WHERE search_word(word) AND (delta > 0 OR delta < 0 AND EXISTS (
        SELECT FROM search_words AS k WHERE k.shop_id = c.shop_id AND k.word = c.word
    ))
    ORDER BY shop_id, word
    ON CONFLICT (shop_id, word) DO UPDATE SET products = known.products + excluded.products;
    DELETE FROM search_words AS known USING unnest(shop_ids, words) AS c(shop_id, word)
    WHERE known.shop_id = c.shop_id AND known.word = c.word AND known.products <= 0;
$$
"""

# Inserts and deletes: once per statement, over all its rows (an import's batch, COPY).
_STATEMENT_TRIGGER = """
CREATE FUNCTION search_words_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_words_apply(array_agg(c.shop_id), array_agg(c.word), array_agg(c.delta))
    FROM (
        SELECT p.shop_id, w.word, {sign}count(*)::integer AS delta
        FROM {rows} AS p, search_title_lexemes(p.titles) AS w(word)
        GROUP BY p.shop_id, w.word
    ) AS c;
    RETURN NULL;
END
$$
---
CREATE TRIGGER search_words_{name} AFTER {event} ON products
REFERENCING {transition} TABLE AS {rows} FOR EACH STATEMENT
EXECUTE FUNCTION search_words_{name}()
"""

# Updates: only of a row whose titles changed (a stock or price update never fires it).
_RETITLED = """
CREATE FUNCTION search_words_retitled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_words_apply(array_agg(c.shop_id), array_agg(c.word), array_agg(c.delta))
    FROM (
        SELECT OLD.shop_id AS shop_id, word, -1 AS delta
        FROM search_title_lexemes(OLD.titles) AS word
        UNION ALL
        SELECT NEW.shop_id, word, 1 FROM search_title_lexemes(NEW.titles) AS word
    ) AS c;
    RETURN NULL;
END
$$
---
CREATE TRIGGER search_words_retitled AFTER UPDATE OF title, translations, shop_id ON products
FOR EACH ROW WHEN (OLD.titles IS DISTINCT FROM NEW.titles OR OLD.shop_id <> NEW.shop_id)
EXECUTE FUNCTION search_words_retitled()
"""

_TRIGGERS = [
    _STATEMENT_TRIGGER.format(
        name="inserted", event="INSERT", transition="NEW", rows="new_products", sign=""
    ),
    _STATEMENT_TRIGGER.format(
        name="deleted", event="DELETE", transition="OLD", rows="old_products", sign="-"
    ),
    _RETITLED,
]


def upgrade() -> None:
    # btree_gin: one GIN index over the shop and the word's trigrams.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_table(
        "search_words",
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("word", sa.Text(), nullable=False),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_search_words_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shop_id", "word", name=op.f("pk_search_words")),
    )
    op.create_index(
        "ix_search_words_trgm",
        "search_words",
        ["shop_id", "word"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.execute(_TITLE_WORDS)
    op.execute(_IS_WORD)
    op.execute(_APPLY)
    for trigger in _TRIGGERS:
        for statement in trigger.split("---"):  # asyncpg runs one statement at a time
            op.execute(statement)
    op.execute(
        "INSERT INTO search_words (shop_id, word, products) "
        "SELECT shop_id, word, count(*) FROM products, search_title_lexemes(titles) AS word "
        "WHERE search_word(word) GROUP BY shop_id, word"
    )
    op.drop_index("ix_products_titles_trgm", table_name="products")


def downgrade() -> None:
    op.create_index(
        "ix_products_titles_trgm",
        "products",
        ["titles"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"titles": "gin_trgm_ops"},
    )
    for name in ("inserted", "deleted", "retitled"):
        op.execute(f"DROP TRIGGER search_words_{name} ON products")
        op.execute(f"DROP FUNCTION search_words_{name}()")
    op.execute("DROP FUNCTION search_words_apply(bigint[], text[], integer[])")
    op.execute("DROP FUNCTION search_word(text)")
    op.execute("DROP FUNCTION search_title_lexemes(text)")
    op.drop_index("ix_search_words_trgm", table_name="search_words")
    op.drop_table("search_words")
