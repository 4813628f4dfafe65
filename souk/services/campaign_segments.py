"""Who a campaign goes to: its segment, and the customers a segment holds.

A segment holds the shop's Telegram and WhatsApp customers (not the demo web chat's
visitors) who have not opted out of campaigns (/stop, STOP or the opt-out button), have
not blocked the bot and are not the shop's staff; "bought in
a category" narrows it to customers with an order that was accepted and not undone
(confirmed, paid, shipped, delivered) holding a product of the category; "inactive N days"
to customers who have neither written nor ordered for N days.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import (
    Category,
    ChannelKind,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Staff,
)

# Orders that make their buyer a customer of the category: accepted and not undone.
BOUGHT = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
)
MAX_INACTIVE_DAYS = 3650


class SegmentKind(enum.StrEnum):
    ALL = "all"
    CATEGORY = "category"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class Segment:
    """Who a campaign goes to; `category_id` and `days` belong to their kinds."""

    kind: SegmentKind
    category_id: int = 0
    days: int = 0

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.kind.value}
        if self.kind is SegmentKind.CATEGORY:
            data["category_id"] = self.category_id
        elif self.kind is SegmentKind.INACTIVE:
            data["days"] = self.days
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Segment:
        return cls(
            SegmentKind(str(data["kind"])),
            category_id=int(str(data.get("category_id", 0))),
            days=int(str(data.get("days", 0))),
        )


@dataclass(frozen=True)
class SegmentView:
    """A segment with what it takes to name it (the category's names)."""

    segment: Segment
    category_names: Mapping[str, str] = field(default_factory=dict)
    category_name: str = ""

    def category_title(self, language: str) -> str:
        return (
            self.category_names.get(language)
            or self.category_name
            or f"#{self.segment.category_id}"
        )


async def describe(session: AsyncSession, shop_id: int, segment: Segment) -> SegmentView:
    """The segment with its category's names (a category deleted since: none)."""
    if segment.kind is not SegmentKind.CATEGORY:
        return SegmentView(segment)
    row = (
        await session.execute(
            select(Category.names, Category.name).where(
                Category.id == segment.category_id, Category.shop_id == shop_id
            )
        )
    ).one_or_none()
    return SegmentView(segment, row[0], row[1]) if row else SegmentView(segment)


def parse_days(raw: str) -> int | None:
    """Days of inactivity typed by staff: a whole number from 1 to MAX_INACTIVE_DAYS."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        return None
    days = int(text)
    return days if 1 <= days <= MAX_INACTIVE_DAYS else None


def audience(shop_id: int, segment: Segment, now: datetime) -> Select[int]:
    """The ids of the customers `segment` holds now (see the module's docstring)."""
    staff = select(Staff.telegram_user_id.cast(String)).where(Staff.shop_id == shop_id)
    query = select(Customer.id).where(
        Customer.shop_id == shop_id,
        Customer.channel.in_([ChannelKind.TELEGRAM, ChannelKind.WHATSAPP]),
        Customer.campaigns_opted_out_at.is_(None),
        Customer.blocked.is_(False),
        ~((Customer.channel == ChannelKind.TELEGRAM) & Customer.external_id.in_(staff)),
    )
    if segment.kind is SegmentKind.CATEGORY:
        bought = (
            select(Order.id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .join(Product, Product.id == OrderItem.product_id)
            .where(
                Order.customer_id == Customer.id,
                Order.shop_id == shop_id,
                Order.status.in_(BOUGHT),
                Product.category_id == segment.category_id,
            )
        )
        query = query.where(bought.exists())
    elif segment.kind is SegmentKind.INACTIVE:
        since = now - timedelta(days=segment.days)
        ordered = select(Order.id).where(
            Order.customer_id == Customer.id, Order.created_at >= since
        )
        query = query.where(
            func.coalesce(Customer.last_seen_at, Customer.created_at) < since, ~ordered.exists()
        )
    return query
