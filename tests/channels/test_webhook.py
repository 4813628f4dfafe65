"""The Telegram webhook over real HTTP: what is stored, what is answered, what is replied."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    Customer,
    InboundStatus,
    OutboxMessage,
    Product,
    StaffRole,
)
from souk.runtime import Runtime
from souk.services.customers import CustomerService, Person
from souk.web import SECRET_HEADER
from tests.channels.webhook_client import post, settled, stored_rows
from tests.conftest import MakeShop
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import callback, message, my_chat_member, poll_update, sticker, voice


async def test_start_greets_in_the_client_language(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    response = await post(http, server, shop, message(5001, "/start", language="ru"))
    assert response.status == 200
    await fake_api.wait_for(lambda api: api.delivered_texts(5001, bot_id=shop.bot_id))
    (text,) = fake_api.delivered_texts(5001, bot_id=shop.bot_id)
    assert "Добро пожаловать" in text and shop.slug in text
    rows = await settled(session_factory, shop, 1)
    assert [row.status for row in rows] == [InboundStatus.DONE]


@pytest.mark.parametrize(
    ("secret", "bot_id"), [("wrong", None), ("", None), (None, 424242), (None, "abc")]
)
async def test_bad_secret_or_unknown_bot_is_401_and_stores_nothing(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    secret: str | None,
    bot_id: int | None,
) -> None:
    shop = await make_shop()
    response = await post(http, server, shop, message(5002, "/start"), secret=secret, bot_id=bot_id)
    assert response.status == 401
    assert await stored_rows(session_factory, shop) == []


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"message": {}}', b"\xff\xfe", b'{"update_id": "7"}']
)
async def test_malformed_body_is_400_and_stores_nothing(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    body: bytes,
) -> None:
    shop = await make_shop()
    response = await post(http, server, shop, body)
    assert response.status == 400
    assert await stored_rows(session_factory, shop) == []


async def test_body_over_one_mebibyte_is_413(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    update = message(5003, "x")
    update["message"]["text"] = "x" * (1024 * 1024)
    response = await post(http, server, shop, update)
    assert response.status == 413
    assert await stored_rows(session_factory, shop) == []


async def test_unknown_update_kind_is_acknowledged_and_ignored(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    response = await post(http, server, shop, poll_update())
    assert response.status == 200
    assert await stored_rows(session_factory, shop) == []


async def test_duplicate_update_is_processed_once(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    update = message(5004, "/help")
    responses = await asyncio.gather(*(post(http, server, shop, update) for _ in range(5)))
    assert [r.status for r in responses] == [200] * 5
    responses = [await post(http, server, shop, update)]
    assert responses[0].status == 200
    rows = await settled(session_factory, shop, 1)
    assert len(rows) == 1
    assert len(fake_api.calls("sendMessage", chat_id=5004)) == 1


async def test_language_is_switched_and_remembered(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    await post(http, server, shop, message(5005, "/language"))
    await fake_api.wait_for(lambda api: api.calls("sendMessage", chat_id=5005))
    markup = fake_api.calls("sendMessage", chat_id=5005)[0].params["reply_markup"]
    buttons = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
    assert buttons == ["lang:en", "lang:ru", "lang:ar"]
    # The fake numbers each chat's messages from 1: the picker is message 1.
    await post(http, server, shop, callback(5005, "lang:ar", message_id=1))
    await fake_api.wait_for(lambda api: api.calls("editMessageText", chat_id=5005))
    assert fake_api.calls("editMessageText", chat_id=5005)[0].params["text"] == "اللغة: العربية."
    await post(http, server, shop, message(5005, "/help"))
    await fake_api.wait_for(lambda api: len(api.delivered_texts(5005)) >= 2)
    assert fake_api.delivered_texts(5005)[-1].startswith("إليك ما يمكنني فعله")
    async with session_factory() as session:
        language = await session.scalar(
            select(Customer.language).where(
                Customer.shop_id == shop.shop_id, Customer.external_id == "5005"
            )
        )
    assert language == "ar"


async def test_a_customer_cannot_reach_staff_commands(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={5007: StaffRole.OWNER})
    await post(http, server, shop, message(5006, "/ping"))
    await post(http, server, shop, message(5007, "/ping"))
    await fake_api.wait_for(lambda api: api.delivered_texts(5006, bot_id=shop.bot_id))
    assert "/help" in fake_api.delivered_texts(5006, bot_id=shop.bot_id)[0]
    await settled(session_factory, shop, 2)
    async with session_factory() as session:
        pushes = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.shop_id == shop.shop_id)
            )
        )
    assert [(p.chat_id, p.kind, p.method) for p in pushes] == [(5007, "ping", "sendMessage")]
    assert shop.slug in str(pushes[0].payload["text"])
    assert fake_api.delivered_texts(5007, bot_id=shop.bot_id) == []  # answered by the outbox only


async def test_deep_link_opens_a_product(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        session.add(
            Product(
                shop_id=shop.shop_id,
                sku="KB-01",
                title="Mechanical keyboard",
                translations={"ru": {"title": "Механическая клавиатура"}},
                price=Decimal("12990.50"),
                currency="USD",
                stock=2,
            )
        )
    await post(http, server, shop, message(5008, "/start p_kb-01", language="ru"))
    await fake_api.wait_for(lambda api: api.delivered_texts(5008, bot_id=shop.bot_id))
    text = fake_api.delivered_texts(5008, bot_id=shop.bot_id)[0]
    assert "Механическая клавиатура" in text
    assert "12\xa0990,50\xa0$" in text and "осталось всего 2" in text
    await post(http, server, shop, message(5009, "/start p_NOPE"))
    await fake_api.wait_for(lambda api: len(api.delivered_texts(5009, bot_id=shop.bot_id)) == 2)
    assert "no longer available" in fake_api.delivered_texts(5009, bot_id=shop.bot_id)[0]


async def test_a_failing_handler_gets_a_translated_apology_and_its_writes_are_undone(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    runtime: Runtime,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    boom = Router(name="boom")

    @boom.message(Command("boom"))
    async def explode(_: Message, person: Person, session: AsyncSession) -> None:
        await CustomerService(session).set_language(person.customer_id, "ar")  # half-done work
        raise RuntimeError("secret internals 123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")

    dispatcher = runtime.dispatcher
    assert dispatcher is not None
    dispatcher.include_router(boom)
    dispatcher.sub_routers.insert(1, dispatcher.sub_routers.pop())  # right after the errors router
    shop = await make_shop()
    await post(http, server, shop, message(5010, "/help", language="ru"))  # the customer exists
    await post(http, server, shop, message(5010, "/boom", language="ru"))
    await fake_api.wait_for(lambda api: len(api.delivered_texts(5010, bot_id=shop.bot_id)) == 2)
    text = fake_api.delivered_texts(5010, bot_id=shop.bot_id)[1]
    assert text.startswith("Извините") and "RuntimeError" not in text and "secret" not in text
    rows = await settled(session_factory, shop, 2)
    assert (rows[1].status, rows[1].error) == (InboundStatus.FAILED, "RuntimeError")
    async with session_factory() as session:
        languages = list(
            await session.scalars(select(Customer.language).where(Customer.shop_id == shop.shop_id))
        )
    assert languages == [None]  # the handler's write was rolled back with it
    await post(http, server, shop, message(5010, "/help", language="ru"))
    await fake_api.wait_for(lambda api: len(api.delivered_texts(5010, bot_id=shop.bot_id)) == 3)


async def test_updates_left_pending_are_picked_up_by_the_sweep(
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    runtime: Runtime,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """What a crash leaves stored but unprocessed is processed, once, by the next sweep."""
    from datetime import timedelta

    from souk.db.models import ChannelKind
    from souk.services.inbox import ChatRef, InboxService, NewUpdate

    shop = await make_shop()
    chat = ChatRef(ChannelKind.TELEGRAM, str(shop.bot_id), "5011")
    updates = [message(5011, text) for text in ("/help", "/start")]
    async with runtime.engine.begin() as connection:
        # Stored but never submitted, as a crash between INSERT and processing leaves them.
        await InboxService.store_many(
            connection,
            [NewUpdate(chat, str(u["update_id"]), "message", json.dumps(u)) for u in updates],
        )
    assert runtime.processor is not None
    assert await runtime.processor.sweep(older_than=timedelta(0)) >= 1
    await fake_api.wait_for(lambda api: len(api.delivered_texts(5011, bot_id=shop.bot_id)) >= 2)
    texts = fake_api.delivered_texts(5011, bot_id=shop.bot_id)
    assert texts[0].startswith("Here is what I can do") and texts[1].startswith("Hello")
    rows = await settled(session_factory, shop, 2)  # replies go out before the commit
    assert [row.status for row in rows] == [InboundStatus.DONE] * 2


async def test_a_flood_from_one_user_is_throttled_and_not_retried(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    for index in range(15):
        assert (await post(http, server, shop, message(5012, f"/flood{index}"))).status == 200
    rows = await settled(session_factory, shop, 15)
    assert all(r.status is InboundStatus.DONE for r in rows)
    replies = fake_api.delivered_texts(5012, bot_id=shop.bot_id)
    # A burst of 10 at once, then 3 a second: 15 messages in well under a second get 10-11.
    assert 10 <= len(replies) <= 11
    assert "/flood0" in replies[0]  # unknown commands are quoted back, in order


async def test_blocking_and_restarting_the_bot_is_recorded(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()

    async def blocked() -> bool | None:
        async with session_factory() as session:
            return await session.scalar(
                select(Customer.blocked).where(
                    Customer.shop_id == shop.shop_id, Customer.external_id == "5013"
                )
            )

    await post(http, server, shop, my_chat_member(5013, old="member", new="kicked"))
    await settled(session_factory, shop, 1)
    assert await blocked() is True
    await post(http, server, shop, my_chat_member(5013, old="kicked", new="member"))
    await settled(session_factory, shop, 2)
    assert await blocked() is False


async def test_a_chunked_body_without_length_is_read_whole_and_limited(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
) -> None:
    """Regression: a streamed body was read only as far as the first chunk."""
    shop = await make_shop()
    update = message(5014, "/help")
    update["message"]["caption"] = "y" * 200_000  # ignored by handlers, makes several chunks
    body = json.dumps(update).encode()

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(data), 16_384):
            yield data[start : start + 16_384]

    headers = {SECRET_HEADER: shop.secret}
    url = server.make_url(f"/webhook/telegram/{shop.bot_id}")
    async with http.post(url, data=chunks(body), headers=headers) as response:
        assert response.status == 200
    await fake_api.wait_for(lambda api: api.delivered_texts(5014, bot_id=shop.bot_id))
    too_big = json.dumps({**update, "pad": "z" * (1024 * 1024)}).encode()
    async with http.post(url, data=chunks(too_big), headers=headers) as response:
        assert response.status == 413


@pytest.mark.parametrize(
    ("accept", "query", "expected", "direction"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "", "Состояние", "ltr"),
        ("ar", "", "الحالة", "rtl"),
        ("de-DE", "", "Status", "ltr"),
        ("en", "?lang=ru", "Состояние", "ltr"),
    ],
)
async def test_landing_page_speaks_the_visitors_language(
    http: ClientSession,
    server: TestServer,
    accept: str,
    query: str,
    expected: str,
    direction: str,
) -> None:
    async with http.get(server.make_url(f"/{query}"), headers={"Accept-Language": accept}) as r:
        assert r.status == 200
        page = await r.text()
    assert f"<h2>{expected}</h2>" in page and f'dir="{direction}"' in page


async def test_health_readiness_and_metrics(http: ClientSession, server: TestServer) -> None:
    async with http.get(server.make_url("/healthz")) as r:
        assert r.status == 200 and (await r.json())["status"] == "ok"
    async with http.get(server.make_url("/readyz")) as r:
        assert r.status == 200 and await r.json() == {
            "ready": True,
            "database": True,
            "redis": True,
        }
    async with http.get(server.make_url("/metrics")) as r:
        metrics = await r.text()
    for name in (
        "souk_updates_total",
        "souk_handler_seconds_bucket",
        "souk_outbound_calls_total",
        "souk_outbox_depth",
        "souk_outbox_oldest_age_seconds",
        "souk_updates_rejected_total",
    ):
        assert name in metrics, name


async def test_storage_down_is_503_so_telegram_retries(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    await runtime.registry.get(shop.bot_id)  # the bot is known before the database fails

    async def unavailable(*_: object) -> set[int]:
        raise ConnectionRefusedError("database is down")

    monkeypatch.setattr("souk.services.inbox.InboxService.store_many", unavailable)
    update = message(5015, "/help")
    assert (await post(http, server, shop, update)).status == 503
    monkeypatch.undo()
    assert (await post(http, server, shop, update)).status == 200  # the retry is stored
    rows = await settled(session_factory, shop, 1)
    assert len(rows) == 1


async def test_stickers_and_voice_get_a_polite_hint(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
) -> None:
    shop = await make_shop()
    await post(http, server, shop, sticker(5016, language="ru"))
    await post(http, server, shop, voice(5016, language="ru"))
    await fake_api.wait_for(lambda api: len(api.delivered_texts(5016, bot_id=shop.bot_id)) == 2)
    hint = "Пока я понимаю только текст. Напишите, что вы ищете, или откройте /catalog."
    assert fake_api.delivered_texts(5016, bot_id=shop.bot_id) == [hint, hint]
