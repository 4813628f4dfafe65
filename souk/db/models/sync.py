"""Catalog sync with a shop's online store (Shopify, WooCommerce): the sources and the
links between their items and souk's products."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt, Money
from souk.db.models.shop import str_enum


class SyncKind(enum.StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"


class SyncSource(Base):
    """An online store whose catalog souk keeps in step with a shop's.

    A run reads the items updated since `watermark` page by page, each page committed with
    its `cursor`, so a run that failed halfway resumes after the last committed page
    (`run_started_at` set means a run is unfinished). `lease_until` keeps a second run of
    the same source from starting while one is alive.
    """

    __tablename__ = "sync_sources"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "base_url"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SyncKind] = mapped_column(str_enum(SyncKind, "sync_kind"))
    base_url: Mapped[str] = mapped_column(Text)
    # Secrets: never logged; `__repr__` leaves them out. Shopify: the Admin API access
    # token in `api_secret`; WooCommerce: the consumer key and consumer secret.
    api_key: Mapped[str | None] = mapped_column(Text)
    api_secret: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Items updated after this are read by the next run (None: all of them).
    watermark: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cursor: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When a run last read every item (not only the updated ones).
    last_full_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[CreatedAt]

    def __repr__(self) -> str:
        return f"SyncSource(id={self.id}, kind={self.kind}, base_url={self.base_url})"


class SyncLink(Base):
    """One item of a source (a variant, or a product without variants: `remote_variant_id`
    "") and the souk product it is.

    `synced_*` are the values both sides agreed on at the last sync; `remote_*` what the
    source said when last read. A side whose value differs from `synced_*` changed it
    since; when both did, to different values, the change is a conflict and neither is
    overwritten. Stock is None when the source does not track it.
    """

    __tablename__ = "sync_links"
    __table_args__ = (
        UniqueConstraint("source_id", "remote_product_id", "remote_variant_id"),
        UniqueConstraint("source_id", "product_id", name="uq_sync_links_source_product"),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sync_sources.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    remote_product_id: Mapped[str] = mapped_column(String(100))
    remote_variant_id: Mapped[str] = mapped_column(String(100), server_default="")
    # Shopify's inventory item of the variant (stock is written through it).
    remote_inventory_id: Mapped[str | None] = mapped_column(String(100))
    synced_price: Mapped[Money]
    synced_stock: Mapped[int | None] = mapped_column(Integer)
    remote_price: Mapped[Money]
    # As the source said it: may be negative (souk's stock is then 0).
    remote_stock: Mapped[int | None] = mapped_column(Integer)
    remote_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
