"""whatsapp: delivery statuses of the messages we send

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_statuses",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "telegram", "whatsapp", "web", name="channel_kind", native_enum=False,
                create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("receiver", sa.String(length=64), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_statuses")),
        sa.UniqueConstraint(
            "channel", "receiver", "provider_message_id", "status",
            name=op.f("uq_delivery_statuses_channel"),
        ),
    )
    op.create_index(
        op.f("ix_delivery_statuses_provider_message_id"),
        "delivery_statuses",
        ["provider_message_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("delivery_statuses")
