"""Beat jobs of the shopping side with a chosen clock: cart reminders and unpaid orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.delivery import OutboxDeliverer
from souk.db.models import (
    Cart,
    CartItem,
    ChannelKind,
    Customer,
    Order,
    OrderStatus,
    OutboxMessage,
    PaymentMethod,
    Product,
    ShippingOption,
    Shop,
)
from souk.runtime import Runtime
from souk.services.orders import OrderService, cents
from souk.workers.shopping import expire_unpaid_orders, remind_abandoned_carts
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI

# Far from the real clock, so carts of other tests are never due at these instants.
NOON = datetime(2030, 1, 2, 7, 0, tzinfo=UTC)  # 12:00 in Asia/Almaty (UTC+5)
NIGHT = datetime(2030, 1, 1, 18, 0, tzinfo=UTC)  # 23:00 in Asia/Almaty


async def shop_with_cart(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    user_id: int,
    touched: datetime,
    reminders: bool = True,
) -> tuple[TestShop, int, int]:
    """A shop in Almaty with a Russian-speaking customer whose cart holds one kettle."""
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Shop).where(Shop.id == shop.shop_id).values(timezone="Asia/Almaty")
        )
        product = Product(
            shop_id=shop.shop_id,
            sku="KT-1",
            title="Kettle",
            translations={"ru": {"title": "Чайник"}},
            price=Decimal("39.00"),
            currency="USD",
            stock=4,
        )
        customer = Customer(
            shop_id=shop.shop_id,
            channel=ChannelKind.TELEGRAM,
            external_id=str(user_id),
            client_language="ru",
            cart_reminders=reminders,
        )
        session.add_all([product, customer])
        await session.flush()
        cart = Cart(shop_id=shop.shop_id, customer_id=customer.id, updated_at=touched)
        session.add(cart)
        await session.flush()
        session.add(CartItem(cart_id=cart.id, product_id=product.id, quantity=2))
    return shop, customer.id, product.id


async def pushes_to(
    session_factory: async_sessionmaker[AsyncSession], customer_id: int
) -> list[OutboxMessage]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.customer_id == customer_id)
                .order_by(OutboxMessage.id)
            )
        )


async def test_an_abandoned_cart_is_reminded_once_and_never_in_quiet_hours(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, customer_id, _ = await shop_with_cart(
        make_shop, session_factory, user_id=7101, touched=NIGHT - timedelta(hours=4)
    )
    await remind_abandoned_carts(runtime, NIGHT)
    assert await pushes_to(session_factory, customer_id) == []  # 23:00 in the shop

    too_soon = NIGHT + timedelta(hours=8) - timedelta(hours=4) + timedelta(minutes=179)
    async with session_factory() as session, session.begin():  # touched again at 01:00 UTC
        await session.execute(
            update(Cart)
            .where(Cart.customer_id == customer_id)
            .values(updated_at=too_soon - timedelta(minutes=179))
        )
    await remind_abandoned_carts(runtime, too_soon)
    assert await pushes_to(session_factory, customer_id) == []  # not 3 hours yet

    await remind_abandoned_carts(runtime, NOON)
    (push,) = await pushes_to(session_factory, customer_id)
    text = push.payload["text"]
    assert isinstance(text, str) and text.startswith("Вы оставили в корзине:")
    assert "Чайник × 2 = 78,00\xa0$" in text
    markup = push.payload["reply_markup"]
    assert isinstance(markup, dict)
    datas = [button["callback_data"] for row in markup["inline_keyboard"] for button in row]
    assert datas == ["co:start", "cart:show:0", "remind:0"]

    await remind_abandoned_carts(runtime, NOON + timedelta(hours=1))
    assert len(await pushes_to(session_factory, customer_id)) == 1  # once

    deliverer = OutboxDeliverer(
        session_factory=runtime.session_factory,
        registry=runtime.registry,
        settings=runtime.settings.outbox,
    )
    await deliverer.run(time_budget=20)
    (delivered,) = fake_api.delivered_texts(7101, bot_id=shop.bot_id)
    assert delivered.startswith("Вы оставили в корзине:")


async def test_no_reminder_after_opting_out_or_ordering(
    runtime: Runtime,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    touched = NOON - timedelta(hours=4)
    _, opted_out, _ = await shop_with_cart(
        make_shop, session_factory, user_id=7102, touched=touched, reminders=False
    )
    shop, ordered, _ = await shop_with_cart(
        make_shop, session_factory, user_id=7103, touched=touched
    )
    async with session_factory() as session, session.begin():
        session.add(
            Order(
                shop_id=shop.shop_id,
                customer_id=ordered,
                number="1",
                currency="USD",
                subtotal=Decimal("1"),
                shipping_price=Decimal("0"),
                total=Decimal("1"),
                created_at=touched + timedelta(minutes=5),
            )
        )
    await remind_abandoned_carts(runtime, NOON)
    assert await pushes_to(session_factory, opted_out) == []
    assert await pushes_to(session_factory, ordered) == []


async def test_an_unpaid_order_is_cancelled_its_stock_released_and_the_customer_told(
    runtime: Runtime,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, customer_id, product_id = await shop_with_cart(
        make_shop, session_factory, user_id=7105, touched=NOON
    )
    async with session_factory() as session, session.begin():
        session.add(ShippingOption(shop_id=shop.shop_id, code="pickup", price=Decimal("0")))
        await session.flush()
        orders = OrderService(session, shop.shop_id)
        order = await orders.place(
            customer_id,
            shipping_code="pickup",
            phone="+77011234567",
            address=None,
            method=PaymentMethod.TELEGRAM,
            expected_total=cents(Decimal("78.00")),
        )
        order_id = order.id
    timeout = timedelta(minutes=runtime.settings.telegram.payment_timeout_minutes)
    async with session_factory() as session, session.begin():
        placed_at = await session.scalar(select(Order.created_at).where(Order.id == order_id))
    assert placed_at is not None

    await expire_unpaid_orders(runtime, placed_at + timeout - timedelta(seconds=1))
    async with session_factory() as session:
        assert (await session.get_one(Order, order_id)).status is OrderStatus.NEW
        assert (await session.get_one(Product, product_id)).stock == 2

    await expire_unpaid_orders(runtime, placed_at + timeout + timedelta(seconds=1))
    async with session_factory() as session:
        assert (await session.get_one(Order, order_id)).status is OrderStatus.CANCELLED
        assert (await session.get_one(Product, product_id)).stock == 4
    (push,) = await pushes_to(session_factory, customer_id)
    assert push.payload["text"] == "Ваш заказ №1001 теперь: отменён."
