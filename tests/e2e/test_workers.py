"""Background work done by `souk worker` processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import Settings
from souk.db.models import Product
from souk.embedded import ServiceURLs
from souk.workers.app import EMBED_TASK, create_celery
from tests.channels.test_catalog import stock_shop
from tests.conftest import MakeShop
from tests.e2e.processes import SoukProcess, souk_env
from tests.fakes.telegram_api import FakeBotAPI


@pytest.fixture
def env(urls: ServiceURLs, fake_api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    return souk_env(urls, fake_api.base_url, tmp_path, WORKER_CONCURRENCY="1")


async def test_a_worker_embeds_products_off_the_request_path(
    env: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    settings: Settings,
    urls: ServiceURLs,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory)

    async def embedded() -> int:
        async with session_factory() as session:
            return int(
                await session.scalar(
                    select(func.count(Product.id)).where(
                        Product.shop_id == shop.shop_id, Product.embedding.is_not(None)
                    )
                )
                or 0
            )

    assert await embedded() == 0
    worker = await SoukProcess("worker", env, tmp_path / "worker.log").start()
    try:
        celery = create_celery(settings, urls)
        # The worker is another process: its start (and the model's first load) can take
        # tens of seconds on a loaded 2-core machine. The test plays beat, sending the task
        # every 10 s: shops take turns, but other tests' stale products come along and may
        # take more than one run's time budget.
        for tick in range(1200):
            if tick % 100 == 0:
                await asyncio.to_thread(celery.send_task, EMBED_TASK)
            if await embedded() == 8:
                break
            await asyncio.sleep(0.1)
        assert await embedded() == 8, worker.output()
    finally:
        await worker.stop()
