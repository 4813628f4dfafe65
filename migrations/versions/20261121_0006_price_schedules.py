"""price schedules: a file's prices and stock applied at a time and reverted later;
stock movements may have the reason "schedule"

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STOCK_REASONS = ("receive", "sale", "reserve", "release", "return", "adjust", "import", "sync")
_STATES = ("pending", "active", "applied", "reverted", "cancelled")
_RESULTS = ("done", "gone", "inactive", "below_floor", "changed")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _stock_reasons(values: Sequence[str]) -> None:
    allowed = ", ".join(f"'{value}'" for value in values)
    name = op.f("ck_stock_movements_stock_reason")
    op.drop_constraint(name, "stock_movements", type_="check")
    op.create_check_constraint(name, "stock_movements", f"reason IN ({allowed})")


def upgrade() -> None:
    _stock_reasons((*_STOCK_REASONS, "schedule"))
    op.create_table(
        "price_schedules",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("state", _enum(_STATES, "schedule_state"), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("apply_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revert_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "revert_at IS NULL OR revert_at > apply_at",
            name=op.f("ck_price_schedules_revert_after_apply"),
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_price_schedules_shop_id_shops"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_schedules")),
    )
    op.create_index(op.f("ix_price_schedules_shop_id"), "price_schedules", ["shop_id"], unique=False)
    op.create_index("ix_price_schedules_state_apply_at", "price_schedules", ["state", "apply_at"], unique=False)
    op.create_index("ix_price_schedules_state_revert_at", "price_schedules", ["state", "revert_at"], unique=False)
    op.create_table(
        "price_schedule_rows",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("old_price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("old_stock", sa.Integer(), nullable=True),
        sa.Column("applied", _enum(_RESULTS, "applied"), nullable=True),
        sa.Column("price_reverted", _enum(_RESULTS, "price_reverted"), nullable=True),
        sa.Column("stock_reverted", _enum(_RESULTS, "stock_reverted"), nullable=True),
        sa.CheckConstraint("price > 0", name=op.f("ck_price_schedule_rows_price_positive")),
        sa.CheckConstraint(
            "stock IS NULL OR stock >= 0", name=op.f("ck_price_schedule_rows_stock_non_negative")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_price_schedule_rows_product_id_products"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["schedule_id"], ["price_schedules.id"], name=op.f("fk_price_schedule_rows_schedule_id_price_schedules"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_schedule_rows")),
    )
    op.create_index(op.f("ix_price_schedule_rows_product_id"), "price_schedule_rows", ["product_id"], unique=False)
    op.create_index(op.f("ix_price_schedule_rows_schedule_id"), "price_schedule_rows", ["schedule_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_price_schedule_rows_schedule_id"), table_name="price_schedule_rows")
    op.drop_index(op.f("ix_price_schedule_rows_product_id"), table_name="price_schedule_rows")
    op.drop_table("price_schedule_rows")
    op.drop_index("ix_price_schedules_state_revert_at", table_name="price_schedules")
    op.drop_index("ix_price_schedules_state_apply_at", table_name="price_schedules")
    op.drop_index(op.f("ix_price_schedules_shop_id"), table_name="price_schedules")
    op.drop_table("price_schedules")
    # The history stays: a scheduled change reads as an adjustment (its note names it).
    op.execute("UPDATE stock_movements SET reason = 'adjust' WHERE reason = 'schedule'")
    _stock_reasons(_STOCK_REASONS)
