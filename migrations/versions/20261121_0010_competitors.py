"""competitors: who else sells our products, the offers we watch and what each check saw

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=12, scale=2)
RATING = sa.Numeric(precision=3, scale=2)
NOW = sa.text("now()")


def _offer_source() -> sa.Enum:
    return sa.Enum(
        "page", "marketplace", "file", name="offer_source", native_enum=False,
        create_constraint=True, length=16,
    )


def upgrade() -> None:
    op.create_table(
        "competitors",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("marketplace", sa.String(length=32), nullable=True),
        sa.Column("seller_id", sa.String(length=128), nullable=True),
        sa.Column("selectors", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("rating", RATING, nullable=True),
        sa.Column("is_excluded", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_ours", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_competitors_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitors")),
        sa.UniqueConstraint("shop_id", "name", name=op.f("uq_competitors_shop_id")),
    )
    op.create_index(op.f("ix_competitors_shop_id"), "competitors", ["shop_id"], unique=False)
    op.create_index(
        "uq_competitors_shop_marketplace_seller",
        "competitors",
        ["shop_id", "marketplace", "seller_id"],
        unique=True,
        postgresql_where=sa.text("seller_id IS NOT NULL"),
    )

    op.create_table(
        "competitor_offers",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("competitor_id", sa.BigInteger(), nullable=False),
        sa.Column("source", _offer_source(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("tier", sa.String(length=16), server_default="normal", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("in_stock", sa.Boolean(), nullable=True),
        sa.Column("rating", RATING, nullable=True),
        sa.Column("delivery", sa.String(length=200), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("problem", sa.String(length=300), nullable=True),
        sa.Column("added_by_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["competitor_id"], ["competitors.id"],
            name=op.f("fk_competitor_offers_competitor_id_competitors"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"],
            name=op.f("fk_competitor_offers_product_id_products"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_competitor_offers_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_offers")),
        sa.UniqueConstraint(
            "product_id", "competitor_id", "url", name=op.f("uq_competitor_offers_product_id")
        ),
    )
    op.create_index(
        "ix_competitor_offers_due",
        "competitor_offers",
        ["next_check_at"],
        unique=False,
        postgresql_where=sa.text("is_active"),
    )
    op.create_index(
        "ix_competitor_offers_shop_product",
        "competitor_offers",
        ["shop_id", "product_id"],
        unique=False,
    )

    op.create_table(
        "price_observations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("in_stock", sa.Boolean(), nullable=True),
        sa.Column("rating", RATING, nullable=True),
        sa.Column("problem", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["competitor_offers.id"],
            name=op.f("fk_price_observations_offer_id_competitor_offers"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_price_observations_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_observations")),
    )
    op.create_index(
        op.f("ix_price_observations_shop_id"), "price_observations", ["shop_id"], unique=False
    )
    op.create_index(
        "ix_price_observations_offer_observed",
        "price_observations",
        ["offer_id", "observed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("price_observations")
    op.drop_table("competitor_offers")
    op.drop_table("competitors")
