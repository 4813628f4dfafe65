"""The cart through the webhook: add from a card, change, remove, empty; stock is respected."""

from __future__ import annotations

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import CartItem, Customer, Product
from tests.channels.test_catalog import Chat, buttons, stock_shop
from tests.channels.webhook_client import settled
from tests.conftest import MakeShop
from tests.fakes.telegram_api import FakeBotAPI


async def test_fill_change_and_empty_the_cart(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    chat = Chat(http, server, shop, fake_api, 6201)
    empty = await chat.say("/cart")
    assert empty.params["text"] == "Корзина пуста. Загляните в каталог: /catalog."

    await chat.say("/start p_PH-2")  # message 2: the card
    for _ in range(2):
        answer = await chat.tap_only(f"cart:add:{ids['PH-2']}")
    assert answer.params["text"] == "В корзине: Телефон 2 × 2. /cart"
    await chat.tap_only(f"cart:add:{ids['CS-1']}")

    cart = await chat.say("/cart")
    assert cart.params["text"] == (
        "Ваша корзина:\n• Телефон 2 × 2 = 403,80\xa0$\n• Case × 1 = 9,99\xa0$\n\nИтого: 413,79\xa0$"
    )
    rows = buttons(cart)
    assert rows[0] == [
        ("−", f"cart:less:{ids['PH-2']}"),
        ("2 ✎", f"cart:type:{ids['PH-2']}"),
        ("+", f"cart:more:{ids['PH-2']}"),
        ("✕ Телефон 2", f"cart:remove:{ids['PH-2']}"),
    ]
    assert rows[-2:] == [[("Очистить корзину", "cart:clear:0")], [("Каталог", "cats")]]

    _, after = await chat.press(f"cart:less:{ids['PH-2']}")
    assert after is not None and "Телефон 2 × 1 = 201,90\xa0$" in after.params["text"]
    _, after = await chat.press(f"cart:remove:{ids['CS-1']}")
    assert after is not None and "Case" not in after.params["text"]
    assert "Итого: 201,90\xa0$" in after.params["text"]
    _, after = await chat.press("cart:clear:0")
    assert after is not None and after.params["text"].startswith("Корзина пуста")


async def test_stock_limits_and_products_gone_from_the_cart(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    chat = Chat(http, server, shop, fake_api, 6202)
    await chat.say("/start p_CS-1")
    for _ in range(3):  # the case has 3 in stock
        await chat.tap_only(f"cart:add:{ids['CS-1']}")
    refused = await chat.tap_only(f"cart:add:{ids['CS-1']}")
    assert (refused.params["text"], refused.params["show_alert"]) == ("В наличии только 3.", True)
    sold_out = await chat.tap_only(f"cart:add:{ids['PH-0']}")
    assert sold_out.params["text"] == "К сожалению, этого товара нет в наличии."
    async with session_factory() as session:
        quantities = list(
            await session.scalars(
                select(CartItem.quantity).where(CartItem.product_id == ids["CS-1"])
            )
        )
    assert quantities == [3]  # nothing half-applied

    async with session_factory() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == ids["CS-1"]).values(is_active=False)
        )
    cart = await chat.say("/cart")
    assert cart.params["text"] == (
        "Некоторых товаров из корзины больше нет в продаже, мы их убрали.\n"
        "Корзина пуста. Загляните в каталог: /catalog."
    )


async def test_the_opt_out_button_turns_reminders_off(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    chat = Chat(http, server, shop, fake_api, 7104)
    await chat.say("/cart")  # message 1 exists for the button to sit on
    answer = await chat.tap_only("remind:0", message_id=1)
    assert answer.params["show_alert"] is True
    assert answer.params["text"] == "Больше никаких напоминаний о корзине. Корзина сохранена."
    await settled(session_factory, shop, 0)  # the handler commits after it answered
    async with session_factory() as session:
        enabled = await session.scalar(
            select(Customer.cart_reminders).where(
                Customer.shop_id == shop.shop_id, Customer.external_id == "7104"
            )
        )
    assert enabled is False


async def test_a_typed_quantity_is_checked_before_it_changes_the_cart(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    chat = Chat(http, server, shop, fake_api, 6204)
    phone = ids["PH-2"]
    await chat.tap_only(f"cart:add:{phone}")
    await chat.say("/cart")  # message 1

    async def ask_quantity() -> str:
        before = len(chat.calls("sendMessage"))
        await chat.tap_only(f"cart:type:{phone}", message_id=1)
        await fake_api.wait_for(lambda _: len(chat.calls("sendMessage")) > before)
        text: str = chat.calls("sendMessage")[-1].params["text"]
        return text

    asked = await ask_quantity()
    assert asked == "Сколько «Телефон 2»? Напишите число (0 — убрать из корзины) или /cancel."

    assert "целое число" in (await chat.say("два")).params["text"]
    assert "не может быть отрицательным" in (await chat.say("-1")).params["text"]
    assert (await chat.say("50")).params["text"] == "В наличии только 10. Сколько вам нужно?"
    assert (await chat.say("99999999999999")).params["text"].startswith("В наличии только 10")
    cart = await chat.say("٣")  # Arabic-Indic three
    assert "Телефон 2 × 3 = 605,70\xa0$" in cart.params["text"]

    await ask_quantity()
    emptied = await chat.say("0")
    assert emptied.params["text"].startswith("Корзина пуста")
    after = await chat.say("телефон")  # back to searching: the question is over
    assert after.params["text"].startswith("Результаты по запросу")
