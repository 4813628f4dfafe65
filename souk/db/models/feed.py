"""The marketplace price feed of a shop (Kaspi.kz format): its settings, the last document
published and the state of the last attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt


class KaspiFeed(Base):
    """One shop's Kaspi price feed.

    The published document is kept gzip-compressed in the row (every web replica serves
    the same one); `document` is deferred so reading the settings never loads it. Only a
    SHA-256 of the access secret is kept: the secret is shown once, when it is made.
    """

    __tablename__ = "kaspi_feeds"

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    merchant_id: Mapped[str] = mapped_column(String(64))
    company: Mapped[str] = mapped_column(String(200))
    store_ids: Mapped[list[str]] = mapped_column(JSONB)
    # Category slugs whose products are offered; empty: every active product.
    categories: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # Products priced in another currency are left out (a USD price is no tenge price).
    currency: Mapped[str] = mapped_column(String(3), server_default="KZT")
    secret_hash: Mapped[str] = mapped_column(String(64))
    # What the offers looked like at the last attempt: unchanged, nothing is regenerated.
    checked_fingerprint: Mapped[str | None] = mapped_column(String(64))

    document: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    etag: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offers: Mapped[int] = mapped_column(Integer, server_default="0")
    available: Mapped[int] = mapped_column(Integer, server_default="0")
    size_bytes: Mapped[int] = mapped_column(Integer, server_default="0")

    # Set while attempts are refused (cleared by the next publication): staff are told
    # once per such streak, not once per attempt.
    refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refusal: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[CreatedAt]
