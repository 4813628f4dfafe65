"""sync: a shop's Shopify or WooCommerce store and the links of its items to products

Revision ID: 0013
Revises: 0016
Create Date: 2026-11-21 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=12, scale=2)
NOW = sa.text("now()")


def _when(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.create_table(
        "sync_sources",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "shopify", "woocommerce", name="sync_kind", native_enum=False,
                create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("api_key", sa.Text(), nullable=True),
        sa.Column("api_secret", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _when("watermark"),
        _when("run_started_at"),
        _when("run_since"),
        sa.Column("cursor", sa.Text(), nullable=True),
        _when("lease_until"),
        _when("last_run_at"),
        _when("last_full_at"),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_sync_sources_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_sources")),
        sa.UniqueConstraint("shop_id", "kind", "base_url", name=op.f("uq_sync_sources_shop_id")),
    )
    op.create_index(op.f("ix_sync_sources_shop_id"), "sync_sources", ["shop_id"], unique=False)

    op.create_table(
        "sync_links",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("remote_product_id", sa.String(length=100), nullable=False),
        sa.Column("remote_variant_id", sa.String(length=100), server_default="", nullable=False),
        sa.Column("remote_inventory_id", sa.String(length=100), nullable=True),
        sa.Column("synced_price", MONEY, nullable=False),
        sa.Column("synced_stock", sa.Integer(), nullable=True),
        sa.Column("remote_price", MONEY, nullable=False),
        sa.Column("remote_stock", sa.Integer(), nullable=True),
        _when("remote_updated_at"),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_sync_links_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_sync_links_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sync_sources.id"],
            name=op.f("fk_sync_links_source_id_sync_sources"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_links")),
        sa.UniqueConstraint(
            "source_id", "remote_product_id", "remote_variant_id",
            name=op.f("uq_sync_links_source_id"),
        ),
        sa.UniqueConstraint(
            "source_id", "product_id", name=op.f("uq_sync_links_source_product")
        ),
    )
    op.create_index(op.f("ix_sync_links_shop_id"), "sync_links", ["shop_id"], unique=False)
    op.create_index(op.f("ix_sync_links_product_id"), "sync_links", ["product_id"], unique=False)


def downgrade() -> None:
    op.drop_table("sync_links")
    op.drop_table("sync_sources")
