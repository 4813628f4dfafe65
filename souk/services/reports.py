"""Sales reports of a shop for a period in its own time zone: revenue, orders, cost of
goods, gross profit and margin, top products, day by day; and the age of the stock."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import (
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Shop,
    StockMovement,
    StockReason,
)
from souk.services.shops import shop_zone

# Orders that count as sales: placed and not undone (cancelled, rejected or returned).
SOLD = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.CONFIRMED,
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.RETURN_REQUESTED,
    }
)
AGING_BUCKETS = ((0, 30), (31, 90), (91, 180), (181, None))
ZERO = Decimal("0")


class PeriodKind(enum.StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date
    last: date  # inclusive

    @classmethod
    def ending(cls, kind: PeriodKind, today: date) -> Period:
        if kind is PeriodKind.YESTERDAY:
            day = today - timedelta(days=1)
            return cls(kind, day, day)
        days = {PeriodKind.TODAY: 1, PeriodKind.WEEK: 7, PeriodKind.MONTH: 30}[kind]
        return cls(kind, today - timedelta(days=days - 1), today)

    @property
    def days(self) -> list[date]:
        count = (self.last - self.first).days + 1
        return [self.first + timedelta(days=n) for n in range(count)]


@dataclass(frozen=True)
class Day:
    day: date
    revenue: Decimal
    profit: Decimal


@dataclass(frozen=True)
class TopProduct:
    sku: str
    title: str
    quantity: int
    revenue: Decimal


@dataclass(frozen=True)
class AgingBucket:
    low: int
    high: int | None  # None: and older
    units: int
    value: Decimal


@dataclass(frozen=True)
class SalesReport:
    period: Period
    currency: str
    orders: int
    revenue: Decimal  # goods only; delivery is not the shop's revenue from products
    cost: Decimal
    lines_without_cost: int
    days: list[Day]
    top: list[TopProduct]
    aging: list[AgingBucket]

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin(self) -> Decimal | None:
        return (
            None
            if not self.revenue
            else (self.profit / self.revenue * 100).quantize(Decimal("0.1"))
        )


class ReportService:
    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self._session = session
        self._shop_id = shop_id

    async def sales(self, kind: PeriodKind, now: datetime, *, top: int = 5) -> SalesReport:
        shop = await self._session.get_one(Shop, self._shop_id)
        zone = shop_zone(shop.timezone)
        period = Period.ending(kind, now.astimezone(zone).date())
        start = datetime.combine(period.first, time(), zone)
        end = datetime.combine(period.last + timedelta(days=1), time(), zone)
        rows = await self._session.execute(
            select(Order.id, Order.created_at, OrderItem)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(
                Order.shop_id == self._shop_id,
                Order.status.in_(SOLD),
                Order.created_at >= start,
                Order.created_at < end,
            )
        )
        orders: set[int] = set()
        revenue_by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
        cost_by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
        by_sku: dict[str, TopProduct] = {}
        without_cost = 0
        for order_id, created_at, item in rows:
            orders.add(order_id)
            day = created_at.astimezone(zone).date()
            revenue = item.unit_price * item.quantity
            revenue_by_day[day] += revenue
            if item.unit_cost is None:
                without_cost += 1
            else:
                cost_by_day[day] += item.unit_cost * item.quantity
            seen = by_sku.get(item.sku)
            by_sku[item.sku] = TopProduct(
                item.sku,
                item.title,
                (seen.quantity if seen else 0) + item.quantity,
                (seen.revenue if seen else ZERO) + revenue,
            )
        days = [
            Day(day, revenue_by_day[day], revenue_by_day[day] - cost_by_day[day])
            for day in period.days
        ]
        return SalesReport(
            period=period,
            currency=shop.currency,
            orders=len(orders),
            revenue=sum(revenue_by_day.values(), ZERO),
            cost=sum(cost_by_day.values(), ZERO),
            lines_without_cost=without_cost,
            days=days,
            top=sorted(by_sku.values(), key=lambda p: (-p.revenue, p.sku))[:top],
            aging=await self._aging(now),
        )

    async def _aging(self, now: datetime) -> list[AgingBucket]:
        """Units in stock by days since the product last received goods (or was created)."""
        last_received = (
            select(func.max(StockMovement.created_at))
            .where(
                StockMovement.product_id == Product.id,
                StockMovement.reason == StockReason.RECEIVE,
            )
            .scalar_subquery()
        )
        rows = await self._session.execute(
            select(
                Product.stock,
                Product.cost,
                func.coalesce(last_received, Product.created_at),
            ).where(
                Product.shop_id == self._shop_id,
                Product.is_active.is_(True),
                Product.stock > 0,
            )
        )
        units = [0] * len(AGING_BUCKETS)
        value = [ZERO] * len(AGING_BUCKETS)
        for stock, cost, since in rows:
            age = (now - since).days
            index = next(
                i for i, (low, high) in enumerate(AGING_BUCKETS) if high is None or age <= high
            )
            units[index] += stock
            value[index] += (cost or ZERO) * stock
        return [
            AgingBucket(low, high, units[i], value[i])
            for i, (low, high) in enumerate(AGING_BUCKETS)
        ]
