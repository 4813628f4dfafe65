"""One journey, three channels: start → search → card → cart → checkout with a contact →
order → a status push, on Telegram, on WhatsApp (signed webhooks, the fake Graph API
with its limits) and on the web chat, through the same handlers of the demo shop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import ChannelKind, Customer, InboundStatus, InboundUpdate, Order, OrderStatus
from souk.notify import CustomerNotifier
from souk.pushes import push_order_status
from souk.runtime import Runtime
from souk.services.demo import demo_shop, seed_demo
from souk.services.embeddings import EmbeddingService
from souk.services.orders import OrderService
from souk.services.shops import ShopService
from souk.web import SECRET_HEADER
from tests.conftest import WHATSAPP_APP_SECRET, new_bot_token
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.whatsapp_api import FakeWhatsAppAPI
from tests.fakes.whatsapp_webhooks import button_reply, contacts, sign, text_message
from tests.fixtures.telegram import callback, contact, message

PHONE = "+77017654321"
_SCREENS = ("sendMessage", "editMessageText", "sendPhoto", "editMessageCaption", "editMessageMedia")


@dataclass(frozen=True)
class Screen:
    """What a customer was shown: the text and the choices (callback data) offered."""

    text: str
    choices: list[str]


class Customer_(Protocol):
    channel: ChannelKind
    receiver: str
    key: str  # the inbox chat key: who the customer is on the channel

    async def send(self, kind: str, value: str) -> None: ...
    def screens(self) -> list[Screen]: ...


@dataclass
class Demo:
    shop_id: int
    bot_id: int
    bot_secret: str
    number: str


@pytest.fixture(scope="module")
async def demo(
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
    fake_api: FakeBotAPI,
    fake_whatsapp: FakeWhatsAppAPI,
) -> Demo:
    """The demo shop with a bot, a WhatsApp number and its web chat, searchable."""
    token, number, access = new_bot_token(), "105550001111", "demo-access-token"
    fake_api.add_bot(token)
    fake_whatsapp.add_number(number, access)
    async with session_factory() as session, session.begin():
        await seed_demo(session)
        shop = await demo_shop(session)
        bot = await ShopService(session).connect_telegram(shop, token)
        await ShopService(session).connect_whatsapp(shop, number, access)
    async with session_factory() as session:
        await EmbeddingService(session, runtime.embedder).backfill(shop.id)
    assert bot.webhook_secret is not None
    return Demo(shop.id, int(bot.external_id), bot.webhook_secret, number)


def _telegram_screen(params: dict[str, Any]) -> Screen:
    markup = params.get("reply_markup") or {}
    choices = [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]
    return Screen(str(params.get("text") or params.get("caption") or ""), choices)


def _rendered_screen(body: dict[str, Any]) -> Screen:
    kind = body.get("type")
    if kind == "text":
        return Screen(body["text"]["body"], [])
    if kind == "image":
        return Screen(body["image"].get("caption", ""), [])
    if kind != "interactive":
        return Screen("", [])
    action = body["interactive"]["action"]
    choices = [b["reply"]["id"] for b in action.get("buttons", [])]
    choices += [row["id"] for section in action.get("sections", []) for row in section["rows"]]
    return Screen(body["interactive"]["body"]["text"], choices)


class TelegramCustomer:
    channel = ChannelKind.TELEGRAM

    def __init__(
        self, http: ClientSession, server: TestServer, api: FakeBotAPI, demo: Demo
    ) -> None:
        self.http, self.server, self.api, self.demo = http, server, api, demo
        self.user = 770001
        self.receiver, self.key = str(demo.bot_id), str(self.user)

    async def send(self, kind: str, value: str) -> None:
        update = {
            "text": lambda: message(self.user, value),
            "tap": lambda: callback(self.user, value, message_id=1),
            "contact": lambda: contact(self.user, value),
        }[kind]()
        url = self.server.make_url(f"/webhook/telegram/{self.demo.bot_id}")
        async with self.http.post(
            url, json=update, headers={SECRET_HEADER: self.demo.bot_secret}
        ) as r:
            assert r.status == 200

    def screens(self) -> list[Screen]:
        return [
            _telegram_screen(c.params)
            for c in self.api.calls(chat_id=self.user)
            if c.method in _SCREENS
        ]


class WhatsAppCustomer:
    channel = ChannelKind.WHATSAPP

    def __init__(
        self, http: ClientSession, server: TestServer, api: FakeWhatsAppAPI, demo: Demo
    ) -> None:
        self.http, self.server, self.api, self.demo = http, server, api, demo
        self.receiver, self.key = demo.number, "77017654321"

    async def send(self, kind: str, value: str) -> None:
        number, wa_id = self.demo.number, self.key
        payload = {
            "text": lambda: text_message(number, wa_id, value),
            "tap": lambda: button_reply(number, wa_id, "wamid.prev", value, "x"),
            "contact": lambda: contacts(number, wa_id, "Ann", value, phone_wa_id=wa_id),
        }[kind]()
        self.api.inbound(payload)
        body = json.dumps(payload).encode()
        headers = {
            "X-Hub-Signature-256": sign(body, WHATSAPP_APP_SECRET),
            "Content-Type": "application/json",
        }
        async with self.http.post(
            self.server.make_url("/webhook/whatsapp"), data=body, headers=headers
        ) as r:
            assert r.status == 200

    def screens(self) -> list[Screen]:
        return [_rendered_screen(c.body) for c in self.api.delivered(self.key, self.demo.number)]


class WebCustomer:
    channel = ChannelKind.WEB

    def __init__(
        self, client: ClientSession, server: TestServer, runtime: Runtime, visitor: str
    ) -> None:
        self.client, self.server, self.runtime = client, server, runtime
        self.receiver, self.key = "demo", visitor
        self._seen: list[Screen] = []
        self._count = 0

    async def send(self, kind: str, value: str) -> None:
        self._count += 1
        posted: dict[str, Any] = {"id": f"m{self._count}"}
        if kind == "tap":
            posted |= {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": value}},
            }
        else:  # the web chat has no contact card: the phone is typed
            posted |= {"type": "text", "text": {"body": value}}
        async with self.client.post(self.server.make_url("/demo/messages"), json=posted) as r:
            assert r.status == 200

    def screens(self) -> list[Screen]:
        raise NotImplementedError  # read asynchronously: see `web_screens`


async def web_screens(customer: WebCustomer) -> list[Screen]:
    async with customer.client.get(customer.server.make_url("/demo/messages?after=0")) as r:
        return [_rendered_screen(m) for m in (await r.json())["messages"]]


@pytest.fixture
async def visitor(server: TestServer) -> AsyncIterator[tuple[ClientSession, str]]:
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
        async with client.get(server.make_url("/")):
            pass
        (cookie,) = [c for c in client.cookie_jar if c.key == "souk_chat"]
        yield client, cookie.value


class Journey:
    """Drives one customer and waits for each message to be handled before the next.

    On WhatsApp and the web chat, more choices than a list holds come as a numbered text
    menu: the customer types the number (`tap` does), read here from the menu the server
    remembered for them.
    """

    def __init__(
        self, customer: Any, session_factory: async_sessionmaker[AsyncSession], runtime: Runtime
    ) -> None:
        self.customer = customer
        self.session_factory = session_factory
        self.runtime = runtime
        self.sent = 0
        self.menu: dict[str, str] = {}  # callback data -> the number to type

    async def handled(self) -> None:
        for _ in range(300):
            async with self.session_factory() as session:
                rows = (
                    await session.scalars(
                        select(InboundUpdate.status).where(
                            InboundUpdate.channel == self.customer.channel,
                            InboundUpdate.receiver == self.customer.receiver,
                            InboundUpdate.chat_key == self.customer.key,
                        )
                    )
                ).all()
            if len(rows) >= self.sent and InboundStatus.PENDING not in rows:
                assert InboundStatus.FAILED not in rows
                return
            await asyncio.sleep(0.05)  # polling the database for the background processor
        raise AssertionError(f"{self.customer.channel}: message {self.sent} not handled")

    async def screens(self) -> list[Screen]:
        if isinstance(self.customer, WebCustomer):
            return await web_screens(self.customer)
        return list(self.customer.screens())

    async def do(self, kind: str, value: str) -> list[Screen]:
        """Send; the screens the customer got for it (a numbered menu's choices included)."""
        before = len(await self.screens())
        self.sent += 1
        await self.customer.send(kind, value)
        await self.handled()
        screens = (await self.screens())[before:]
        self.menu = await self._menu()
        if self.menu:
            screens.append(Screen("", list(self.menu)))
        return screens

    async def tap(self, data: str) -> list[Screen]:
        """Press the choice carrying `data`: a button, or its number in a text menu."""
        if data in self.menu:
            return await self.do("text", self.menu[data])
        return await self.do("tap", data)

    async def _menu(self) -> dict[str, str]:
        if self.customer.channel is ChannelKind.TELEGRAM:
            return {}
        async with self.session_factory() as session:
            customer_id = await session.scalar(
                select(Customer.id).where(
                    Customer.channel == self.customer.channel,
                    Customer.external_id == self.customer.key,
                )
            )
        assert customer_id is not None
        raw = await self.runtime.redis.get(f"souk:menu:{self.customer.receiver}:{customer_id}")
        return {data: number for number, data in json.loads(raw or "{}").items()}


def choice(screens: list[Screen], prefix: str) -> str:
    found = [c for screen in screens for c in screen.choices if c.startswith(prefix)]
    assert found, f"no choice {prefix!r} among {[s.choices for s in screens]}"
    return found[0]


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "web"])
async def test_one_journey_on_every_channel(
    channel: str,
    http: ClientSession,
    server: TestServer,
    demo: Demo,
    fake_api: FakeBotAPI,
    fake_whatsapp: FakeWhatsAppAPI,
    visitor: tuple[ClientSession, str],
    runtime: Runtime,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    customer: Any = {
        "telegram": lambda: TelegramCustomer(http, server, fake_api, demo),
        "whatsapp": lambda: WhatsAppCustomer(http, server, fake_whatsapp, demo),
        "web": lambda: WebCustomer(visitor[0], server, runtime, visitor[1]),
    }[channel]()
    journey = Journey(customer, session_factory, runtime)

    assert await journey.do("text", "/start")
    results = await journey.do("text", "iphone 15")
    card = await journey.tap(choice(results, "hit:"))
    assert any("iPhone 15" in screen.text for screen in card)
    await journey.tap(choice(card, "cart:add:"))
    shipping = await journey.do("text", "/checkout")
    await journey.tap(choice(shipping, "ship:pickup"))
    summary = await journey.do("contact", PHONE)
    placed = await journey.tap(choice(summary, "confirm:cod:"))
    assert placed

    async with session_factory() as session:
        order = await session.scalar(
            select(Order)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Customer.channel == customer.channel, Customer.external_id == customer.key)
        )
        assert order is not None and order.shop_id == demo.shop_id
        assert order.contact_phone == PHONE and order.status is OrderStatus.NEW
    async with session_factory() as session, session.begin():
        change = await OrderService(session, demo.shop_id).change_status(
            order.id, OrderStatus.CONFIRMED
        )
        notifier = CustomerNotifier(session, runtime.outbox(session), runtime.i18n)
        assert await push_order_status(notifier, change)
    await runtime.deliverer().run(time_budget=10)
    pushed = (await journey.screens())[-1]
    assert f"#{order.number}" in pushed.text or f"№{order.number}" in pushed.text
