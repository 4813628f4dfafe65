"""Campaigns staff send to a segment of their customers, and who each one goes to."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt
from souk.db.models.shop import str_enum


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"  # previewed, not sent
    SENDING = "sending"  # recipients chosen; their pushes are being queued and delivered
    DONE = "done"
    CANCELLED = "cancelled"  # a draft dropped, or a sending campaign stopped


class RecipientState(enum.StrEnum):
    PENDING = "pending"  # not handed to the outbox yet
    QUEUED = "queued"  # its push is in the outbox (`outbox_id`)
    SKIPPED = "skipped"  # opted out or blocked the bot before their turn
    DROPPED = "dropped"  # the campaign was stopped before their turn


class Campaign(Base):
    """One message (text, optional photo and button) to a segment of a shop's customers.

    `segment` is the spec the recipients were chosen by ({"kind": "all"}, {"kind":
    "category", "category_id": 3}, {"kind": "inactive", "days": 30}); `button` is
    {"kind": "url", "label": ..., "url": ...} or {"kind": "catalog"}. The counters are kept
    by the sender; delivery figures are counted from the outbox rows of the recipients.
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        # One campaign of a shop sends at a time.
        Index(
            "uq_campaigns_sending_shop",
            "shop_id",
            unique=True,
            postgresql_where=text("status = 'sending'"),
        ),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    author_telegram_id: Mapped[int] = mapped_column(BigInteger)
    segment: Mapped[dict[str, object]] = mapped_column(JSONB)
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    button: Mapped[dict[str, object] | None] = mapped_column(JSONB(none_as_null=True))
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus, "campaign_status"), server_default="draft"
    )
    recipients: Mapped[int] = mapped_column(Integer, server_default="0")
    queued: Mapped[int] = mapped_column(Integer, server_default="0")
    skipped: Mapped[int] = mapped_column(Integer, server_default="0")
    # Of `skipped`: WhatsApp customers outside their 24-hour window, no campaign template set.
    skipped_no_template: Mapped[int] = mapped_column(Integer, server_default="0")
    dropped: Mapped[int] = mapped_column(Integer, server_default="0")
    # The author's message that shows the live figures, and when it was last edited.
    stats_message_id: Mapped[int | None] = mapped_column(Integer)
    stats_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignRecipient(Base):
    """A customer a campaign goes to, chosen when it was sent; `outbox_id` is their push
    (no foreign key: the outbox may be purged without touching campaigns)."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        Index(
            "ix_campaign_recipients_pending",
            "campaign_id",
            "customer_id",
            postgresql_where=text("state = 'pending'"),
        ),
    )

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[RecipientState] = mapped_column(
        str_enum(RecipientState, "recipient_state"), server_default="pending"
    )
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)
