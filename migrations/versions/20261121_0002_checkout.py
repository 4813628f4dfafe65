"""checkout: order numbers, payment tokens, pickup without an address, refunds, returns,
cart-reminder opt-out, the customer's app language (for pushes)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 09:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shops", sa.Column("order_counter", sa.Integer(), server_default="1000", nullable=False))
    op.add_column("shop_channels", sa.Column("payment_token", sa.Text(), nullable=True))
    op.add_column(
        "shipping_options",
        sa.Column("needs_address", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.add_column(
        "orders", sa.Column("refund_due", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column("orders", sa.Column("return_reason", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("client_language", sa.String(length=8), nullable=True))
    op.add_column(
        "customers",
        sa.Column("cart_reminders", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("customers", "cart_reminders")
    op.drop_column("customers", "client_language")
    op.drop_column("orders", "return_reason")
    op.drop_column("orders", "refund_due")
    op.drop_column("shipping_options", "needs_address")
    op.drop_column("shop_channels", "payment_token")
    op.drop_column("shops", "order_counter")
