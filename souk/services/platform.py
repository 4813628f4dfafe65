"""What platform admins see across every shop: the shops and the platform's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from souk.db.models import ChannelKind, Customer, Order, Product, Shop, ShopChannel, Staff
from souk.services.reports import SOLD


@dataclass(frozen=True)
class ShopLine:
    slug: str
    name: str
    active: bool
    products: int
    customers: int
    staff: int
    orders_today: int


@dataclass(frozen=True)
class PlatformFigures:
    shops: int
    customers: int
    blocked: int
    orders_day: int
    revenue_day: dict[str, Decimal]  # currency -> orders' totals of the last 24 h


class PlatformService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def shop_count(self) -> int:
        return await self._session.scalar(select(func.count()).select_from(Shop)) or 0

    async def shops(self, now: datetime, *, limit: int = 50, offset: int = 0) -> list[ShopLine]:
        """Shops (the newest first) with what they hold and their orders of 24 h."""

        def count(
            shop_id: InstrumentedAttribute[int], *where: ColumnElement[bool]
        ) -> ScalarSelect[int]:
            return select(func.count()).where(shop_id == Shop.id, *where).scalar_subquery()

        rows = await self._session.execute(
            select(
                Shop.slug,
                Shop.name,
                Shop.is_active,
                count(Product.shop_id),
                count(Customer.shop_id),
                count(Staff.shop_id),
                count(Order.shop_id, Order.created_at >= now - timedelta(days=1)),
            )
            .order_by(Shop.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [ShopLine(*row) for row in rows]

    async def figures(self, now: datetime) -> PlatformFigures:
        day_ago = now - timedelta(days=1)
        shops = await self._session.scalar(select(func.count()).select_from(Shop))
        customers, blocked = (
            await self._session.execute(
                select(func.count(), func.count().filter(Customer.blocked.is_(True))).select_from(
                    Customer
                )
            )
        ).one()
        sold = (Order.created_at >= day_ago, Order.status.in_(SOLD))
        orders = await self._session.scalar(select(func.count()).select_from(Order).where(*sold))
        revenue = await self._session.execute(
            select(Order.currency, func.sum(Order.total))
            .where(*sold)
            .group_by(Order.currency)
            .order_by(Order.currency)
        )
        return PlatformFigures(
            shops or 0,
            customers,
            blocked,
            orders or 0,
            {currency: total for currency, total in revenue},
        )

    async def staff_reached(self) -> dict[int, int]:
        """The staff count of every active shop with an active Telegram bot: whom an
        announcement reaches, each shop's staff through the shop's own bot."""
        bots = select(ShopChannel.shop_id).where(
            ShopChannel.kind == ChannelKind.TELEGRAM, ShopChannel.is_active.is_(True)
        )
        rows = await self._session.execute(
            select(Staff.shop_id, func.count())
            .join(Shop, Shop.id == Staff.shop_id)
            .where(Shop.is_active.is_(True), Staff.shop_id.in_(bots))
            .group_by(Staff.shop_id)
            .order_by(Staff.shop_id)
        )
        return {shop_id: count for shop_id, count in rows}
