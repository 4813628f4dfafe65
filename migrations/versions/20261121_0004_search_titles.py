"""search: one column of every title with one trigram index (the OR of two titles, one of
them unindexed, made typo matching scan the table)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "products",
        sa.Column(
            "titles",
            sa.Text(),
            sa.Computed("title || ' ' || coalesce(translations #>> '{ru,title}', '')", persisted=True),
            nullable=False,
        ),
    )
    op.drop_index("ix_products_title_trgm", table_name="products")
    op.create_index(
        "ix_products_titles_trgm",
        "products",
        ["titles"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"titles": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_products_titles_trgm", table_name="products")
    op.create_index(
        "ix_products_title_trgm",
        "products",
        ["title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.drop_column("products", "titles")
