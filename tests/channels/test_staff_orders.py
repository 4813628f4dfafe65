"""Staff act on orders through the webhook: the push of a new order, its buttons, the
customer told of each change, the PIN for cancelling a confirmed order, /orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.delivery import OutboxDeliverer
from souk.db.models import (
    ChannelKind,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    OutboxMessage,
    PaymentMethod,
    Product,
    StaffRole,
    StockMovement,
    StockReason,
)
from souk.runtime import Runtime
from souk.services.cart import CartService
from souk.services.orders import OrderService, cents
from souk.services.staff import StaffService
from tests.channels.test_catalog import Chat, buttons
from tests.channels.test_checkout import Buyer, button_data, checkout_shop, stock_of
from tests.channels.webhook_client import settled
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI, RecordedCall

OWNER, MANAGER = 6601, 6602


async def pushes(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop, chat_id: int
) -> list[dict[str, Any]]:
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.shop_id == shop.shop_id, OutboxMessage.chat_id == chat_id)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def deliver(runtime: Runtime) -> None:
    deliverer = OutboxDeliverer(
        session_factory=runtime.session_factory,
        registry=runtime.registry,
        settings=runtime.settings.outbox,
    )
    await deliverer.run(time_budget=20)


async def ask_pin(owner: Chat, order_id: int, action: str = "cancel") -> RecordedCall:
    """Press Cancel (or Edit) on the order; the bot asks for the PIN in a new message."""
    before = len(owner.calls("sendMessage"))
    await owner.tap_only(f"so:{action}:{order_id}", message_id=1)
    await owner.api.wait_for(lambda _: len(owner.calls("sendMessage")) > before)
    return owner.calls("sendMessage")[-1]


def rubles(amount: Decimal) -> str:
    """Dollars as the Russian locale writes them: 407,80 $."""
    return f"{amount:.2f}".replace(".", ",") + "\xa0$"


def datas(payload: dict[str, Any]) -> list[str]:
    markup = payload.get("reply_markup") or {"inline_keyboard": []}
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]


async def test_staff_get_the_order_act_on_it_and_the_customer_hears_each_change(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, ids = await checkout_shop(
        make_shop, session_factory, staff={OWNER: StaffRole.OWNER, MANAGER: StaffRole.MANAGER}
    )
    buyer = Buyer(http, server, shop, fake_api, 6603)
    summary = await buyer.to_summary(ids["PH-1"])
    await buyer.press(button_data(summary, "confirm:cod:"))
    (order,) = await _orders(session_factory, shop)

    for staff_id in (OWNER, MANAGER):
        (push,) = await pushes(session_factory, shop, staff_id)
        assert push["text"].startswith("Order #1001 — new")
        assert "Phone 1 (PH-1) × 1" in push["text"] and "Phone: +77011234567" in push["text"]
        assert "cash on delivery" in push["text"]
        assert datas(push) == [f"so:accept:{order.id}", f"so:reject:{order.id}"]

    await deliver(runtime)  # the pushes reach the staff chats (message 1 in each)
    manager = Chat(http, server, shop, fake_api, MANAGER)
    answer, card = await manager.press(f"so:accept:{order.id}")
    assert answer.params["text"] == "Заказ №1001: подтверждён."
    assert card is not None and card.params["text"].startswith("Заказ №1001 — подтверждён")
    assert [d for row in buttons(card) for _, d in row] == [
        f"so:ship:{order.id}",
        f"so:edit:{order.id}",
        f"so:cancel:{order.id}",
    ]
    owner = Chat(http, server, shop, fake_api, OWNER)
    late = await owner.tap_only(f"so:accept:{order.id}", message_id=1)  # already done
    assert late.params["show_alert"] is True and "уже подтверждён" in late.params["text"]

    async with session_factory() as session, session.begin():  # bought in dearer since
        (await session.get_one(Product, ids["PH-1"])).cost = Decimal("150.00")
    await manager.press(f"so:ship:{order.id}")
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        sold_at = await session.scalar(
            select(OrderItem.unit_cost).where(OrderItem.order_id == order.id)
        )
    assert sold_at == Decimal("150.00")  # the cost of the sale is the cost when shipped
    await manager.press(f"so:deliver:{order.id}")
    told = [p["text"] for p in await pushes(session_factory, shop, 6603)]
    assert told == [
        "Ваш заказ №1001 теперь: подтверждён.",
        "Ваш заказ №1001 теперь: отправлен.",
        "Ваш заказ №1001 теперь: доставлен.",
    ]

    customer_tries = await buyer.tap_only(f"so:ship:{order.id}", message_id=1)
    assert customer_tries.params["text"] == "Эта кнопка устарела. Откройте меню заново."


async def test_cancelling_a_confirmed_order_needs_the_pin_and_locks_after_three_misses(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, ids = await checkout_shop(make_shop, session_factory, staff={OWNER: StaffRole.OWNER})
    buyer = Buyer(http, server, shop, fake_api, 6604)
    summary = await buyer.to_summary(ids["PH-2"])
    await buyer.press(button_data(summary, "confirm:cod:"))
    (order,) = await _orders(session_factory, shop)
    await deliver(runtime)
    owner = Buyer(http, server, shop, fake_api, OWNER)
    await owner.press(f"so:accept:{order.id}")

    no_pin = await owner.tap_only(f"so:cancel:{order.id}", message_id=1)
    assert "нужен PIN магазина" in no_pin.params["text"]
    await owner.say("/pin 2580")

    asked = await ask_pin(owner, order.id)
    assert asked.params["text"] == "Введите PIN магазина, чтобы отменить заказ №1001 (или /cancel)."
    assert (await owner.say("1111")).params["text"] == "Неверный PIN. Осталось попыток: 2."
    assert (await owner.say("2222")).params["text"] == "Неверный PIN. Осталось попыток: 1."
    locked = await owner.say("3333")
    assert locked.params["text"] == "Слишком много неверных PIN. Попробуйте через 15 мин."
    again = await owner.tap_only(f"so:cancel:{order.id}", message_id=1)
    assert again.params["text"].startswith("Слишком много неверных PIN")
    assert (await _orders(session_factory, shop))[0].status is OrderStatus.CONFIRMED

    await runtime.redis.delete(f"souk:pin-fails:{shop.shop_id}:{OWNER}")  # the lock ran out
    await ask_pin(owner, order.id)
    done = await owner.say("2580")
    assert done.params["text"].startswith("Заказ №1001: отменён.")
    (order,) = await _orders(session_factory, shop)
    assert order.status is OrderStatus.CANCELLED
    async with session_factory() as session:
        assert (await session.get_one(Product, ids["PH-2"])).stock == 10
        assert await StaffService(session, shop.shop_id).pin_matches("2580")
    told = [p["text"] for p in await pushes(session_factory, shop, 6604)]
    assert told[-1] == "Ваш заказ №1001 теперь: отменён."


async def test_editing_a_confirmed_order_takes_lines_out_after_the_pin(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, ids = await checkout_shop(make_shop, session_factory, staff={OWNER: StaffRole.OWNER})
    buyer = Buyer(http, server, shop, fake_api, 6607)
    await buyer.tap_only(f"cart:add:{ids['PH-1']}")
    await buyer.tap_only(f"cart:add:{ids['PH-1']}")
    summary = await buyer.to_summary(ids["PH-2"])
    await buyer.press(button_data(summary, "confirm:cod:"))
    (order,) = await _orders(session_factory, shop)
    async with session_factory() as session:
        phone_1, phone_2 = await OrderService(session, shop.shop_id).items(order.id)
    assert (phone_1.sku, phone_1.quantity, phone_2.sku) == ("PH-1", 2, "PH-2")
    await deliver(runtime)
    owner = Buyer(http, server, shop, fake_api, OWNER)
    await owner.press(f"so:accept:{order.id}")

    no_pin = await owner.tap_only(f"so:edit:{order.id}", message_id=1)
    assert "Чтобы изменить подтверждённый заказ, нужен PIN" in no_pin.params["text"]
    await owner.say("/pin 2580")
    asked = await ask_pin(owner, order.id, "edit")
    assert asked.params["text"] == "Введите PIN магазина, чтобы изменить заказ №1001 (или /cancel)."
    assert (await owner.say("1111")).params["text"] == "Неверный PIN. Осталось попыток: 2."
    screen = await owner.say("2580")
    less, drop_1, drop_2 = (
        f"soe:-:{order.id}:{phone_1.id}",
        f"soe:x:{order.id}:{phone_1.id}",
        f"soe:x:{order.id}:{phone_2.id}",
    )
    done = f"soe:done:{order.id}:0"
    assert datas(screen.params) == [less, drop_1, drop_2, done]

    answer, card = await owner.press(less)
    total = order.total - phone_1.unit_price
    assert answer.params["text"] == f"Новая сумма: {rubles(total)}"
    assert card is not None and "Phone 1 (PH-1) × 1" in card.params["text"]
    assert await stock_of(session_factory, shop, ids["PH-1"]) == 9
    await owner.press(drop_2)
    assert await stock_of(session_factory, shop, ids["PH-2"]) == 10
    (edited,) = await _orders(session_factory, shop)
    assert edited.total == order.total - phone_1.unit_price - phone_2.unit_price
    assert edited.subtotal == phone_1.unit_price and edited.status is OrderStatus.CONFIRMED
    async with session_factory() as session:
        movements = (
            await session.scalars(
                select(StockMovement)
                .where(StockMovement.order_id == order.id)
                .where(StockMovement.reason == StockReason.RELEASE)
                .order_by(StockMovement.id)
            )
        ).all()
    assert [(m.delta, m.actor_telegram_id) for m in movements] == [(1, OWNER), (1, OWNER)]

    only_line = await owner.tap_only(drop_1, message_id=1)  # a stale button of the first screen
    assert "единственная позиция" in only_line.params["text"]
    assert await stock_of(session_factory, shop, ids["PH-1"]) == 9

    told = [p["text"] for p in await pushes(session_factory, shop, 6607)]
    assert told[-2:] == [
        "Магазин изменил ваш заказ №1001.\nPhone 1: 2 → 1 шт.\n"
        f"Новая сумма: {rubles(order.total - phone_1.unit_price)}",
        f"Магазин изменил ваш заказ №1001.\nPhone 2: убран.\nНовая сумма: {rubles(edited.total)}",
    ]

    _, closed = await owner.press(done)
    assert closed is not None and datas(closed.params)[:2] == [
        f"so:ship:{order.id}",
        f"so:edit:{order.id}",
    ]
    after_done = await owner.tap_only(less, message_id=1)
    assert "нужен PIN" in after_done.params["text"]
    customer_tries = await buyer.tap_only(less, message_id=1)
    assert customer_tries.params["text"] == "Эта кнопка устарела. Откройте меню заново."


async def test_staff_list_orders_by_status_with_pages(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await checkout_shop(make_shop, session_factory, staff={OWNER: StaffRole.OWNER})
    for user_id in (6605, 6606):  # two buyers: one would be throttled at this pace
        buyer = Buyer(http, server, shop, fake_api, user_id)
        summary = await buyer.to_summary(ids["PH-3"], shipping="pickup")
        await buyer.press(button_data(summary, "confirm:cod:"))
    await settled(session_factory, shop, 0)  # the last confirm commits after its reply
    owner = Chat(http, server, shop, fake_api, OWNER)
    listing = await owner.say("/orders new")
    assert listing.params["text"] == "Заказы (новый), страница 1:"
    assert [label for row in buttons(listing) for label, _ in row] == [
        "#1002 · 202,90\xa0$ · новый",
        "#1001 · 202,90\xa0$ · новый",
    ]
    assert (await owner.say("/orders shipped")).params["text"] == "Заказов здесь пока нет."
    assert "Неизвестный статус «lost»" in (await owner.say("/orders lost")).params["text"]
    mine = await buyer.say("/orders")  # a customer's /orders is their own list
    assert mine.params["text"] == "Ваши заказы (сначала новые):"


async def _orders(session_factory: async_sessionmaker[AsyncSession], shop: TestShop) -> list[Order]:
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(Order).where(Order.shop_id == shop.shop_id).order_by(Order.id)
            )
        )


async def test_return_requests_are_accepted_with_restock_or_refused_with_a_reason(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, ids = await checkout_shop(make_shop, session_factory, staff={OWNER: StaffRole.OWNER})
    # Two delivered orders, placed directly: the chats below stay under the flood limit.
    async with session_factory() as session, session.begin():
        for user_id in (6607, 6608):
            customer = Customer(
                shop_id=shop.shop_id, channel=ChannelKind.TELEGRAM, external_id=str(user_id)
            )
            session.add(customer)
            await session.flush()
            await CartService(session, shop_id=shop.shop_id, customer_id=customer.id).add(
                ids["PH-4"]
            )
            order = await OrderService(session, shop.shop_id).place(
                customer.id,
                shipping_code="pickup",
                phone="+77011234567",
                address=None,
                method=PaymentMethod.CASH_ON_DELIVERY,
                expected_total=cents(Decimal("203.90")),
            )
            order.status = OrderStatus.DELIVERED
    returned, kept = await _orders(session_factory, shop)
    assert (await session_get_stock(session_factory, shop, ids["PH-4"])) == 8

    for order, user_id in ((returned, 6607), (kept, 6608)):
        buyer = Buyer(http, server, shop, fake_api, user_id)
        await buyer.say("/orders")  # message 1, where the order's buttons are pressed
        await buyer.press(f"order:return:{order.id}")
        sent = await buyer.say("Не подошёл размер")
        assert sent.params["text"].startswith("Запрос на возврат заказа")
    await deliver(runtime)
    owner = Buyer(http, server, shop, fake_api, OWNER)
    staff_pushes = await pushes(session_factory, shop, OWNER)
    assert "Return reason: Не подошёл размер" in staff_pushes[-1]["text"]
    assert datas(staff_pushes[-1]) == [f"so:return+:{kept.id}", f"so:return-:{kept.id}"]

    answer, _ = await owner.press(f"so:return+:{returned.id}")
    assert answer.params["text"] == "Заказ №1001: возвращён."
    assert (await session_get_stock(session_factory, shop, ids["PH-4"])) == 9
    async with session_factory() as session:
        back = await session.scalar(
            select(StockMovement).where(
                StockMovement.order_id == returned.id, StockMovement.reason == StockReason.RETURN
            )
        )
    assert back is not None and back.delta == 1

    before = len(owner.calls("sendMessage"))
    await owner.tap_only(f"so:return-:{kept.id}", message_id=1)
    await fake_api.wait_for(lambda _: len(owner.calls("sendMessage")) > before)
    done = await owner.say("Следы использования")
    assert done.params["text"] == "Возврат заказа №1002 отклонён; покупателю сообщена причина."
    (order,) = [o for o in await _orders(session_factory, shop) if o.id == kept.id]
    assert order.status is OrderStatus.DELIVERED
    told = [p["text"] for p in await pushes(session_factory, shop, 6608)]
    assert told[-1] == "Возврат заказа №1002 отклонён: Следы использования"


async def session_get_stock(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop, product_id: int
) -> int:
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        return (await session.get_one(Product, product_id)).stock
