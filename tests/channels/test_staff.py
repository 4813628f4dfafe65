"""Staff through the webhook: invite links, the staff menu, roles enforced, the PIN."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import Staff, StaffRole
from souk.services.staff import StaffService
from tests.channels.test_catalog import Chat
from tests.channels.webhook_client import settled
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI


async def new_invite(
    session_factory: async_sessionmaker[AsyncSession],
    shop: TestShop,
    role: StaffRole,
    *,
    made: datetime | None = None,
) -> str:
    async with session_factory() as session, session.begin():
        invite = await StaffService(session, shop.shop_id).invite(
            role, valid_for=timedelta(hours=24), now=made or datetime.now(UTC)
        )
    return invite.start_payload


async def role_of(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop, user_id: int
) -> StaffRole | None:
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        role: StaffRole | None = await session.scalar(
            select(Staff.role).where(
                Staff.shop_id == shop.shop_id, Staff.telegram_user_id == user_id
            )
        )
    return role


async def test_an_invite_makes_staff_once_and_sets_their_menu(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    payload = await new_invite(session_factory, shop, StaffRole.OWNER)
    owner = Chat(http, server, shop, fake_api, 6501)
    welcome = await owner.say(f"/start {payload}")
    assert welcome.params["text"].startswith(f"Добро пожаловать в команду Shop {shop.slug}!")
    assert "владелец" in welcome.params["text"]
    assert await role_of(session_factory, shop, 6501) is StaffRole.OWNER
    (menu,) = [c for c in fake_api.calls("setMyCommands") if c.bot_id == shop.bot_id]
    assert menu.params["scope"] == {"type": "chat", "chat_id": 6501}
    assert [c["command"] for c in menu.params["commands"]] == [
        "orders",
        "pin",
        "price",
        "stock",
        "product",
        "find",
        "lowstock",
        "receive",
        "adjust",
        "undo",
        "import",
        "export",
        "schedule",
        "unschedule",
        "reprice",
        "reprice_log",
        "report",
        "watch",
        "competitors",
        "watch_tier",
        "broadcast",
        "reply",
        "release",
        "history",
        "faq",
        "usage",
        "ping",
        "help",
    ]
    assert menu.params["commands"][0]["description"] == "Заказы магазина"

    stranger = Chat(http, server, shop, fake_api, 6502)
    reused = await stranger.say(f"/start {payload}")
    assert reused.params["text"].startswith("Ссылка-приглашение недействительна")
    assert await role_of(session_factory, shop, 6502) is None

    stale = await new_invite(
        session_factory, shop, StaffRole.MANAGER, made=datetime.now(UTC) - timedelta(hours=25)
    )
    expired = await stranger.say(f"/start {stale}")
    assert expired.params["text"].startswith("Ссылка-приглашение недействительна")
    assert await role_of(session_factory, shop, 6502) is None

    helped = await owner.say("/help")
    assert "/pin — Установить PIN магазина" in helped.params["text"]


async def test_customers_cannot_reach_staff_commands_and_only_the_owner_sets_the_pin(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={6511: StaffRole.OWNER, 6512: StaffRole.MANAGER})
    customer = Chat(http, server, shop, fake_api, 6513)
    for command in ("/pin 1234", "/ping"):
        refused = await customer.say(command)
        assert refused.params["text"].startswith("Я не понял")
    assert "Для сотрудников" not in (await customer.say("/help")).params["text"]

    manager = Chat(http, server, shop, fake_api, 6512)
    assert (await manager.say("/pin 1234")).params["text"] == (
        "Установить PIN может только владелец магазина."
    )
    owner = Chat(http, server, shop, fake_api, 6511)
    assert "4 до 8 цифр" in (await owner.say("/pin 12")).params["text"]
    done = await owner.say("/pin 2580")
    assert done.params["text"].startswith("PIN установлен.")
    # The PIN does not stay readable in the chat (the fake cannot know the user's message
    # ids, so it refuses; Telegram lets a bot delete incoming messages in private chats).
    assert fake_api.calls("deleteMessage", chat_id=6511, ok_only=False)
    rows = await settled(session_factory, shop, 0)
    stored = [json.dumps(row.payload, ensure_ascii=False) for row in rows]
    assert not any("2580" in payload for payload in stored)  # nor does it stay in the inbox
    assert any('"text": "[redacted]"' in payload for payload in stored)
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        staff = StaffService(session, shop.shop_id)
        assert await staff.pin_matches("2580") and not await staff.pin_matches("1234")
