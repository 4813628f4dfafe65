"""`souk sync add` and `souk sync --shop SLUG` as separate processes against a fake Shopify:
the store is connected, the catalog synced, and a wrong token is a clear error that never
prints the token."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import Product
from souk.embedded import ServiceURLs
from tests.conftest import MakeShop
from tests.e2e.processes import souk_env
from tests.e2e.test_cli import run
from tests.fakes.shopify_api import FakeShopify
from tests.fakes.telegram_api import FakeBotAPI

TOKEN = "shpat_cli_0123456789abcdef"


@pytest.fixture
def env(urls: ServiceURLs, fake_api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    return souk_env(urls, fake_api.base_url, tmp_path)


async def test_add_a_store_and_sync_it_from_the_command_line(
    env: dict[str, str],
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    async with FakeShopify(token=TOKEN) as store:
        store.add_product("Kettle", [("KT-9", "49.00", 4)])
        code, output = await run(
            env, "sync", "add", "--shop", shop.slug, "--shopify", store.root_url, "--token", TOKEN
        )
        assert code == 0, output
        assert "connected" in output and TOKEN not in output
        code, output = await run(env, "sync", "--shop", shop.slug)
        assert code == 0, output
        assert "1 read (every item): 1 new" in output
        store.token = "shpat_revoked"
        code, output = await run(env, "sync", "--shop", shop.slug)
    assert code == 1 and "refused the credentials (401)" in output and TOKEN not in output
    async with session_factory() as session:
        count = await session.scalar(
            select(func.count()).select_from(Product).where(Product.shop_id == shop.shop_id)
        )
    assert count == 1
