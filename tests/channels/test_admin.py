"""Platform admins' commands through the webhook; nobody else reaches them."""

from __future__ import annotations

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import StaffRole
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
    for command in ("/shops", "/stats"):
        assert (await owner.say(command)).params["text"].startswith("Я не понял")
