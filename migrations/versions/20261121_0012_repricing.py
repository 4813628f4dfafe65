"""repricing: rules per product or category, the shops' kill switch, every decision with
its rule trace

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-21 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=12, scale=2)
NOW = sa.text("now()")
_STRATEGIES = ("beat", "match", "position", "fixed")
_MODES = ("auto", "dry_run", "approve")
_NO_COMPETITOR = ("hold", "ceiling")
_STATUSES = (
    "held", "dry_run", "pending", "applied", "rejected", "expired", "stale", "reverted",
)


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _shop_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["shop_id"], ["shops.id"], name=op.f(f"fk_{table}_shop_id_shops"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "reprice_rules",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("category_id", sa.BigInteger(), nullable=True),
        sa.Column("strategy", _enum(_STRATEGIES, "reprice_strategy"), nullable=False),
        sa.Column("step", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("step_is_percent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("fixed_price", MONEY, nullable=True),
        sa.Column("min_price", MONEY, nullable=True),
        sa.Column("min_margin_percent", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("max_price", MONEY, nullable=True),
        sa.Column("max_change", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "max_change_is_percent", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("cooldown_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("min_rating", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column(
            "ignore_out_of_stock", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("no_competitor", _enum(_NO_COMPETITOR, "reprice_no_competitor"), nullable=True),
        sa.Column("mode", _enum(_MODES, "reprice_mode"), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (category_id IS NULL)",
            name=op.f("ck_reprice_rules_one_product_or_category"),
        ),
        sa.CheckConstraint("step IS NULL OR step > 0", name=op.f("ck_reprice_rules_step_positive")),
        sa.CheckConstraint(
            "max_change IS NULL OR max_change > 0",
            name=op.f("ck_reprice_rules_max_change_positive"),
        ),
        sa.CheckConstraint(
            "min_price IS NULL OR max_price IS NULL OR min_price <= max_price",
            name=op.f("ck_reprice_rules_floor_under_ceiling"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"],
            name=op.f("fk_reprice_rules_category_id_categories"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"],
            name=op.f("fk_reprice_rules_product_id_products"), ondelete="CASCADE",
        ),
        _shop_fk("reprice_rules"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reprice_rules")),
        sa.UniqueConstraint("category_id", name=op.f("uq_reprice_rules_category_id")),
        sa.UniqueConstraint("product_id", name=op.f("uq_reprice_rules_product_id")),
    )
    op.create_index(op.f("ix_reprice_rules_shop_id"), "reprice_rules", ["shop_id"], unique=False)

    op.create_table(
        "reprice_pauses",
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("paused_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        _shop_fk("reprice_pauses"),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_reprice_pauses")),
    )

    op.create_table(
        "reprice_decisions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=True),
        sa.Column("mode", _enum(_MODES, "reprice_mode"), nullable=False),
        sa.Column("status", _enum(_STATUSES, "reprice_decision_status"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("old_price", MONEY, nullable=False),
        sa.Column("proposed_price", MONEY, nullable=True),
        sa.Column("trace", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reverted_by", sa.BigInteger(), nullable=True),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"],
            name=op.f("fk_reprice_decisions_product_id_products"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["reprice_rules.id"],
            name=op.f("fk_reprice_decisions_rule_id_reprice_rules"), ondelete="SET NULL",
        ),
        _shop_fk("reprice_decisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reprice_decisions")),
    )
    op.create_index(
        op.f("ix_reprice_decisions_shop_id"), "reprice_decisions", ["shop_id"], unique=False
    )
    op.create_index(
        "ix_reprice_decisions_product_created",
        "reprice_decisions",
        ["product_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_reprice_decisions_pending",
        "reprice_decisions",
        ["product_id"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("reprice_decisions")
    op.drop_table("reprice_pauses")
    op.drop_table("reprice_rules")
