"""The assistant through the webhook with the fake LLM over HTTP: tool calls answered with
cards, the cart changed, rounds capped, retries, the fallback with and without a key,
the typing indicator, token accounting, memory; and one customer on WhatsApp."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.ai.llm import LLMClient
from souk.config import AISettings
from souk.db.models import CartItem, Conversation, ConversationMode, OutboxMessage, StaffRole
from souk.runtime import Runtime
from souk.services.faq import FaqService, NewEntry
from tests.channels.assistant_chat import Talk, keyboard, texts, usage_of
from tests.channels.test_search import searchable_shop
from tests.channels.test_whatsapp import WaCustomer, wa_shop
from tests.conftest import MakeShop, TestShop
from tests.fakes.openai_api import Call, Fail, FakeOpenAI, RecordedWaits, Say, Stall
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.whatsapp_api import FakeWhatsAppAPI
from tests.fakes.whatsapp_webhooks import text_message


@pytest.fixture
async def shop_and_ids(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], runtime: Runtime
) -> tuple[TestShop, dict[str, int]]:
    """Seven phones (PH-0 out of stock, PH-n at 199.90 + n) and a case, embedded."""
    return await searchable_shop(make_shop, session_factory, runtime)


def card_buttons(product_id: int) -> list[list[tuple[str, str]]]:
    return [
        [("Add to cart", f"cart:add:{product_id}")],
        [("Compare", f"cmp:{product_id}")],
        [("All categories", "cats")],
    ]


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(m["content"]) for m in request["messages"] if m["role"] == "tool"]


async def test_a_search_by_the_model_is_answered_with_the_cards_of_the_products_it_names(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    shop, ids = shop_and_ids
    fake_llm.script(
        Call("search_products", {"query": "phone", "max_price": 202, "in_stock": True}),
        Say("Phone 1 costs $200.90 and Phone 2 costs $201.90."),
    )
    talk = Talk(http, server, shop, fake_api, session_factory, 7101)
    calls = await talk.say("I need a phone, 202 dollars at most")

    answer, first, second = (c for c in calls if c.method == "sendMessage")
    assert answer.params["text"] == "Phone 1 costs $200.90 and Phone 2 costs $201.90."
    assert first.params["text"].startswith("<b>Phone 1</b>\n$200.90 · in stock")
    assert keyboard(first) == card_buttons(ids["PH-1"])
    assert second.params["text"].startswith("<b>Phone 2</b>\n$201.90")
    assert keyboard(second) == card_buttons(ids["PH-2"])

    asked, answered = fake_llm.chat_requests
    system = asked["messages"][0]
    assert system["role"] == "system" and f"Shop {shop.slug}" in system["content"]
    question = {"role": "user", "content": "I need a phone, 202 dollars at most"}
    assert asked["messages"][-1] == question
    (found,) = tool_results(answered)
    skus = [product["sku"] for product in found["products"]]
    assert set(skus[:2]) == {"PH-1", "PH-2"} and "PH-3" not in skus and "PH-0" not in skus
    assert {"sku": "PH-1", "title": "Phone 1", "price": "200.90", "currency": "USD",
            "stock": "in stock"} in found["products"]  # fmt: skip
    assert fake_llm.problems == []

    # Token accounting: both completions, as the provider counted them.
    assert await usage_of(session_factory, shop.shop_id) == (
        2,
        sum(u["prompt_tokens"] for u in fake_llm.usages),
        sum(u["completion_tokens"] for u in fake_llm.usages),
    )


async def test_typing_is_shown_while_the_model_thinks_longer_than_the_delay(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    shop, _ = shop_and_ids
    talk = Talk(http, server, shop, fake_api, session_factory, 7112)
    # A quick answer needs no indicator (the delay at its largest, so a slow machine's
    # quick answer is still one).
    monkeypatch.setattr(runtime.settings.assistant, "typing_delay_seconds", 4.5)
    fake_llm.script(Say("Hello! What are you looking for?"))
    assert [c.method for c in await talk.say("hi there")] == ["sendMessage"]

    monkeypatch.setattr(runtime.settings.assistant, "typing_delay_seconds", 0.0)
    thinking = Stall(then=Say("We have phones from $200.90."))
    fake_llm.script(Call("search_products", {"query": "phone"}), thinking)
    said = asyncio.create_task(talk.say("phones?"))
    # The model is still thinking (its answer waits for the indicator): "typing…" is on.
    await fake_api.wait_for(lambda api: api.calls("sendChatAction", chat_id=7112))
    thinking.release()
    calls = await said

    assert calls[0].method == "sendChatAction" and calls[0].params["action"] == "typing"
    assert texts(calls)[0] == "We have phones from $200.90."
    assert [c.method for c in calls].count("sendChatAction") == 1


async def test_the_model_adds_to_the_cart_and_the_customer_sees_the_cart(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    shop, ids = shop_and_ids
    fake_llm.script(
        Call("add_to_cart", {"sku": "ph-3", "qty": 2}),
        Say("Добавила 2 × Телефон 3 в корзину."),
    )
    talk = Talk(http, server, shop, fake_api, session_factory, 7102, language="ru")
    answer, cart = texts(await talk.say("положи два третьих телефона в корзину"))
    assert answer == "Добавила 2 × Телефон 3 в корзину."
    assert cart.startswith("Ваша корзина:\n• Телефон 3 × 2 = 405,80")
    async with session_factory() as session:
        lines = list(
            await session.scalars(select(CartItem).where(CartItem.product_id == ids["PH-3"]))
        )
    assert [line.quantity for line in lines] == [2]
    (added,) = tool_results(fake_llm.chat_requests[-1])
    assert added["cart"]["total"] == "405.80"


async def test_tool_rounds_are_capped_and_the_last_round_must_answer(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    shop, _ = shop_and_ids
    monkeypatch.setattr(runtime.settings.assistant, "max_tool_rounds", 2)

    def looping_model(body: dict[str, Any]) -> Call | Say:
        """A model that would search forever if it were let."""
        if body.get("tool_choice") == "none":
            return Say("Phone 4 is the one.")
        return Call("search_products", {"query": "phone"})

    fake_llm.responder = looping_model
    talk = Talk(http, server, shop, fake_api, session_factory, 7103)
    answer, card = texts(await talk.say("find me the best phone"))
    assert [r["tool_choice"] for r in fake_llm.chat_requests] == ["auto", "auto", "none"]
    assert answer == "Phone 4 is the one." and card.startswith("<b>Phone 4</b>")
    assert fake_llm.problems == []


async def test_a_provider_error_is_retried_and_then_answered(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    shop, _ = shop_and_ids
    fake_llm.script(Fail(502), Say("Hello! What are you looking for?"))
    talk = Talk(http, server, shop, fake_api, session_factory, 7104)
    assert texts(await talk.say("hello there")) == ["Hello! What are you looking for?"]
    assert llm_on.seconds == [0.5] and len(fake_llm.chat_requests) == 2


@pytest.mark.parametrize(
    ("failures", "waits"),
    [
        ((Fail(503), Fail(500), Fail(500)), [0.5, 1.0]),  # still failing after 2 retries
        ((Fail(429, retry_after=120),), []),  # asks for longer than a customer waits
    ],
)
async def test_a_provider_that_stays_down_leaves_the_answer_to_the_fallback(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
    failures: tuple[Fail, ...],
    waits: list[float],
) -> None:
    shop, _ = shop_and_ids
    fake_llm.script(*failures)
    talk = Talk(http, server, shop, fake_api, session_factory, 7105)
    calls = await talk.say("phone")
    (results,) = (c for c in calls if c.method == "sendMessage")
    assert results.params["text"].startswith("Results for “phone”:")
    assert llm_on.seconds == waits and fake_llm.unused == []


async def test_a_provider_that_does_not_answer_in_time_leaves_it_to_the_fallback(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    shop, _ = shop_and_ids
    impatient = LLMClient(
        AISettings(
            openai_api_key=SecretStr(fake_llm.api_key),
            openai_base_url=fake_llm.base_url,
            llm_timeout_seconds=0.2,
            llm_max_retries=0,
        )
    )
    monkeypatch.setattr(runtime.assistant, "llm", impatient)
    stall = Stall()
    fake_llm.script(stall)
    talk = Talk(http, server, shop, fake_api, session_factory, 7106)
    (results,) = texts(await talk.say("phone"))
    stall.release()
    await impatient.close()
    assert results.startswith("Results for “phone”:")


async def test_an_answer_with_a_price_no_tool_gave_is_replaced_by_the_cards(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    shop, ids = shop_and_ids
    fake_llm.script(Call("get_product", {"sku": "PH-3"}), Say("Phone 3 is only $99 today!"))
    talk = Talk(http, server, shop, fake_api, session_factory, 7107)
    calls = [c for c in await talk.say("how much is PH-3?") if c.method == "sendMessage"]
    assert [c.params["text"].split("\n")[0] for c in calls] == [
        "Here is what I found. The prices and stock on the cards are current.",
        "<b>Phone 3</b>",
    ]
    assert "$202.90" in calls[1].params["text"] and keyboard(calls[1]) == card_buttons(ids["PH-3"])


async def test_the_recent_conversation_goes_with_the_question_within_the_budget(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    shop, _ = shop_and_ids
    fake_llm.script(Say("Which budget?"), Say("Noted."), Say("Sure."))
    talk = Talk(http, server, shop, fake_api, session_factory, 7108)
    await talk.say("Hi, I am looking for a phone " + "really " * 60)
    await talk.say("Under 300")
    said = [(m["role"], m["content"][:20]) for m in fake_llm.chat_requests[1]["messages"][1:]]
    assert said == [
        ("user", "Hi, I am looking for"),
        ("assistant", "Which budget?"),
        ("user", "Under 300"),
    ]
    # The long first message no longer fits a small budget; the latest turn does.
    monkeypatch.setattr(runtime.settings.assistant, "context_tokens", 60)
    await talk.say("Black, please")
    said = [(m["role"], m["content"]) for m in fake_llm.chat_requests[2]["messages"][1:]]
    assert said == [
        ("assistant", "Which budget?"),
        ("user", "Under 300"),
        ("assistant", "Noted."),
        ("user", "Black, please"),
    ]


async def test_the_model_answers_from_the_faq_and_hands_off_to_a_person(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    runtime: Runtime,
    session_factory: async_sessionmaker[AsyncSession],
    make_shop: MakeShop,
) -> None:
    shop = await make_shop(staff={7190: StaffRole.OWNER})
    async with session_factory() as session, session.begin():
        await FaqService(session, runtime.settings.faq, runtime.embedder).add(
            shop.shop_id, NewEntry("How long does delivery take?", "Two to three days.", "en")
        )
    fake_llm.script(
        Call("answer_faq", {"question": "How long does delivery take?"}),
        Say("Delivery takes two to three days."),
        Call("handoff_to_human", {"reason": "wants a discount"}),
        Say("I have called a colleague, they will write to you here."),
    )
    talk = Talk(http, server, shop, fake_api, session_factory, 7109)
    assert texts(await talk.say("how long is the delivery?")) == [
        "Delivery takes two to three days."
    ]
    (faq,) = tool_results(fake_llm.chat_requests[1])
    assert faq["answer"] == "Two to three days."
    assert texts(await talk.say("can I get a discount? I'd rather ask someone")) == [
        "I have called a colleague, they will write to you here."
    ]
    (handed,) = tool_results(fake_llm.chat_requests[3])
    assert handed == {"handed_off": True, "already_waiting": False, "staff_notified": True}
    async with session_factory() as session:
        mode = await session.scalar(
            select(Conversation.mode).where(Conversation.shop_id == shop.shop_id)
        )
        pushes = list(
            await session.scalars(
                select(OutboxMessage.kind).where(OutboxMessage.shop_id == shop.shop_id)
            )
        )
    assert mode is ConversationMode.HUMAN and pushes == ["handoff"]


async def test_without_a_key_the_fallback_answers_from_the_faq_the_screens_and_search(
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    runtime: Runtime,
    session_factory: async_sessionmaker[AsyncSession],
    shop_and_ids: tuple[TestShop, dict[str, int]],
) -> None:
    assert runtime.assistant.llm is None  # OPENAI_API_KEY unset: the default
    shop, _ = shop_and_ids
    async with session_factory() as session, session.begin():
        await FaqService(session, runtime.settings.faq, runtime.embedder).add(
            shop.shop_id, NewEntry("Do you accept cash?", "Yes, cash on delivery.", "en")
        )
    talk = Talk(http, server, shop, fake_api, session_factory, 7110)
    requests_before = len(fake_llm.chat_requests)

    assert texts(await talk.say("do you accept cash?")) == ["Yes, cash on delivery."]
    (orders,) = texts(await talk.say("where is my order?"))
    assert orders == "You have no orders yet. Browse the products with /catalog."
    (cart,) = texts(await talk.say("show my cart"))
    assert cart == "Your cart is empty. Browse the products with /catalog."
    (results,) = texts(await talk.say("phone under 202"))
    assert results.startswith("Results for “phone under 202”:")
    assert len(fake_llm.chat_requests) == requests_before  # no model was asked
    assert not any(c.method == "sendChatAction" for c in talk.calls())


async def test_a_whatsapp_customer_gets_the_answer_and_the_card_rendered_for_whatsapp(
    http: ClientSession,
    server: TestServer,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    make_shop: MakeShop,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await wa_shop(make_shop, session_factory)
    assert shop.whatsapp_number is not None
    monkeypatch.setattr(runtime.settings.assistant, "typing_delay_seconds", 0.0)
    thinking = Stall(then=Say("Phone 2 is in stock."))
    fake_llm.script(Call("get_product", {"sku": "PH-2"}), thinking)
    customer = WaCustomer(http, server, fake_whatsapp, shop.whatsapp_number, "77017101111")
    question = text_message(shop.whatsapp_number, customer.wa_id, "is phone 2 available?")
    said = asyncio.create_task(customer.send(question))
    # While the model thinks, the question shows as read, with WhatsApp's "typing…".
    number = shop.whatsapp_number
    await fake_whatsapp.wait_for(lambda api: api.calls(number, endpoint="mark_read"))
    thinking.release()
    await said
    (asked,) = question["entry"][0]["changes"][0]["value"]["messages"]
    (typing,) = fake_whatsapp.calls(number, endpoint="mark_read")
    assert typing.body["message_id"] == asked["id"]
    assert typing.body["typing_indicator"] == {"type": "text"}
    await fake_whatsapp.wait_for(lambda _: len(customer.received()) >= 2)
    answer, card = customer.received()
    assert answer["text"]["body"] == "Phone 2 is in stock."
    assert card["type"] == "interactive"
    assert card["interactive"]["body"]["text"].startswith("*Phone 2*\n$201.90")
    assert fake_llm.problems == []
