"""The demo web chat over HTTP: the page's session cookie, messages stored before they
are answered, the same bridge and handlers, replies polled by number."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.web import COOKIE
from souk.db.models import (
    ChannelKind,
    InboundStatus,
    InboundUpdate,
    OutboxMessage,
    Shop,
    ShopChannel,
    Staff,
    StaffRole,
)
from souk.runtime import Runtime
from souk.services.demo import seed_demo
from tests.browser.cdp import CHROMIUM, INSTALLED, chromium
from tests.fakes.openai_api import FakeOpenAI, RecordedWaits, Say, Stall


@pytest.fixture
async def demo(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session, session.begin():
        await seed_demo(session)  # creates what is missing: the demo shop and its web chat


@pytest.fixture
async def browser(server: TestServer, demo: None) -> AsyncIterator[ClientSession]:
    """A visitor: a client that keeps the page's cookie (on 127.0.0.1, hence unsafe)."""
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
        async with client.get(server.make_url("/")) as page:
            assert page.status == 200
        yield client


async def replies(
    client: ClientSession, server: TestServer, after: int, count: int = 1
) -> list[dict[str, Any]]:
    """The bot's messages after number `after`, once there are `count` of them."""
    for _ in range(200):
        async with client.get(server.make_url(f"/demo/messages?after={after}")) as r:
            assert r.status == 200
            found: list[dict[str, Any]] = (await r.json())["messages"]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)  # the page polls too
    raise AssertionError(f"no reply after message {after}")


def offered(message: dict[str, Any]) -> dict[str, str]:
    action = message["interactive"]["action"]
    rows = [b["reply"] for b in action.get("buttons", [])]
    rows += [row for section in action.get("sections", []) for row in section["rows"]]
    return {row["title"]: row["id"] for row in rows}


async def say(client: ClientSession, server: TestServer, message: dict[str, Any]) -> int:
    async with client.post(server.make_url("/demo/messages"), json=message) as r:
        return r.status


async def test_a_visitor_browses_the_demo_shop_through_the_bridge(
    browser: ClientSession, server: TestServer
) -> None:
    assert any(cookie.key == COOKIE for cookie in browser.cookie_jar)
    assert (
        await say(browser, server, {"id": "m1", "type": "text", "text": {"body": "catalog"}}) == 200
    )
    (categories,) = await replies(browser, server, 0)
    assert categories["n"] == 1 and categories["type"] == "interactive"
    first_category = next(iter(offered(categories).values()))
    tap = {
        "id": "m2",
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": first_category}},
    }
    assert await say(browser, server, tap) == 200
    (products,) = await replies(browser, server, 1)
    assert products["n"] == 2 and len(offered(products)) >= 2


async def test_bad_posts_are_refused_and_a_repeated_id_is_stored_once(
    browser: ClientSession,
    server: TestServer,
    http: ClientSession,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with http.post(
        server.make_url("/demo/messages"), json={"id": "x", "type": "text", "text": {"body": "hi"}}
    ) as r:
        assert r.status == 401  # no session cookie
    for bad in (
        {"id": "b1", "type": "sticker"},
        {"id": "b2", "type": "text", "text": {"body": ""}},
        {"id": "b3", "type": "text", "text": {"body": "x" * 4097}},
        {"id": "", "type": "text", "text": {"body": "hi"}},
        {"id": "b4", "type": "location", "location": {"latitude": 91, "longitude": 0}},
        ["not", "an", "object"],
    ):
        assert await say(browser, server, bad) == 400, bad  # type: ignore[arg-type]
    async with browser.post(server.make_url("/demo/messages"), data=b"{broken") as r:
        assert r.status == 400
    async with browser.get(server.make_url("/demo/messages?after=-1")) as r:
        assert r.status == 400

    message = {"id": "again", "type": "text", "text": {"body": "help"}}
    assert await say(browser, server, message) == 200
    assert await say(browser, server, message) == 200
    await replies(browser, server, 0)
    async with session_factory() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(InboundUpdate)
            .where(
                InboundUpdate.channel == ChannelKind.WEB,
                InboundUpdate.external_id.endswith(":again"),
            )
        )
    assert stored == 1


_BOT, _STAFF = "7500", 7501


