"""Checkout, orders and payments through the webhook and the fake Bot API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    Order,
    OrderStatus,
    Product,
    ShippingOption,
    StockMovement,
    StockReason,
)
from tests.channels.test_catalog import Chat, buttons, stock_shop
from tests.channels.webhook_client import post, settled
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI, RecordedCall
from tests.fixtures.telegram import contact, pre_checkout_query, successful_payment


class Buyer(Chat):
    """A chat that also waits for new messages a button press sent."""

    async def send(self, update: dict[str, Any]) -> RecordedCall:
        before = len(self.calls("sendMessage"))
        await post(self.http, self.server, self.shop, update)
        await self.api.wait_for(lambda _: len(self.calls("sendMessage")) > before)
        return self.calls("sendMessage")[-1]

    async def press_then_message(self, data: str) -> RecordedCall:
        before = len(self.calls("sendMessage"))
        await self.press(data)
        await self.api.wait_for(lambda _: len(self.calls("sendMessage")) > before)
        return self.calls("sendMessage")[-1]

    async def to_summary(self, product_id: int, *, shipping: str = "courier") -> RecordedCall:
        await self.tap_only(f"cart:add:{product_id}")
        start = await self.say("/checkout")
        assert any(data == f"ship:{shipping}" for row in buttons(start) for _, data in row)
        prompt = await self.press_then_message(f"ship:{shipping}")
        assert prompt.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
        if shipping == "pickup":
            return await self.summary_after(contact(self.user, "+7 701 123 45 67", language="ru"))
        await self.send(contact(self.user, "77011234567", language="ru"))
        return await self.say("Алматы, проспект Абая 10, кв. 5")

    async def summary_after(self, update: dict[str, Any]) -> RecordedCall:
        before = len(self.calls("sendMessage"))
        await post(self.http, self.server, self.shop, update)
        await self.api.wait_for(lambda _: len(self.calls("sendMessage")) >= before + 2)
        return self.calls("sendMessage")[-1]


async def checkout_shop(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], **options: Any
) -> tuple[TestShop, dict[str, int]]:
    shop, ids = await stock_shop(make_shop, session_factory, **options)
    async with session_factory() as session, session.begin():
        session.add_all(
            [
                ShippingOption(
                    shop_id=shop.shop_id,
                    code="pickup",
                    names={"en": "Pickup", "ru": "Самовывоз"},
                    price=Decimal("0"),
                    needs_address=False,
                ),
                ShippingOption(
                    shop_id=shop.shop_id,
                    code="courier",
                    names={"en": "Courier", "ru": "Курьер"},
                    price=Decimal("5.00"),
                    eta_days_min=1,
                    eta_days_max=2,
                ),
            ]
        )
    return shop, ids


async def stock_of(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop, product_id: int
) -> int:
    await settled(session_factory, shop, 0)  # the handler's writes commit after its replies
    async with session_factory() as session:
        stock = await session.scalar(select(Product.stock).where(Product.id == product_id))
    assert stock is not None
    return stock


async def orders_of(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop
) -> list[Order]:
    await settled(session_factory, shop, 0)  # the handler's writes commit after its replies
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(Order).where(Order.shop_id == shop.shop_id).order_by(Order.id)
            )
        )


def button_data(call: RecordedCall, prefix: str) -> str:
    return next(data for row in buttons(call) for _, data in row if data.startswith(prefix))


async def test_cash_on_delivery_checkout_reserves_stock_and_can_be_cancelled(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await checkout_shop(make_shop, session_factory)
    buyer = Buyer(http, server, shop, fake_api, 6401)
    phone = ids["PH-1"]
    await buyer.tap_only(f"cart:add:{phone}")
    start = await buyer.say("/checkout")
    assert start.params["text"] == "В корзине товаров на 200,90\xa0$. Как доставить заказ?"
    assert [label for row in buttons(start) for label, _ in row] == [
        "Самовывоз · бесплатно · сегодня",
        "Курьер · 5,00\xa0$ · 1–2 дн.",
        "Отменить оформление",
    ]
    await buyer.press_then_message("ship:courier")

    wrong = await buyer.say("12-34")
    assert "не похоже на номер телефона" in wrong.params["text"]
    ask_address = await buyer.say("+7 (701) 123-45-67")
    assert ask_address.params["text"].startswith("Куда доставить?")
    short = await buyer.say("ул")
    assert "от 5 до 300 символов" in short.params["text"]
    summary = await buyer.say("Алматы, проспект Абая 10, кв. 5")
    text = summary.params["text"]
    assert "Телефон: +77011234567" in text and "Адрес: Алматы, проспект Абая 10, кв. 5" in text
    assert "Итого: 205,90\xa0$" in text
    confirm = button_data(summary, "confirm:cod:")
    assert confirm == "confirm:cod:20590"
    assert not any(d.startswith("confirm:telegram") for row in buttons(summary) for _, d in row)

    forged = await buyer.tap_only("confirm:bogus:1", message_id=1)
    assert forged.params["text"] == "Эта кнопка устарела. Откройте меню заново."
    _, placed = await buyer.press(confirm)
    assert placed is not None and "Заказ №1001 оформлен" in placed.params["text"]
    (order,) = await orders_of(session_factory, shop)
    assert order.number == "1001" and order.status is OrderStatus.NEW
    assert order.total == Decimal("205.90") and order.contact_phone == "+77011234567"
    assert await stock_of(session_factory, shop, phone) == 9
    cart = await buyer.say("/cart")
    assert "Корзина пуста" in cart.params["text"]

    again = await buyer.tap_only(confirm, message_id=1)  # a double tap
    assert again.params["show_alert"] is True and "уже завершено" in again.params["text"]
    assert len(await orders_of(session_factory, shop)) == 1

    listing = await buyer.say("/orders")
    assert buttons(listing)[0][0][0] == "#1001 · 205,90\xa0$ · новый"
    _, detail = await buyer.press(f"order:show:{order.id}")
    assert detail is not None and "Статус: новый" in detail.params["text"]
    _, sure = await buyer.press(f"order:cancel:{order.id}")
    assert sure is not None and sure.params["text"] == "Отменить заказ №1001?"
    answer, cancelled = await buyer.press(f"order:cancel!:{order.id}")
    assert answer.params["text"] == "Заказ №1001 отменён."
    assert cancelled is not None and "Статус: отменён" in cancelled.params["text"]
    assert await stock_of(session_factory, shop, phone) == 10
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        reasons = list(
            await session.scalars(
                select(StockMovement.reason)
                .where(StockMovement.order_id == order.id)
                .order_by(StockMovement.id)
            )
        )
    assert reasons == [StockReason.RESERVE, StockReason.RELEASE]
    twice = await buyer.tap_only(f"order:cancel!:{order.id}", message_id=1)
    assert twice.params["show_alert"] is True and "уже нельзя" in twice.params["text"]


async def test_a_price_change_is_shown_before_the_order_is_placed(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await checkout_shop(make_shop, session_factory)
    buyer = Buyer(http, server, shop, fake_api, 6402)
    summary = await buyer.to_summary(ids["PH-2"], shipping="pickup")
    assert "Итого: 201,90\xa0$" in summary.params["text"]
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == ids["PH-2"]).values(price=Decimal("250.00"))
        )
    answer, changed = await buyer.press(button_data(summary, "confirm:cod:"))
    assert answer.params["show_alert"] is True and "Цены изменились" in answer.params["text"]
    assert changed is not None and "Итого: 250,00\xa0$" in changed.params["text"]
    assert await orders_of(session_factory, shop) == []
    assert await stock_of(session_factory, shop, ids["PH-2"]) == 10  # the reservation was undone

    _, placed = await buyer.press(button_data(changed, "confirm:cod:"))
    assert placed is not None and "250,00" in placed.params["text"]
    (order,) = await orders_of(session_factory, shop)
    assert order.total == Decimal("250.00") and order.address is None


async def test_the_last_unit_sold_meanwhile_is_refused_with_the_cart(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await checkout_shop(make_shop, session_factory)
    buyer = Buyer(http, server, shop, fake_api, 6403)
    summary = await buyer.to_summary(ids["PH-3"])
    async with session_factory() as session, session.begin():
        await session.execute(update(Product).where(Product.id == ids["PH-3"]).values(stock=0))
    answer, cart = await buyer.press(button_data(summary, "confirm:cod:"))
    assert answer.params["show_alert"] is True
    assert "только что закончился" in answer.params["text"]
    assert cart is not None and "Телефон 3" in cart.params["text"]
    assert await orders_of(session_factory, shop) == []
    assert await stock_of(session_factory, shop, ids["PH-3"]) == 0


async def test_telegram_payment_is_checked_recorded_once_and_refunded_when_too_late(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await checkout_shop(make_shop, session_factory, payment_token="284685063:TEST:x")
    buyer = Buyer(http, server, shop, fake_api, 6404)
    summary = await buyer.to_summary(ids["PH-4"])
    pay = button_data(summary, "confirm:telegram:")
    assert pay == "confirm:telegram:20890"
    invoices_before = len(buyer.calls("sendInvoice"))
    await buyer.press(pay)
    await fake_api.wait_for(lambda _: len(buyer.calls("sendInvoice")) > invoices_before)
    invoice = buyer.calls("sendInvoice")[-1].params
    (order,) = await orders_of(session_factory, shop)
    assert invoice["payload"] == f"order:{order.id}" and invoice["currency"] == "USD"
    assert [p["amount"] for p in invoice["prices"]] == [20390, 500]

    async def pre_checkout(total: int) -> RecordedCall:
        before = len(fake_api.calls("answerPreCheckoutQuery"))
        update_ = pre_checkout_query(
            buyer.user, payload=f"order:{order.id}", currency="USD", total=total, language="ru"
        )
        await post(http, server, shop, update_)
        await fake_api.wait_for(lambda _: len(fake_api.calls("answerPreCheckoutQuery")) > before)
        return fake_api.calls("answerPreCheckoutQuery")[-1]

    wrong = await pre_checkout(100)
    assert (
        wrong.params["ok"] is False and "Сумма заказа изменилась" in wrong.params["error_message"]
    )
    right = await pre_checkout(20890)
    assert right.params["ok"] is True

    paid = successful_payment(
        buyer.user,
        payload=f"order:{order.id}",
        currency="USD",
        total=20890,
        charge="ch-1",
        language="ru",
    )
    thanks = await buyer.send(paid)
    assert "Оплата получена" in thanks.params["text"]
    replayed = successful_payment(
        buyer.user,
        payload=f"order:{order.id}",
        currency="USD",
        total=20890,
        charge="ch-1",
        language="ru",
    )
    sent_before = len(buyer.calls("sendMessage"))
    await post(http, server, shop, replayed)
    await buyer.say("/orders")  # processed after the replay: the replay said nothing
    assert len(buyer.calls("sendMessage")) == sent_before + 1
    (order,) = await orders_of(session_factory, shop)
    assert order.status is OrderStatus.PAID and order.payment_charge_id == "ch-1"
    assert not order.refund_due

    # A second order is cancelled (its stock released) before its invoice is paid.
    summary = await buyer.to_summary(ids["PH-5"])
    await buyer.press(button_data(summary, "confirm:telegram:"))
    orders = await orders_of(session_factory, shop)
    late = orders[-1]
    await buyer.press(f"order:cancel!:{late.id}")
    assert (await pre_checkout(20990)).params["ok"] is False
    sorry = await buyer.send(
        successful_payment(
            buyer.user,
            payload=f"order:{late.id}",
            currency="USD",
            total=20990,
            charge="ch-2",
            language="ru",
        )
    )
    assert "Деньги будут возвращены" in sorry.params["text"]
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        late = await session.get_one(Order, late.id)
        assert late.refund_due and late.status is OrderStatus.CANCELLED
        assert await session.scalar(select(func.count()).where(Order.refund_due)) >= 1
