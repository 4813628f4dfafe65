"""campaigns: campaigns and their recipients, customers' opt-out, outbox priority

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUE = sa.text("status IN ('pending', 'sending')")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("campaigns_opted_out_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "outbox", sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False)
    )
    op.drop_index("ix_outbox_due", table_name="outbox", postgresql_where=_DUE)
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["priority", "next_attempt_at", "id"],
        unique=False,
        postgresql_where=_DUE,
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("author_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("segment", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sa.String(length=256), nullable=True),
        sa.Column("button", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "status",
            _enum("campaign_status", "draft", "sending", "done", "cancelled"),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("recipients", sa.Integer(), server_default="0", nullable=False),
        sa.Column("queued", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("dropped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("stats_message_id", sa.Integer(), nullable=True),
        sa.Column("stats_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_campaigns_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_shop_id"), "campaigns", ["shop_id"], unique=False)
    op.create_index(
        "uq_campaigns_sending_shop",
        "campaigns",
        ["shop_id"],
        unique=True,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_table(
        "campaign_recipients",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            _enum("recipient_state", "pending", "queued", "skipped", "dropped"),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_campaign_recipients_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_campaign_recipients")),
    )
    op.create_index(
        "ix_campaign_recipients_pending",
        "campaign_recipients",
        ["campaign_id", "customer_id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_campaign_recipients_pending",
        table_name="campaign_recipients",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.drop_table("campaign_recipients")
    op.drop_index(
        "uq_campaigns_sending_shop",
        table_name="campaigns",
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.drop_index(op.f("ix_campaigns_shop_id"), table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_index("ix_outbox_due", table_name="outbox", postgresql_where=_DUE)
    op.create_index(
        "ix_outbox_due", "outbox", ["next_attempt_at", "id"], unique=False, postgresql_where=_DUE
    )
    op.drop_column("outbox", "priority")
    op.drop_column("customers", "campaigns_opted_out_at")
