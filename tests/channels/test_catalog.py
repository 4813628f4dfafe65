"""Browsing the catalog through the webhook: categories, pages, cards, stale buttons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import Category, Product
from tests.channels.webhook_client import post
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI, RecordedCall
from tests.fixtures.telegram import callback, message


async def stock_shop(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], **shop_options: Any
) -> tuple[TestShop, dict[str, int]]:
    """Seven phones (one out of stock) and one case; returns the shop and product ids."""
    shop = await make_shop(**shop_options)
    ids: dict[str, int] = {}
    async with session_factory() as session, session.begin():
        phones = Category(
            shop_id=shop.shop_id,
            slug="phones",
            name="Phones",
            names={"en": "Phones", "ru": "Телефоны"},
            position=0,
        )
        cases = Category(
            shop_id=shop.shop_id,
            slug="cases",
            name="Cases",
            names={"en": "Cases", "ru": "Чехлы"},
            position=1,
        )
        empty = Category(shop_id=shop.shop_id, slug="empty", name="Empty", position=2)
        session.add_all([phones, cases, empty])
        await session.flush()
        for index in range(7):
            product = Product(
                shop_id=shop.shop_id,
                category_id=phones.id,
                sku=f"PH-{index}",
                title=f"Phone {index}",
                translations={
                    "ru": {"title": f"Телефон {index}", "description": "Хороший телефон"}
                },
                description="A good phone",
                brand="Acme",
                price=Decimal("199.90") + index,
                currency="USD",
                stock=0 if index == 0 else 10,
                attributes={"storage_gb": 128},
            )
            session.add(product)
            await session.flush()
            ids[product.sku] = product.id
        case = Product(
            shop_id=shop.shop_id,
            category_id=cases.id,
            sku="CS-1",
            title="Case",
            price=Decimal("9.99"),
            currency="USD",
            stock=3,
        )
        session.add(case)
        await session.flush()
        ids["CS-1"], ids["phones"], ids["cases"] = case.id, phones.id, cases.id
    return shop, ids


def buttons(call: RecordedCall) -> list[list[tuple[str, str]]]:
    markup: dict[str, Any] = call.params["reply_markup"]
    return [[(b["text"], b["callback_data"]) for b in row] for row in markup["inline_keyboard"]]


class Chat:
    """One customer's chat with the bot under test; every button lives on message 1."""

    def __init__(
        self,
        http: ClientSession,
        server: TestServer,
        shop: TestShop,
        fake_api: FakeBotAPI,
        user_id: int,
    ) -> None:
        self.http, self.server, self.shop, self.api, self.user = (
            http,
            server,
            shop,
            fake_api,
            user_id,
        )

    def calls(self, method: str) -> list[RecordedCall]:
        return [
            c for c in self.api.calls(method, chat_id=self.user) if c.bot_id == self.shop.bot_id
        ]

    def answers(self) -> list[RecordedCall]:
        return [c for c in self.api.calls("answerCallbackQuery") if c.bot_id == self.shop.bot_id]

    async def say(self, text: str) -> RecordedCall:
        before = len(self.calls("sendMessage"))
        await post(self.http, self.server, self.shop, message(self.user, text, language="ru"))
        await self.api.wait_for(lambda _: len(self.calls("sendMessage")) > before)
        return self.calls("sendMessage")[-1]

    async def tap_only(self, data: str, message_id: int = 2) -> RecordedCall:
        """Press a button that only answers (a toast or an alert), on message `message_id`."""
        before = len(self.answers())
        await post(
            self.http,
            self.server,
            self.shop,
            callback(self.user, data, message_id=message_id, language="ru"),
        )
        await self.api.wait_for(lambda _: len(self.answers()) > before)
        return self.answers()[-1]

    async def press(self, data: str) -> tuple[RecordedCall, RecordedCall | None]:
        """The callback answer, and the edit the button made (if it made one)."""
        answers_before, edits_before = len(self.answers()), len(self.calls("editMessageText"))
        await post(
            self.http,
            self.server,
            self.shop,
            callback(self.user, data, message_id=1, language="ru"),
        )
        await self.api.wait_for(lambda _: len(self.answers()) > answers_before)
        answer = self.answers()[-1]
        edits = self.calls("editMessageText")
        if len(edits) == edits_before:  # an answer may come before its edit: wait for it
            await self.api.wait_for(
                lambda _: len(self.calls("editMessageText")) > edits_before, timeout=2
            )
            edits = self.calls("editMessageText")
        return answer, edits[-1]


