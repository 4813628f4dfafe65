"""A customer talking to a shop's bot through the webhook, and what the assistant tests
read back: everything the bot did in answer to one message, the texts, the buttons."""

from __future__ import annotations

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import LlmUsage
from tests.channels.webhook_client import post, settled, stored_rows
from tests.conftest import TestShop
from tests.fakes.telegram_api import FakeBotAPI, RecordedCall
from tests.fixtures.telegram import message


class Talk:
    """One customer (`user`) writing to `shop`'s bot in `language`."""

    def __init__(
        self,
        http: ClientSession,
        server: TestServer,
        shop: TestShop,
        api: FakeBotAPI,
        session_factory: async_sessionmaker[AsyncSession],
        user: int,
        language: str = "en",
    ) -> None:
        self.http, self.server, self.shop, self.api = http, server, shop, api
        self.session_factory, self.user, self.language = session_factory, user, language

    def calls(self) -> list[RecordedCall]:
        return [c for c in self.api.calls(chat_id=self.user) if c.bot_id == self.shop.bot_id]

    async def say(self, text: str) -> list[RecordedCall]:
        """Every call the bot made to this chat in answer, once the update is processed
        (handlers commit after they reply)."""
        before = len(self.calls())
        stored = len(await stored_rows(self.session_factory, self.shop))
        await post(
            self.http, self.server, self.shop, message(self.user, text, language=self.language)
        )
        await settled(self.session_factory, self.shop, stored + 1)
        return self.calls()[before:]


def texts(calls: list[RecordedCall]) -> list[str]:
    return [str(c.params["text"]) for c in calls if c.method == "sendMessage"]


def keyboard(call: RecordedCall) -> list[list[tuple[str, str]]]:
    markup = call.params.get("reply_markup") or {"inline_keyboard": []}
    return [[(b["text"], b["callback_data"]) for b in row] for row in markup["inline_keyboard"]]


async def usage_of(
    session_factory: async_sessionmaker[AsyncSession], shop_id: int
) -> tuple[int, int, int]:
    """The shop's LLM requests, prompt and completion tokens, all days together."""
    async with session_factory() as session:
        row = (
            await session.execute(
                select(
                    func.coalesce(func.sum(LlmUsage.requests), 0),
                    func.coalesce(func.sum(LlmUsage.prompt_tokens), 0),
                    func.coalesce(func.sum(LlmUsage.completion_tokens), 0),
                ).where(LlmUsage.shop_id == shop_id)
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])
