"""Competitors, the offers of theirs we watch, and what each check of an offer saw."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from souk.db.models.base import Base, BigId, CreatedAt, Money
from souk.db.models.shop import str_enum


class OfferSource(enum.StrEnum):
    """Where an offer's price is read from."""

    PAGE = "page"  # the competitor's product page (JSON-LD, microdata, OpenGraph, selectors)
    MARKETPLACE = "marketplace"  # one seller's row in a marketplace's list for the product
    FILE = "file"  # a price staff gave in a file: not checked by the monitor


class Competitor(Base):
    """Another seller of the shop's products: a web shop (by host) or a marketplace
    seller (by its id there). `is_excluded` leaves its offers out of repricing;
    `is_ours` marks the shop's own store on a marketplace."""

    __tablename__ = "competitors"
    __table_args__ = (
        UniqueConstraint("shop_id", "name"),
        Index(
            "uq_competitors_shop_marketplace_seller",
            "shop_id",
            "marketplace",
            "seller_id",
            unique=True,
            postgresql_where=text("seller_id IS NOT NULL"),
        ),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The web host its pages live on ("shop.example.kz"); None for a marketplace seller.
    host: Mapped[str | None] = mapped_column(String(255))
    # A marketplace seller: which marketplace and the seller's id there.
    marketplace: Mapped[str | None] = mapped_column(String(32))
    seller_id: Mapped[str | None] = mapped_column(String(128))
    # CSS selectors for pages without structured data: {"price": ..., "currency": ...,
    # "availability": ..., "title": ...} (connectors.pages.SelectorSet).
    selectors: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    is_excluded: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_ours: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[CreatedAt]


class CompetitorOffer(Base):
    """One competitor's offer of one of our products, with the last good observation
    kept on the row (the price history is in PriceObservation)."""

    __tablename__ = "competitor_offers"
    __table_args__ = (
        UniqueConstraint("product_id", "competitor_id", "url"),
        Index("ix_competitor_offers_due", "next_check_at", postgresql_where=text("is_active")),
        Index("ix_competitor_offers_shop_product", "shop_id", "product_id"),
    )

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    competitor_id: Mapped[int] = mapped_column(ForeignKey("competitors.id", ondelete="CASCADE"))
    source: Mapped[OfferSource] = mapped_column(str_enum(OfferSource, "offer_source"))
    # The product page, or the marketplace's page/API address of the product's offer list.
    url: Mapped[str] = mapped_column(Text)
    # How often it is checked: a tier name of MONITOR_TIER_MINUTES.
    tier: Mapped[str] = mapped_column(String(16), server_default="normal")
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The last good observation (kept when a later check fails).
    price: Mapped[Money | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    in_stock: Mapped[bool | None] = mapped_column(Boolean)
    # The seller's rating and delivery, when the source gives them (marketplaces).
    rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    delivery: Mapped[str | None] = mapped_column(String(200))
    observed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last check, good or not.
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer, server_default="0")
    problem: Mapped[str | None] = mapped_column(String(300))
    added_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]


class PriceObservation(Base):
    """What one check of an offer saw: a price (with its currency and stock), or the
    problem that kept it from seeing one."""

    __tablename__ = "price_observations"
    __table_args__ = (Index("ix_price_observations_offer_observed", "offer_id", "observed_at"),)

    id: Mapped[BigId]
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("competitor_offers.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    price: Mapped[Money | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    in_stock: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    # Why there is no price: unparseable page, another currency, out of the sanity
    # band, fetch failed (FetchProblem / PageProblem values).
    problem: Mapped[str | None] = mapped_column(String(300))