async def test_browse_categories_pages_and_a_product_card(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    chat = Chat(http, server, shop, fake_api, 6101)
    categories = await chat.say("/catalog")
    assert categories.params["text"] == "Выберите категорию:"
    assert buttons(categories) == [
        [("Телефоны (7)", f"catp:{ids['phones']}:0"), ("Чехлы (1)", f"catp:{ids['cases']}:0")]
    ]  # empty: hidden

    _, first = await chat.press(f"catp:{ids['phones']}:0")
    assert first is not None and first.params["text"] == "Телефоны — страница 1 из 2"
    rows = buttons(first)
    assert [label for label, _ in (row[0] for row in rows[:5])] == [
        "Телефон 1 · 200,90\xa0$",
        "Телефон 2 · 201,90\xa0$",
        "Телефон 3 · 202,90\xa0$",
        "Телефон 4 · 203,90\xa0$",
        "Телефон 5 · 204,90\xa0$",
    ]  # out of stock goes last
    assert rows[5] == [("Далее ›", f"catp:{ids['phones']}:1")]
    assert rows[6] == [("Все категории", "cats")]

    _, second = await chat.press(f"catp:{ids['phones']}:1")
    assert second is not None and second.params["text"] == "Телефоны — страница 2 из 2"
    labels = [row[0][0] for row in buttons(second)]
    assert labels[:2] == ["Телефон 6 · 205,90\xa0$", "Телефон 0 · 199,90\xa0$"]
    assert labels[2] == "‹ Назад"

    _, card = await chat.press(f"prod:{ids['PH-6']}:20590:{ids['phones']}:1")
    assert card is not None
    text = card.params["text"]
    assert "<b>Телефон 6</b>" in text and "205,90\xa0$" in text and "в наличии" in text
    assert "Хороший телефон" in text and "storage gb: 128" in text and "Бренд: Acme" in text
    assert buttons(card) == [
        [("В корзину", f"cart:add:{ids['PH-6']}")],
        [("Сравнить", f"cmp:{ids['PH-6']}")],
        [("‹ К списку", f"catp:{ids['phones']}:1")],
        [("Все категории", "cats")],
    ]


async def test_stale_buttons_are_explained(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    chat = Chat(http, server, shop, fake_api, 6102)
    await chat.say("/catalog")

    # The price changed after the list was shown: the card shows the new one, and says so.
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == ids["PH-3"]).values(price=Decimal("150.00"))
        )
    answer, card = await chat.press(f"prod:{ids['PH-3']}:20290:{ids['phones']}:0")
    assert answer.params["show_alert"] is True
    assert answer.params["text"] == (
        "Цена изменилась с тех пор, как был показан список: теперь 150,00\xa0$."
    )
    assert card is not None and "150,00\xa0$" in card.params["text"]

    # The product was taken off sale: an explanation and the list again, not an error.
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == ids["PH-4"]).values(is_active=False)
        )
    answer, page = await chat.press(f"prod:{ids['PH-4']}:20390:{ids['phones']}:0")
    assert answer.params["text"] == "Этого товара больше нет в продаже."
    assert page is not None and page.params["text"] == "Телефоны — страница 1 из 2"

    # A page that no longer exists: the last one, with a note.
    answer, page = await chat.press(f"catp:{ids['phones']}:9")
    assert answer.params["text"] == "Такой страницы больше нет; вот последняя."
    assert page is not None and page.params["text"] == "Телефоны — страница 2 из 2"

    # A category whose products are all gone: explained, and the categories shown.
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == ids["CS-1"]).values(is_active=False)
        )
    answer, listing = await chat.press(f"catp:{ids['cases']}:0")
    assert answer.params["text"] == "Этой категории больше нет."
    assert listing is not None and buttons(listing) == [
        [("Телефоны (6)", f"catp:{ids['phones']}:0")]
    ]


