"""The update processor's backpressure, in-process against the real database."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy.ext.asyncio import AsyncEngine

from souk.channels.processor import UpdateProcessor
from souk.db.models import ChannelKind
from souk.runtime import Runtime
from souk.services.inbox import ChatRef, InboxService, NewUpdate
from tests.conftest import MakeShop
from tests.e2e.test_intake import user_locked
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import message


async def yield_to_others(times: int = 20) -> None:
    """Let every ready task run (not a wait for time: nothing here depends on a clock)."""
    for _ in range(times):
        await asyncio.sleep(0)


async def test_acknowledgements_wait_while_the_backlog_is_full(
    runtime: Runtime, make_shop: MakeShop, engine: AsyncEngine, fake_api: FakeBotAPI
) -> None:
    shop = await make_shop()
    assert runtime.dispatcher is not None
    processor = UpdateProcessor(
        dispatcher=runtime.dispatcher,
        session_factory=runtime.session_factory,
        autocommit_engine=runtime.intake_engine,
        resolvers={ChannelKind.TELEGRAM.value: runtime.resolve_telegram},
        settings=runtime.settings.inbox.model_copy(update={"max_backlog": 2}),
    )
    users = (5201, 5202)
    chats = [ChatRef(ChannelKind.TELEGRAM, str(shop.bot_id), str(user)) for user in users]
    async with engine.connect() as connection:
        await InboxService.store_many(
            connection,
            [
                NewUpdate(chat, str(update["update_id"]), "message", json.dumps(update))
                for chat, update in ((c, message(int(c.chat_key), "/help")) for c in chats)
            ],
        )
        await connection.commit()
    async with user_locked(engine, shop, users[0]), user_locked(engine, shop, users[1]):
        for chat in chats:
            processor.submit(chat)
        waiting = asyncio.create_task(processor.wait_for_room())
        await yield_to_others()
        assert not waiting.done()  # two updates in progress: the third sender waits
    await asyncio.wait_for(waiting, 20)
    await fake_api.wait_for(
        lambda api: all(api.delivered_texts(u, bot_id=shop.bot_id) for u in users)
    )
    await processor.close()
