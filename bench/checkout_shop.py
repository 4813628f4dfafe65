"""The checkout race's shop in the database: made before the race, inspected after it."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    Customer,
    InboundStatus,
    InboundUpdate,
    Order,
    OrderItem,
    Product,
    ShippingOption,
    StockMovement,
    StockReason,
)
from souk.services.shops import ShopService

PRICE = Decimal("49.90")


@dataclass(frozen=True)
class BenchShop:
    """A shop with its bot connected and one shipping option: pickup, free, no address."""

    shop_id: int
    bot_id: int
    webhook_secret: str


@dataclass(frozen=True)
class Ledger:
    """What the database says about one product after a race."""

    stock: int
    buyers: list[int]  # Telegram user id of each order with the product, one per order
    movements: list[tuple[StockReason, int, int]]  # (reason, delta, stock after), in order

    @property
    def consistent(self) -> bool:
        """One reservation of the one unit, leaving nothing."""
        return self.movements == [(StockReason.RESERVE, -1, 0)]

    @property
    def never_negative(self) -> bool:
        return self.stock >= 0 and all(after >= 0 for _, _, after in self.movements)


async def create_shop(session_factory: async_sessionmaker[AsyncSession], token: str) -> BenchShop:
    """A fresh shop with `token` connected (through `ShopService`) and pickup offered."""
    async with session_factory() as session, session.begin():
        shops = ShopService(session)
        shop = await shops.create(slug=f"bench-race-{secrets.token_hex(4)}", name="Race shop")
        channel = await shops.connect_telegram(shop, token)
        session.add(
            ShippingOption(
                shop_id=shop.id,
                code="pickup",
                names={"en": "Pickup"},
                price=Decimal("0"),
                needs_address=False,
            )
        )
    assert channel.webhook_secret is not None
    return BenchShop(shop.id, int(channel.external_id), channel.webhook_secret)


async def add_last_unit(
    session_factory: async_sessionmaker[AsyncSession], shop: BenchShop, round_number: int
) -> int:
    """A new product with a stock of exactly 1; returns its id."""
    async with session_factory() as session, session.begin():
        product = Product(
            shop_id=shop.shop_id,
            sku=f"LAST-{round_number}",
            title=f"The last lamp #{round_number}",
            price=PRICE,
            currency="USD",
            stock=1,
        )
        session.add(product)
        await session.flush()
        return product.id


async def settle(
    session_factory: async_sessionmaker[AsyncSession], shop: BenchShop, *, within: float
) -> dict[InboundStatus, int]:
    """Wait until no update of the shop's bot is pending (the handlers' writes commit
    after their replies), at most `within` seconds; the updates counted by status."""
    deadline = time.monotonic() + within
    while True:
        async with session_factory() as session:
            rows = await session.execute(
                select(InboundUpdate.status, func.count())
                .where(InboundUpdate.receiver == str(shop.bot_id))
                .group_by(InboundUpdate.status)
            )
            counts = {status: int(count) for status, count in rows}
        if not counts.get(InboundStatus.PENDING) or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.1)  # polling souk's inbox from outside the process


async def ledger(session_factory: async_sessionmaker[AsyncSession], product_id: int) -> Ledger:
    """The product's stock, the orders holding it and its stock movements."""
    async with session_factory() as session:
        stock = await session.scalar(select(Product.stock).where(Product.id == product_id))
        buyers = await session.scalars(
            select(Customer.external_id)
            .join(Order, Order.customer_id == Customer.id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(OrderItem.product_id == product_id)
            .order_by(Order.id)
        )
        movements = await session.execute(
            select(StockMovement.reason, StockMovement.delta, StockMovement.stock_after)
            .where(StockMovement.product_id == product_id)
            .order_by(StockMovement.id)
        )
        assert stock is not None
        return Ledger(
            stock=stock,
            buyers=[int(buyer) for buyer in buyers],
            movements=[(reason, delta, after) for reason, delta, after in movements],
        )