async def test_a_product_deep_link_opens_its_card(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    chat = Chat(http, server, shop, fake_api, 6103)
    card = await chat.say("/start p_ph-2")
    assert "<b>Телефон 2</b>" in card.params["text"] and "Хороший телефон" in card.params["text"]
    assert buttons(card)[:3] == [
        [("В корзину", f"cart:add:{ids['PH-2']}")],
        [("Сравнить", f"cmp:{ids['PH-2']}")],
        [("‹ К списку", f"catp:{ids['phones']}:0")],
    ]


async def test_a_product_with_a_photo_is_shown_as_a_photo_card_within_the_caption_limit(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Product)
            .where(Product.id == ids["PH-3"])
            .values(
                photo_url="https://cdn.example.com/ph-3.jpg",
                translations={  # far beyond a caption
                    "ru": {"title": "Телефон 3", "description": "Очень хороший телефон. " * 60}
                },
                attributes={f"spec_{n}": "x" * 30 for n in range(12)},
            )
        )
        await session.execute(
            update(Product)
            .where(Product.id == ids["PH-4"])
            .values(photo_url="https://cdn.example.invalid/gone.jpg")
        )
    chat = Chat(http, server, shop, fake_api, 6106)
    photos_before = len(chat.calls("sendPhoto"))
    await post(http, server, shop, message(chat.user, "/start p_PH-3", language="ru"))
    await fake_api.wait_for(lambda _: len(chat.calls("sendPhoto")) > photos_before)
    card = chat.calls("sendPhoto")[-1]
    caption = card.params["caption"]
    assert card.params["photo"] == "https://cdn.example.com/ph-3.jpg"
    assert caption.startswith("<b>Телефон 3</b>") and len(caption) <= 1024
    assert 10 < caption.count("Очень хороший телефон.") < 60 and "…" in caption
    assert buttons(card)[0] == [("В корзину", f"cart:add:{ids['PH-3']}")]

    # Back to the list from the photo: a new text message takes the photo's place.
    sent_before = len(chat.calls("sendMessage"))
    await post(
        http,
        server,
        shop,
        callback(chat.user, f"catp:{ids['phones']}:0", message_id=1, language="ru", photo=True),
    )
    await fake_api.wait_for(lambda _: len(chat.calls("deleteMessage")) >= 1)
    assert len(chat.calls("sendMessage")) == sent_before + 1
    assert chat.calls("sendMessage")[-1].params["text"] == "Телефоны — страница 1 из 2"

    # A photo Telegram cannot fetch: the card comes as text instead.
    fallback = await chat.say("/start p_PH-4")
    assert fallback.params["text"].startswith("<b>Телефон 4</b>")


async def test_compare_two_or_three_products_side_by_side(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    chat = Chat(http, server, shop, fake_api, 6107)
    too_few = await chat.say("/compare")
    assert too_few.params["text"].startswith("Нажмите «Сравнить»")
    first = await chat.tap_only(f"cmp:{ids['PH-1']}")
    assert first.params["text"].startswith("«Телефон 1» добавлен к сравнению. Добавьте")
    for sku in ("CS-1", "PH-2", "PH-3"):  # a fourth pushes the first out
        added = await chat.tap_only(f"cmp:{ids[sku]}")
    assert added.params["text"] == "«Телефон 3» добавлен к сравнению (3 из 3): /compare"

    table = await chat.say("/compare")
    text = table.params["text"]
    assert text.splitlines()[:4] == [
        "Сравнение:",
        "1. <b>Case</b>",
        "2. <b>Телефон 2</b>",
        "3. <b>Телефон 3</b>",
    ]
    assert "1) 9,99\xa0$  2) 201,90\xa0$  3) 202,90\xa0$" in text
    assert "1) осталось всего 3  2) в наличии  3) в наличии" in text
    assert "1) —  2) 128  3) 128" in text  # storage gb: the case has none
    cleared = await chat.tap_only("cmp:0", message_id=2)
    assert cleared.params["text"] == "Сравнение очищено."
    assert (await chat.say("/compare")).params["text"].startswith("Нажмите «Сравнить»")


async def test_a_long_category_list_comes_in_pages(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    # Telegram refuses a keyboard of more than 100 buttons: 130 categories in one would
    # leave the customer without a catalog.
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        for index in range(130):
            category = Category(
                shop_id=shop.shop_id, slug=f"c{index}", name=f"Cat {index:03d}", position=index
            )
            session.add(category)
            await session.flush()
            session.add(
                Product(
                    shop_id=shop.shop_id,
                    category_id=category.id,
                    sku=f"P-{index}",
                    title=f"Thing {index}",
                    price=Decimal("1.00"),
                    currency="USD",
                    stock=1,
                )
            )
    chat = Chat(http, server, shop, fake_api, 6109)

    def labels(call: RecordedCall) -> list[str]:
        return [label for row in buttons(call) for label, _ in row]

    first = await chat.say("/catalog")
    rows = buttons(first)
    assert labels(first)[:20] == [f"Cat {n:03d} (1)" for n in range(20)]
    assert all(len(row) == 2 for row in rows[:10])
    assert rows[10] == [("Далее ›", "catl:1")]

    _, second = await chat.press("catl:1")
    assert second is not None and second.params["text"] == "Выберите категорию:"
    assert labels(second)[:20] == [f"Cat {n:03d} (1)" for n in range(20, 40)]
    assert buttons(second)[10] == [("‹ Назад", "catl:0"), ("Далее ›", "catl:2")]

    _, last = await chat.press("catl:6")
    assert last is not None
    assert labels(last) == [*(f"Cat {n:03d} (1)" for n in range(120, 130)), "‹ Назад"]

    _, beyond = await chat.press("catl:99")  # an old button after categories went away
    assert beyond is not None and labels(beyond) == labels(last)