@pytest.fixture
async def demo_staff(
    demo: None, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[int]:
    """The demo shop's id, with a staff member and the Telegram bot staff pushes go
    through, for one test: they and the pushes to them are gone after it."""
    async with session_factory() as session, session.begin():
        shop_id = await session.scalar(select(Shop.id).where(Shop.slug == "demo"))
        assert shop_id is not None
        bot = ShopChannel(
            shop_id=shop_id, kind=ChannelKind.TELEGRAM, external_id=_BOT, token=f"{_BOT}:demo"
        )
        staff = Staff(shop_id=shop_id, telegram_user_id=_STAFF, role=StaffRole.OWNER)
        session.add_all([bot, staff])
    yield shop_id
    async with session_factory() as session, session.begin():
        await session.execute(delete(OutboxMessage).where(OutboxMessage.receiver == _BOT))
        await session.execute(delete(Staff).where(Staff.id == staff.id))
        await session.execute(delete(ShopChannel).where(ShopChannel.id == bot.id))


async def test_in_human_mode_a_visitors_location_reaches_the_staff_as_a_location(
    browser: ClientSession,
    server: TestServer,
    session_factory: async_sessionmaker[AsyncSession],
    demo_staff: int,
) -> None:
    shop_id = demo_staff
    talk = {"id": "h1", "type": "text", "text": {"body": "I want to talk to a human"}}
    assert await say(browser, server, talk) == 200
    await replies(browser, server, 0)  # "a person will answer here"
    place = {"id": "h2", "type": "location", "location": {"latitude": 43.25, "longitude": 76.9}}
    assert await say(browser, server, place) == 200
    for _ in range(200):
        async with session_factory() as session:
            done = await session.scalar(
                select(InboundUpdate.status).where(
                    InboundUpdate.channel == ChannelKind.WEB,
                    InboundUpdate.external_id.endswith(":h2"),
                )
            )
            pushes = list(
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.shop_id == shop_id, OutboxMessage.kind == "handoff")
                    .order_by(OutboxMessage.id)
                )
            )
        if done is InboundStatus.DONE:
            break
        await asyncio.sleep(0.05)  # polling the database for the background processor
    *_, line, sent = pushes
    assert "[location]" in line.payload["text"]
    assert sent.method == "sendLocation"
    assert (sent.payload["latitude"], sent.payload["longitude"]) == (43.25, 76.9)
    async with browser.get(server.make_url("/demo/messages?after=1")) as r:
        assert (await r.json())["messages"] == []  # the bot stays quiet in human mode


_LAST = "#chat-log .bubble:last-child"


async def test_in_a_real_browser_a_visitor_reaches_a_product_card(
    server: TestServer, demo: None, tmp_path: Path
) -> None:
    assert INSTALLED, f"Debian's chromium is missing at {CHROMIUM}: `make test` installs it"
    async with chromium() as browser:
        page = await browser.new_page()
        await page.open(str(server.make_url("/")))
        await page.evaluate(
            "document.getElementById('chat-input').value = 'catalog';"
            "document.getElementById('chat-form').requestSubmit(); true"
        )
        await page.wait_for(f"document.querySelectorAll('{_LAST} .choices button').length > 0")
        category = await page.evaluate(
            f"document.querySelector('{_LAST} .choices button').innerText"
        )
        await page.evaluate(f"document.querySelector('{_LAST} .choices button').click(); true")
        await page.wait_for("document.querySelectorAll('#chat-log .bubble').length >= 4")
        await page.wait_for(f"document.querySelectorAll('{_LAST} .choices button').length > 1")
        product = await page.evaluate(
            f"document.querySelector('{_LAST} .choices button').innerText"
        )
        await page.evaluate(f"document.querySelector('{_LAST} .choices button').click(); true")
        await page.wait_for(
            f"[...document.querySelectorAll('{_LAST} .choices button')]"
            ".some((b) => b.innerText.includes('Add to cart'))"
        )
        card = await page.evaluate(f"document.querySelector('{_LAST}').innerText")
        await page.evaluate(f"document.querySelector('{_LAST}').scrollIntoView(); true")
        await page.evaluate("document.getElementById('chat').scrollIntoView(); true")
        shot = await page.screenshot("#chat")  # the chat as the visitor sees it
    (tmp_path / "product-card.png").write_bytes(shot)
    title = product.splitlines()[-1].split(" · ")[0]  # the full label (a long title is cut)
    assert category and title in card and "$" in card
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", shot[16:24])
    assert width > 150 and height > 100  # a rendered card, not an empty box


async def test_in_a_real_browser_typing_shows_while_the_assistant_thinks(
    server: TestServer,
    demo: None,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime.settings.assistant, "typing_delay_seconds", 0.0)
    thinking = Stall(then=Say("Welcome! What are you looking for?"))
    fake_llm.script(thinking)
    shown = "!document.getElementById('chat-typing').hidden"
    async with chromium() as browser:
        page = await browser.new_page()
        await page.open(str(server.make_url("/")))
        assert not await page.evaluate(shown)
        await page.evaluate(
            "document.getElementById('chat-input').value = 'hi there';"
            "document.getElementById('chat-form').requestSubmit(); true"
        )
        await page.wait_for(shown)  # the model has not answered yet
        thinking.release()
        await page.wait_for(f"document.querySelector('{_LAST}').innerText.includes('Welcome')")
        await page.wait_for("document.getElementById('chat-typing').hidden")
        label = await page.evaluate("document.getElementById('chat-typing').innerText")
    assert label == "typing…"


async def test_the_bot_answers_in_the_language_of_the_page(
    browser: ClientSession, server: TestServer
) -> None:
    async with browser.post(
        server.make_url("/demo/messages"),
        json={"id": "ru1", "type": "text", "text": {"body": "/cart"}},
        headers={"Accept-Language": "ru-RU,ru;q=0.9"},
    ) as r:
        assert r.status == 200
    (answer,) = await replies(browser, server, 0)
    assert "корзин" in str(answer).lower()
