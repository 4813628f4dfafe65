"""Posting updates to the webhook under test, and waiting for them to be processed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import InboundStatus, InboundUpdate
from souk.web import SECRET_HEADER
from tests.conftest import TestShop


async def post(
    http: ClientSession,
    server: TestServer,
    shop: TestShop,
    body: Any,
    *,
    secret: str | None = None,
    bot_id: int | str | None = None,
) -> ClientResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    url = server.make_url(f"/webhook/telegram/{bot_id if bot_id is not None else shop.bot_id}")
    headers = {
        SECRET_HEADER: shop.secret if secret is None else secret,
        "Content-Type": "application/json",
    }
    async with http.post(url, data=data, headers=headers) as response:
        await response.read()
        return response


async def stored_rows(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop
) -> list[InboundUpdate]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(InboundUpdate)
                .where(InboundUpdate.receiver == str(shop.bot_id))
                .order_by(InboundUpdate.id)
            )
        )


async def settled(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop, count: int
) -> list[InboundUpdate]:
    """Wait (bounded) until `count` updates of the shop are processed."""
    for _ in range(200):
        rows = await stored_rows(session_factory, shop)
        if len(rows) >= count and all(r.status is not InboundStatus.PENDING for r in rows):
            return rows
        await asyncio.sleep(0.05)  # polling the database for the background processor
    raise AssertionError(f"updates not processed: {[(r.external_id, r.status) for r in rows]}")
