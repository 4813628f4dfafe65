"""/report through the webhook: the request is handed to the workers through the broker."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import StaffRole
from souk.workers.app import REPORT_TASK
from tests.channels.test_catalog import Chat
from tests.conftest import MakeShop
from tests.fakes.telegram_api import FakeBotAPI

OWNER = 6901


async def report_jobs(redis: Redis, task: str = REPORT_TASK) -> list[dict[str, Any]]:
    """The `task` tasks waiting in the broker's default queue (Celery message protocol 2),
    taken off it so no worker of a later test runs them."""
    jobs = []
    for raw in await redis.lrange("celery", 0, -1):
        envelope = json.loads(raw)
        if envelope["headers"]["task"] != task:
            continue
        await redis.lrem("celery", 1, raw)
        _, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        jobs.append(kwargs)
    return jobs


async def test_report_hands_the_work_to_a_worker(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    redis: Redis,
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    owner = Chat(http, server, shop, fake_api, OWNER)
    asked = await owner.say("/report week")
    assert asked.params["text"] == "Готовлю отчёт с графиком; он придёт через мгновение."
    assert await report_jobs(redis) == [
        {
            "shop_id": shop.shop_id,
            "bot_id": shop.bot_id,
            "chat_id": OWNER,
            "kind": "week",
            "language": "ru",
        }
    ]
    wrong = await owner.say("/report decade")
    assert wrong.params["text"].startswith("За какой период?")
    customer = Chat(http, server, shop, fake_api, OWNER + 1)
    assert (await customer.say("/report")).params["text"].startswith("Я не понял")
    assert await report_jobs(redis) == []
