"""Abandoned carts: which ones to remind about now (once per change of the cart, never in
the shop's quiet hours, never to a customer who opted out or ordered since)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import CartSettings
from souk.db.models import Cart, CartItem, Customer, Order, Shop
from souk.services.shops import shop_zone


@dataclass(frozen=True)
class DueCart:
    cart_id: int
    shop_id: int
    customer_id: int
    updated_at: datetime


class CartReminders:
    def __init__(self, session: AsyncSession, settings: CartSettings) -> None:
        self._session = session
        self._settings = settings

    async def due(self, now: datetime, *, limit: int = 200) -> list[DueCart]:
        """Carts left alone long enough (but not too long ago), not reminded about since
        they last changed, whose shop is outside its quiet hours now."""
        settings = self._settings
        ordered_since = exists().where(
            Order.customer_id == Cart.customer_id, Order.created_at >= Cart.updated_at
        )
        rows = await self._session.execute(
            select(Cart.id, Cart.shop_id, Cart.customer_id, Cart.updated_at, Shop.timezone)
            .join(Customer, Customer.id == Cart.customer_id)
            .join(Shop, Shop.id == Cart.shop_id)
            .where(
                Cart.reminded_at.is_(None),
                Cart.updated_at < now - timedelta(minutes=settings.reminder_after_minutes),
                Cart.updated_at > now - timedelta(days=settings.reminder_max_age_days),
                Customer.cart_reminders.is_(True),
                Customer.blocked.is_(False),
                Shop.is_active.is_(True),
                exists().where(CartItem.cart_id == Cart.id),
                ~ordered_since,
            )
            .order_by(Cart.updated_at)
            .limit(limit)
        )
        return [
            DueCart(cart_id, shop_id, customer_id, updated_at)
            for cart_id, shop_id, customer_id, updated_at, timezone in rows
            if not settings.quiet_at(now.astimezone(shop_zone(timezone)).hour)
        ]

    async def mark_reminded(self, cart_id: int, now: datetime) -> None:
        """Remembered without touching `updated_at` (which would re-arm the reminder)."""
        await self._session.execute(
            update(Cart)
            .where(Cart.id == cart_id)
            .values(reminded_at=now, updated_at=Cart.updated_at)
        )
