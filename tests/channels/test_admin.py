"""Platform admins' commands through the webhook; nobody else reaches them."""

from __future__ import annotations

import math

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import Shop, StaffRole
from souk.handlers.admin import SHOPS_PAGE_SIZE
from souk.keyboards.callbacks import AdminShopsCD
from souk.services.platform import PlatformService
from tests.channels.assistant_chat import keyboard
from tests.channels.test_catalog import Chat, stock_shop
from tests.conftest import ADMIN_ID, MakeShop
from tests.fakes.telegram_api import FakeBotAPI


async def test_admins_see_every_shop_and_the_platform_figures(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory, staff={7001: StaffRole.OWNER})
    other = await make_shop()
    admin = Chat(http, server, shop, fake_api, ADMIN_ID)
    shops = (await admin.say("/shops")).params["text"]
    assert shops.startswith("Магазины (сначала новые):")
    assert f"<b>{other.slug}</b> — Shop {other.slug}: 0 товаров" in shops
    assert (
        f"<b>{shop.slug}</b> — Shop {shop.slug}: 8 товаров, 1 покупателей, 1 сотрудников" in shops
    )
    stats = (await admin.say("/stats")).params["text"]
    assert stats.startswith("Магазинов: ") and "Уведомлений в очереди:" in stats

    owner = Chat(http, server, shop, fake_api, 7001)
    pressed = await owner.tap_only(AdminShopsCD(page=1).pack(), message_id=1)
    assert pressed.params["text"] == "Эта кнопка устарела. Откройте меню заново."
    assert owner.calls("editMessageText") == []  # the stale-button answer, no shops
    for command in ("/shops", "/stats"):
        assert (await owner.say(command)).params["text"].startswith("Я не понял")


async def test_many_shops_come_in_pages_that_telegram_takes(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    async with session_factory() as session:
        count = await PlatformService(session).shop_count()
    for _ in range(max(0, SHOPS_PAGE_SIZE + 1 - count)):
        await make_shop()
    long_name = await make_shop()
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Shop).where(Shop.id == long_name.shop_id).values(name="Ü & <b>" * 28)
        )
        pages = math.ceil(await PlatformService(session).shop_count() / SHOPS_PAGE_SIZE)
    admin = Chat(http, server, shop, fake_api, ADMIN_ID)

    first = await admin.say("/shops")
    text = first.params["text"]
    assert text.startswith(f"Магазины (сначала новые): страница 1 из {pages}")
    assert len(text.splitlines()) == 1 + SHOPS_PAGE_SIZE
    # The name is cut at 60 characters, then escaped.
    assert f"<b>{long_name.slug}</b> — {'Ü &amp; &lt;b&gt;' * 8}Ü &amp;…: 0 товаров" in text
    assert len(text) < 4096
    assert keyboard(first) == [[("Далее ›", AdminShopsCD(page=1).pack())]]

    _, last = await admin.press(AdminShopsCD(page=pages + 5).pack())  # past the end: the last
    assert last is not None
    assert last.params["text"].startswith(f"Магазины (сначала новые): страница {pages} из {pages}")
    assert keyboard(last) == [[("‹ Назад", AdminShopsCD(page=pages - 2).pack())]]
    assert long_name.slug not in last.params["text"]
