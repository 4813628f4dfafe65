"""Placing orders concurrently against real Postgres: the last unit is sold once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    ChannelKind,
    Customer,
    Order,
    PaymentMethod,
    Product,
    ShippingOption,
    StockMovement,
)
from souk.services.cart import CartService
from souk.services.orders import OrderService, OutOfStock, cents
from tests.conftest import MakeShop

BUYERS = 12


async def test_concurrent_checkouts_of_the_last_unit_sell_it_once(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        product = Product(
            shop_id=shop.shop_id,
            sku="LAST",
            title="Last one",
            price=Decimal("10"),
            currency="USD",
            stock=1,
        )
        customers = [
            Customer(shop_id=shop.shop_id, channel=ChannelKind.TELEGRAM, external_id=str(n))
            for n in range(BUYERS)
        ]
        session.add_all(
            [
                product,
                *customers,
                ShippingOption(
                    shop_id=shop.shop_id, code="pickup", price=Decimal("0"), needs_address=False
                ),
            ]
        )
        await session.flush()
        for customer in customers:
            await CartService(session, shop_id=shop.shop_id, customer_id=customer.id).add(
                product.id
            )
    customer_ids = [customer.id for customer in customers]

    async def checkout(customer_id: int) -> str:
        async with session_factory() as session, session.begin():
            try:
                order = await OrderService(session, shop.shop_id).place(
                    customer_id,
                    shipping_code="pickup",
                    phone="+10000000000",
                    address=None,
                    method=PaymentMethod.CASH_ON_DELIVERY,
                    expected_total=cents(Decimal("10")),
                )
            except OutOfStock as refused:
                assert refused.available == 0
                return "refused"
            return order.number

    outcomes = await asyncio.gather(*(checkout(c) for c in customer_ids))
    assert sorted(outcomes) == ["1001"] + ["refused"] * (BUYERS - 1)
    async with session_factory() as session:
        assert await session.scalar(select(Product.stock).where(Product.id == product.id)) == 0
        orders = await session.scalar(
            select(func.count()).select_from(Order).where(Order.shop_id == shop.shop_id)
        )
        moves = await session.scalar(
            select(func.sum(StockMovement.delta)).where(StockMovement.product_id == product.id)
        )
    assert (orders, moves) == (1, -1)
