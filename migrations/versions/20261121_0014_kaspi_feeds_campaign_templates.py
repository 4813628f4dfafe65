"""kaspi feeds: each shop's marketplace price feed, its settings and the last good document;
campaigns count the WhatsApp customers skipped for want of a template apart

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-21 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kaspi_feeds",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("store_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "categories", postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"), nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), server_default="KZT", nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("checked_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("etag", sa.String(length=64), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("available", sa.Integer(), server_default="0", nullable=False),
        sa.Column("size_bytes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal", sa.String(length=300), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kaspi_feeds_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kaspi_feeds")),
        sa.UniqueConstraint("shop_id", name=op.f("uq_kaspi_feeds_shop_id")),
    )
    op.add_column(
        "campaigns",
        sa.Column("skipped_no_template", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("campaigns", "skipped_no_template")
    op.drop_table("kaspi_feeds")
