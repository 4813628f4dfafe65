"""Categories, products, shipping options and FAQ entries of a shop."""

from __future__ import annotations

from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt, Money

EMBEDDING_DIMENSIONS = 384

# 'simple' keeps words as they are, so one index serves English, Russian and Arabic;
# the Russian texts of a product are indexed next to the English ones.
_SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || "
    "coalesce(translations #>> '{ru,title}', '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(brand, '') || ' ' || sku), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(description, '') || ' ' || "
    "coalesce(translations #>> '{ru,description}', '')), 'C')"
)


_TITLES = "title || ' ' || coalesce(translations #>> '{ru,title}', '')"


class Category(Base):
    """A product category; `names` holds the translations ({"en": ..., "ru": ...})."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("shop_id", "slug"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    position: Mapped[int] = mapped_column(Integer, server_default="0")


class Product(Base):
    """A sellable item. Price and cost are Decimal; stock never goes below zero."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("shop_id", "sku"),
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        Index(
            "ix_products_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with={"m": 32, "ef_construction": 400},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_products_shop_category", "shop_id", "category_id"),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, server_default="")
    brand: Mapped[str | None] = mapped_column(String(100))
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    price: Mapped[Money]
    cost: Mapped[Money | None]
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer, server_default="0")
    attributes: Mapped[dict[str, object]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    photo_url: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    embedded_hash: Mapped[str | None] = mapped_column(String(64))
    search_vector: Mapped[str] = mapped_column(TSVECTOR, Computed(_SEARCH_VECTOR, persisted=True))
    # The titles in every language: their words are what misspelt search words are
    # corrected to (SearchWord, kept by triggers on this table).
    titles: Mapped[str] = mapped_column(Text, Computed(_TITLES, persisted=True))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class SearchWord(Base):
    """A word of a shop's product titles and how many products have it: what a misspelt
    search word is corrected against. Triggers on products keep it (migration 0008);
    the application only reads it."""

    __tablename__ = "search_words"
    __table_args__ = (
        Index(
            "ix_search_words_trgm",
            "shop_id",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
    )

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    word: Mapped[str] = mapped_column(Text, primary_key=True)
    products: Mapped[int] = mapped_column(Integer)


class ShippingOption(Base):
    """A way to deliver an order, with its price."""

    __tablename__ = "shipping_options"
    __table_args__ = (UniqueConstraint("shop_id", "code"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    names: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    price: Mapped[Money]
    eta_days_min: Mapped[int] = mapped_column(Integer, server_default="0")
    eta_days_max: Mapped[int] = mapped_column(Integer, server_default="0")
    needs_address: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class FaqEntry(Base):
    """A question the shop answers the same way every time."""

    __tablename__ = "faq_entries"

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    created_at: Mapped[CreatedAt]
