"""Product commands of staff through the webhook: price, stock, card, find, low stock,
undo; every change audited; bad values refused with nothing changed."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    PriceChange,
    PriceSource,
    Product,
    StaffRole,
    StockMovement,
    StockReason,
)
from tests.channels.test_catalog import Chat, stock_shop
from tests.channels.webhook_client import post, settled
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import message

MANAGER, OTHER = 6701, 6702


async def product(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop, product_id: int
) -> Product:
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        return await session.get_one(Product, product_id)


async def test_price_and_stock_changes_are_checked_audited_and_undone(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(
        make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER, OTHER: StaffRole.OWNER}
    )
    phone = ids["PH-1"]
    async with session_factory() as session, session.begin():
        await session.execute(update(Product).where(Product.id == phone).values(cost=150))
    staff = Chat(http, server, shop, fake_api, MANAGER)

    refusals = {
        "/price PH-9 10": "Нет товара с артикулом «PH-9». Возможно, вы имели в виду:",
        "/price PH-1 abc": "«abc» — это не цена.",
        "/price PH-1 -5": "Цена не может быть отрицательной.",
        "/price PH-1 99999999999": "Цена должна быть больше нуля",
        "/price PH-1 100": "Это ниже себестоимости товара (150,00\xa0$); цена не изменена.",
        "/price PH-1": "Напишите артикул и новую цену",
        "/stock PH-1 many": "«many» — не целое число.",
        "/stock PH-1 -2": "Остаток — целое число от 0 до 1 000 000.",
    }
    for command, expected in refusals.items():
        assert (await staff.say(command)).params["text"].startswith(expected), command
    assert (await product(session_factory, shop, phone)).price == Decimal("200.90")

    changed = await staff.say("/price ph-1 19 990,50")
    assert changed.params["text"] == (
        "Цена PH-1: 200,90\xa0$ → 19\xa0990,50\xa0$. /undo отменит это."
    )
    assert (await staff.say("/stock PH-1 4")).params["text"].startswith("Остаток PH-1: 10 → 4.")
    card = await staff.say("/product PH-1")
    assert "Себестоимость: 150,00\xa0$" in card.params["text"]
    assert "Остаток: 4" in card.params["text"]
    low = await staff.say("/lowstock 4")
    assert low.params["text"].splitlines()[1:] == [
        "<code>PH-0</code> · Phone 0 · 199,90\xa0$ · 0",
        "<code>CS-1</code> · Case · 9,99\xa0$ · 3",
        "<code>PH-1</code> · Phone 1 · 19\xa0990,50\xa0$ · 4",
    ]

    # Undo takes back the last change first (the stock), then the price.
    assert (await staff.say("/undo")).params["text"] == "Отменено. Остаток PH-1: 4 → 10."
    assert (await product(session_factory, shop, phone)).stock == 10
    other = Chat(http, server, shop, fake_api, OTHER)
    await other.say("/price PH-1 300")  # someone else changes the price meanwhile
    refused = await staff.say("/undo")
    assert refused.params["text"].startswith("Не отменено: значение изменилось")
    assert (await product(session_factory, shop, phone)).price == Decimal("300.00")
    assert (await other.say("/undo")).params["text"].startswith("Отменено. Цена PH-1:")
    assert (await staff.say("/undo")).params["text"].startswith("Отменено. Цена PH-1:")
    assert (await product(session_factory, shop, phone)).price == Decimal("200.90")
    assert (await staff.say("/undo")).params["text"] == (
        "У вас нет изменений, которые можно отменить."
    )

    async with session_factory() as session:
        audit = [
            (c.source, c.old_price, c.new_price, c.actor_telegram_id)
            for c in await session.scalars(
                select(PriceChange).where(PriceChange.product_id == phone).order_by(PriceChange.id)
            )
        ]
        moves = list(
            await session.scalars(
                select(StockMovement.delta)
                .where(StockMovement.product_id == phone)
                .order_by(StockMovement.id)
            )
        )
    assert audit == [
        (PriceSource.STAFF, Decimal("200.90"), Decimal("19990.50"), MANAGER),
        (PriceSource.STAFF, Decimal("19990.50"), Decimal("300.00"), OTHER),
        (PriceSource.UNDO, Decimal("300.00"), Decimal("19990.50"), OTHER),
        (PriceSource.UNDO, Decimal("19990.50"), Decimal("200.90"), MANAGER),
    ]
    assert moves == [-6, 6]

    found = await staff.say("/find телефон до 201")
    assert found.params["text"].splitlines()[:2] == [
        "<code>PH-0</code> · Phone 0 · 199,90\xa0$ · 0",
        "<code>PH-1</code> · Phone 1 · 200,90\xa0$ · 10",
    ]


async def test_customers_cannot_use_product_commands(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    customer = Chat(http, server, shop, fake_api, 6703)
    for command in ("/price PH-1 1", "/stock PH-1 0", "/undo", "/lowstock"):
        assert (await customer.say(command)).params["text"].startswith("Я не понял")
    unchanged = await product(session_factory, shop, ids["PH-1"])
    assert (unchanged.price, unchanged.stock) == (Decimal("200.90"), 10)


async def test_receiving_goods_updates_the_weighted_average_cost_and_adjustments_need_stock(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    case = ids["CS-1"]  # 3 in stock, no cost known yet
    staff = Chat(http, server, shop, fake_api, MANAGER)
    first = await staff.say("/receive CS-1 7 4.00")
    assert first.params["text"] == (
        "Остаток CS-1: 3 → 10. Средняя себестоимость теперь: 4,00\xa0$."
    )
    second = await staff.say("/receive CS-1 10 5,50")
    assert second.params["text"].endswith("Средняя себестоимость теперь: 4,75\xa0$.")
    assert (await staff.say("/receive CS-1 0 5")).params["text"].startswith("Напишите артикул")
    assert (await staff.say("/receive CS-1 2 -5")).params["text"].startswith("Напишите артикул")

    gone = await staff.say("/adjust CS-1 -30 lost")
    assert gone.params["text"].startswith("Остаток не может стать меньше нуля")
    assert (await staff.say("/adjust CS-1 -2")).params["text"].startswith("Напишите артикул")
    fixed = await staff.say("/adjust CS-1 -2 damaged in transit")
    assert fixed.params["text"] == "Остаток CS-1: 20 → 18. /undo отменит это."
    stored = await product(session_factory, shop, case)
    assert (stored.stock, stored.cost) == (18, Decimal("4.75"))
    async with session_factory() as session:
        moves = [
            (m.reason, m.delta, m.unit_cost, m.note)
            for m in await session.scalars(
                select(StockMovement)
                .where(StockMovement.product_id == case)
                .order_by(StockMovement.id)
            )
        ]
    assert moves == [
        (StockReason.RECEIVE, 7, Decimal("4.00"), None),
        (StockReason.RECEIVE, 10, Decimal("5.50"), None),
        (StockReason.ADJUST, -2, None, "damaged in transit"),
    ]


async def test_export_sends_the_catalog_as_a_csv_file_to_staff_only(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    staff = Chat(http, server, shop, fake_api, MANAGER)
    await staff.say("/help")
    await post_and_wait_document(staff, "/export")
    (document,) = staff.calls("sendDocument")
    upload = document.params[document.params["document"].removeprefix("attach://")]
    assert upload["filename"] == f"{shop.slug}-catalog.csv" and upload["size"] > 300
    assert document.params["caption"].startswith("Каталог: по товару в строке")
    customer = Chat(http, server, shop, fake_api, 6704)
    assert (await customer.say("/export")).params["text"].startswith("Я не понял")
    assert not customer.calls("sendDocument")


async def post_and_wait_document(chat: Chat, text: str) -> None:
    before = len(chat.calls("sendDocument"))
    await post(chat.http, chat.server, chat.shop, message(chat.user, text, language="ru"))
    await chat.api.wait_for(lambda _: len(chat.calls("sendDocument")) > before)
