"""The WhatsApp webhook over real HTTP: signed intake, dedupe, statuses, and replies
rendered by the same handlers through the fake Graph API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    ChannelKind,
    Customer,
    DeliveryStatus,
    Direction,
    InboundStatus,
    InboundUpdate,
    MessageLog,
    OutboxMessage,
    StaffRole,
)
from souk.notify import CustomerNotifier
from souk.runtime import Runtime
from souk.services.embeddings import EmbeddingService
from tests.channels.test_catalog import stock_shop
from tests.conftest import WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, MakeShop, TestShop
from tests.fakes.whatsapp_api import FakeWhatsAppAPI
from tests.fakes.whatsapp_webhooks import (
    button_reply,
    envelope,
    list_reply,
    reaction,
    sign,
    text_message,
    user_preferences,
    verification_query,
)

CUSTOMER = "77011234567"


async def post(
    http: ClientSession,
    server: TestServer,
    payload: Any,
    *,
    secret: str | None = WHATSAPP_APP_SECRET,
) -> ClientResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = sign(body, secret)
    return await http.post(server.make_url("/webhook/whatsapp"), data=body, headers=headers)


async def rows(
    session_factory: async_sessionmaker[AsyncSession], number: str
) -> list[InboundUpdate]:
    async with session_factory() as session:
        found = await session.scalars(
            select(InboundUpdate)
            .where(InboundUpdate.channel == ChannelKind.WHATSAPP, InboundUpdate.receiver == number)
            .order_by(InboundUpdate.id)
        )
        return list(found)


async def processed(
    session_factory: async_sessionmaker[AsyncSession], number: str, count: int
) -> list[InboundUpdate]:
    """The number's stored messages once `count` of them are processed (handlers commit
    after their replies, so a reply can arrive first)."""
    for _ in range(200):
        found = await rows(session_factory, number)
        if len(found) >= count and all(r.status is not InboundStatus.PENDING for r in found):
            return found
        await asyncio.sleep(0.05)  # polling the database for the background processor
    raise AssertionError(f"messages not processed: {[(r.external_id, r.status) for r in found]}")


async def wa_shop(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> TestShop:
    shop, _ = await stock_shop(make_shop, session_factory, whatsapp=True)
    assert shop.whatsapp_number is not None
    return shop


async def test_the_verify_handshake_echoes_the_challenge_for_our_token_only(
    http: ClientSession, server: TestServer
) -> None:
    url = server.make_url("/webhook/whatsapp")
    good = await http.get(url, params=verification_query(WHATSAPP_VERIFY_TOKEN, "4242"))
    assert good.status == 200 and await good.text() == "4242"
    bad = await http.get(url, params=verification_query("guess", "4242"))
    assert bad.status == 403 and "4242" not in await bad.text()


async def test_only_signed_payloads_are_stored_and_each_message_once(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await wa_shop(make_shop, session_factory)
    number = shop.whatsapp_number
    assert number is not None
    payload = fake_whatsapp.inbound(text_message(number, CUSTOMER, "help"))
    unsigned = await post(http, server, payload, secret=None)
    forged = await post(http, server, payload, secret="not-the-app-secret")
    assert (unsigned.status, forged.status) == (401, 401)
    assert await rows(session_factory, number) == []

    first = await post(http, server, payload)
    replay = await post(http, server, payload)
    assert (first.status, replay.status) == (200, 200)
    await fake_whatsapp.wait_for(lambda _: len(fake_whatsapp.delivered(CUSTOMER, number)) >= 1)
    (stored,) = await rows(session_factory, number)
    assert stored.external_id == payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert stored.chat_key == CUSTOMER and stored.kind == "text"
    # The reply went out through the Graph API, rendered for WhatsApp (no HTML left).
    reply = fake_whatsapp.delivered_texts(CUSTOMER, number)[0]
    assert reply and "<b>" not in reply and "/catalog" in reply
    async with session_factory() as session:
        customer = await session.scalar(
            select(Customer).where(
                Customer.shop_id == shop.shop_id, Customer.channel == ChannelKind.WHATSAPP
            )
        )
    assert customer is not None and customer.external_id == CUSTOMER


async def test_bad_input_is_answered_without_storing_anything(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await wa_shop(make_shop, session_factory)
    number = shop.whatsapp_number
    assert number is not None
    assert (await post(http, server, b"{not json")).status == 400
    assert (await post(http, server, {"object": "page", "entry": []})).status == 400
    huge = json.dumps(text_message(number, CUSTOMER, "x" * (3 * 1024 * 1024))).encode()
    assert (await post(http, server, huge)).status == 413
    unknown = await post(http, server, text_message("999000999", CUSTOMER, "hi"))
    assert unknown.status == 200  # acknowledged: Meta would retry for days, to no use
    group = text_message(number, CUSTOMER, "hi all")
    group["entry"][0]["changes"][0]["value"]["messages"][0]["group_id"] = "G-1"
    assert (await post(http, server, group)).status == 200
    assert await rows(session_factory, number) == []
    async with session_factory() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(InboundUpdate)
                .where(InboundUpdate.receiver == "999000999")
            )
            == 0
        )


async def test_statuses_are_recorded_once_against_our_messages(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await wa_shop(make_shop, session_factory)
    number = shop.whatsapp_number
    assert number is not None
    statuses = {
        "statuses": [
            {
                "id": "wamid.OUT1",
                "status": "sent",
                "timestamp": "1795000000",
                "recipient_id": CUSTOMER,
            },
            {
                "id": "wamid.OUT1",
                "status": "failed",
                "timestamp": "1795000005",
                "recipient_id": CUSTOMER,
                "errors": [{"code": 131047, "title": "Re-engagement message"}],
            },
        ]
    }
    for _ in range(2):  # a redelivery records nothing new
        assert (await post(http, server, envelope(number, statuses))).status == 200
    async with session_factory() as session:
        found = (
            await session.scalars(
                select(DeliveryStatus)
                .where(DeliveryStatus.provider_message_id == "wamid.OUT1")
                .order_by(DeliveryStatus.occurred_at)
            )
        ).all()
    assert [(s.status, s.error_code) for s in found] == [("sent", None), ("failed", 131047)]
    assert await rows(session_factory, number) == []


async def test_a_list_reply_we_never_issued_is_explained(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await wa_shop(make_shop, session_factory)
    number = shop.whatsapp_number
    assert number is not None
    payload = fake_whatsapp.inbound(
        list_reply(number, CUSTOMER, "wamid.X", "forged:1", "Free stuff")
    )
    assert (await post(http, server, payload)).status == 200
    await fake_whatsapp.wait_for(lambda _: len(fake_whatsapp.delivered(CUSTOMER, number)) >= 1)
    (reply,) = fake_whatsapp.delivered_texts(CUSTOMER, number)
    assert "out of date" in reply
    (stored,) = await processed(session_factory, number, 1)
    assert stored.status is InboundStatus.DONE


async def test_a_reaction_is_logged_and_not_answered(
    wa_customer: NewWaCustomer,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, customer = await wa_customer("77015550102")
    await customer.say("help")
    (helped,) = fake_whatsapp.calls(customer.number, customer.wa_id, endpoint="messages")
    for emoji in ("👍", ""):  # given, then taken back
        await customer.post(
            reaction(customer.number, customer.wa_id, str(helped.message_id), emoji)
        )
    stored = await processed(session_factory, customer.number, 3)
    assert all(row.status is InboundStatus.DONE for row in stored)
    assert len(customer.received()) == 1  # a 👍 needs no answer
    async with session_factory() as session:
        logged = list(
            await session.execute(
                select(MessageLog.kind, MessageLog.body)
                .where(MessageLog.shop_id == shop.shop_id, MessageLog.direction == Direction.IN)
                .order_by(MessageLog.id)
            )
        )
    assert logged == [("command", "/help"), ("reaction", "👍")]


class WaCustomer:
    """A WhatsApp customer of a shop's number: writes, taps, and reads the replies."""

    def __init__(
        self, http: ClientSession, server: TestServer, api: FakeWhatsAppAPI, number: str, wa_id: str
    ) -> None:
        self.http, self.server, self.api, self.number, self.wa_id = http, server, api, number, wa_id

    def received(self) -> list[dict[str, Any]]:
        return [call.body for call in self.api.delivered(self.wa_id, self.number)]

    async def post(self, payload: dict[str, Any]) -> None:
        """Post one signed message (the window opens); not waiting for any answer."""
        self.api.inbound(payload)
        assert (await post(self.http, self.server, payload)).status == 200

    async def send(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Post one signed message; the messages the bot answered with (at least one)."""
        before = len(self.received())
        await self.post(payload)
        await self.api.wait_for(lambda _: len(self.received()) > before)
        return self.received()[before:]

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send(text_message(self.number, self.wa_id, text))

    async def tap(self, choice_id: str) -> list[dict[str, Any]]:
        return await self.send(button_reply(self.number, self.wa_id, "wamid.prev", choice_id, "x"))


# A WhatsApp customer (by wa_id) of a new stocked shop with a number.
NewWaCustomer = Callable[[str], Awaitable[tuple[TestShop, WaCustomer]]]


@pytest.fixture
def wa_customer(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> NewWaCustomer:
    async def new(wa_id: str) -> tuple[TestShop, WaCustomer]:
        shop = await wa_shop(make_shop, session_factory)
        assert shop.whatsapp_number is not None
        return shop, WaCustomer(http, server, fake_whatsapp, shop.whatsapp_number, wa_id)

    return new


def choices(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Title -> id of the buttons and list rows the bot offered."""
    found: dict[str, str] = {}
    for message in messages:
        if message.get("type") != "interactive":
            continue
        action = message["interactive"]["action"]
        for button in action.get("buttons", []):
            found[button["reply"]["title"]] = button["reply"]["id"]
        for section in action.get("sections", []):
            for row in section["rows"]:
                found[row["title"]] = row["id"]
    return found


def pick(messages: list[dict[str, Any]], starting: str) -> str:
    offered = choices(messages)
    found = [choice for title, choice in offered.items() if title.startswith(starting)]
    assert found, f"no choice starting with {starting!r} in {list(offered)}"
    return found[0]


async def test_a_customer_browses_and_fills_the_cart_on_whatsapp(
    wa_customer: NewWaCustomer,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, customer = await wa_customer("77015550001")
    categories = await customer.say("catalog")
    products = await customer.tap(pick(categories, "Phones"))
    card = await customer.tap(pick(products, "Phone 1"))
    assert any("Phone 1" in str(message) for message in card)
    added = await customer.tap(pick(card, "Add to cart"))
    cart = await customer.say("cart")
    shown = fake_whatsapp.delivered_texts(customer.wa_id, shop.whatsapp_number)
    assert any("Phone 1 × 1" in text for text in shown[-len(cart) :]), shown[-3:]
    assert added  # the add answered with something visible (its toast becomes a text)


async def push_to(runtime: Runtime, customer_id: int, text: str, key: str) -> None:
    async with runtime.session_factory() as session, session.begin():
        notifier = CustomerNotifier(session, runtime.outbox(session), runtime.i18n)
        assert await notifier.send(
            customer_id, lambda _: (text, None), kind="order_status", key=key
        )


async def test_pushes_reach_whatsapp_in_the_window_else_a_template_or_the_staff_are_told(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, _ = await stock_shop(
        make_shop, session_factory, whatsapp=True, staff={6801: StaffRole.OWNER}
    )
    number = shop.whatsapp_number
    assert number is not None
    customer = WaCustomer(http, server, fake_whatsapp, number, "77015550002")
    await customer.say("help")
    await processed(session_factory, number, 1)
    async with session_factory() as session:
        customer_id = await session.scalar(
            select(Customer.id).where(
                Customer.shop_id == shop.shop_id, Customer.external_id == customer.wa_id
            )
        )
    assert customer_id is not None

    await push_to(runtime, customer_id, "Your order #1001 is <b>shipped</b>.", "wa-push-1")
    await runtime.deliverer().run(time_budget=10)
    assert (
        fake_whatsapp.delivered_texts(customer.wa_id, number)[-1]
        == "Your order #1001 is *shipped*."
    )

    fake_whatsapp.customer_wrote(number, customer.wa_id, at=time.monotonic() - 25 * 3600)
    await push_to(runtime, customer_id, "Your order #1001 is delivered.", "wa-push-2")
    report = await runtime.deliverer().run(time_budget=10)
    assert report.failed == 1 and report.errors == {"OutsideWindow": 1}
    async with session_factory() as session:
        held = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.shop_id == shop.shop_id, OutboxMessage.chat_id == 6801
            )
        )
    assert held is not None and "more than 24 hours" in str(held.payload["text"])
    assert "Your order #1001 is delivered." in str(held.payload["text"])

    fake_whatsapp.add_template("order_update", "en_US", body_parameters=1)
    runtime.settings.whatsapp.templates = {"order_status": "order_update:en_US"}
    try:
        await push_to(runtime, customer_id, "Your order #1001\nis delivered.", "wa-push-3")
        await runtime.deliverer().run(time_budget=10)
    finally:
        runtime.settings.whatsapp.templates = {}
    last = fake_whatsapp.delivered(customer.wa_id, number)[-1].body
    assert last["type"] == "template" and last["template"]["name"] == "order_update"
    (parameter,) = last["template"]["components"][0]["parameters"]
    assert parameter == {"type": "text", "text": "Your order #1001 is delivered."}


async def opted_out(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop, wa_id: str
) -> bool:
    async with session_factory() as session:
        customer = await session.scalar(
            select(Customer).where(
                Customer.shop_id == shop.shop_id,
                Customer.channel == ChannelKind.WHATSAPP,
                Customer.external_id == wa_id,
            )
        )
    assert customer is not None
    return customer.campaigns_opted_out_at is not None


async def test_stop_typed_or_set_in_whatsapp_ends_campaigns_and_resume_restores_them(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await wa_shop(make_shop, session_factory)
    number = shop.whatsapp_number
    assert number is not None
    customer = WaCustomer(http, server, fake_whatsapp, number, "77015550003")
    told = await customer.say("STOP")
    assert "will not get news" in str(told)
    await processed(session_factory, number, 1)
    assert await opted_out(session_factory, shop, customer.wa_id)

    resume = user_preferences(number, customer.wa_id, "resume")
    assert (await post(http, server, resume)).status == 200
    assert not await opted_out(session_factory, shop, customer.wa_id)
    stop = user_preferences(number, "77015550004", "stop")  # one who never wrote
    assert (await post(http, server, stop)).status == 200
    assert await opted_out(session_factory, shop, "77015550004")
    assert len(await rows(session_factory, number)) == 1  # preferences are not messages


async def test_a_numbered_menu_is_answered_by_its_number_until_a_new_screen_replaces_it(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory, whatsapp=True)
    number = shop.whatsapp_number
    assert number is not None
    async with session_factory() as session:
        await EmbeddingService(session, runtime.embedder).backfill(shop.shop_id)
    customer = WaCustomer(http, server, fake_whatsapp, number, "77015550005")
    (results,) = await customer.say("phone")
    assert results["type"] == "text" and "\n1. " in results["text"]["body"]  # > 10 choices
    first = results["text"]["body"].split("\n1. ", 1)[1].splitlines()[0]
    card = await customer.say("1")  # the first entry: open the first result
    assert any(first.split(" · ")[0].removeprefix("1. ") in str(m) for m in card)

    await customer.say("phone")
    await processed(session_factory, number, 3)
    async with session_factory() as session:
        customer_id = await session.scalar(
            select(Customer.id).where(Customer.external_id == customer.wa_id)
        )
    menu_key = f"souk:menu:{number}:{customer_id}"
    assert await runtime.redis.exists(menu_key)
    await customer.say("cart")  # a screen without a menu
    await processed(session_factory, number, 4)
    assert not await runtime.redis.exists(menu_key)  # "1" is an answer again, not a choice
