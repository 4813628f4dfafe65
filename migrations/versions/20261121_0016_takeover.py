"""takeover: who of the staff answers a conversation, and indexes for the beat tasks

Revision ID: 0016
Revises: 0010
Create Date: 2026-11-21 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("staff_telegram_id", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_conversations_human_until",
        "conversations",
        ["human_until"],
        postgresql_where=sa.text("mode = 'human'"),
    )
    op.create_index("ix_messages_created", "messages", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_created", table_name="messages")
    op.drop_index("ix_conversations_human_until", table_name="conversations")
    op.drop_column("conversations", "staff_telegram_id")
