"""/usage through the webhook: staff see the assistant's requests and tokens of today,
yesterday, the last 7 and 30 days (UTC days, "today" being the day of their message),
the shop's own only; without a key they are told why nothing is counted; a customer's
/usage shows nothing of it. Once a shop's assistant has used ASSISTANT_DAILY_TOKENS, the
fallback answers its customers and its staff are told, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import LlmUsage, OutboxMessage, StaffRole
from souk.runtime import Runtime
from souk.services.llm_usage import UsageService
from tests.channels.assistant_chat import Talk, texts
from tests.channels.test_staff_import import StaffChat
from tests.conftest import MakeShop
from tests.fakes.openai_api import FakeOpenAI, RecordedWaits, Say
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import message

OWNER, MANAGER, CUSTOMER = 7601, 7602, 7603
NO_PROVIDER = "No AI provider is set (OPENAI_API_KEY)"


def sent_on(user: int, day: date) -> dict[str, Any]:
    """/usage from `user`, sent at noon (UTC) of `day`."""
    update = message(user, "/usage")
    update["message"]["date"] = int(
        datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()
    )
    return update


async def usage_answer(chat: StaffChat, day: date) -> str:
    return str((await chat.send(sent_on(chat.user, day))).params["text"])


async def test_staff_see_the_tokens_of_the_assistants_turns_by_period(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER, MANAGER: StaffRole.MANAGER})
    other = await make_shop()
    fake_llm.script(Say("We are open from 9 to 6."))
    talk = Talk(http, server, shop, fake_api, session_factory, CUSTOMER)
    assert texts(await talk.say("When are you open?")) == ["We are open from 9 to 6."]
    (usage,) = fake_llm.usages
    async with session_factory() as session:
        today = await session.scalar(select(LlmUsage.day).where(LlmUsage.shop_id == shop.shop_id))
    assert today is not None
    earlier = {3: (5, 1200, 300), 20: (40, 9000, 2000)}  # days back: requests, in, out
    async with session_factory() as session, session.begin():
        for back, (requests, prompt_tokens, completion_tokens) in earlier.items():
            await UsageService(session).record(
                shop.shop_id,
                today - timedelta(days=back),
                requests=requests,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        await UsageService(session).record(
            other.shop_id, today, requests=99, prompt_tokens=9999, completion_tokens=999
        )

    prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
    answer = await usage_answer(StaffChat(http, server, shop, fake_api, user=MANAGER), today)
    assert answer.splitlines() == [
        "The assistant's requests to the AI provider (days in UTC):",
        f"<b>Today</b>: requests 1 · tokens in {prompt:,} · out {completion:,}",
        "<b>Yesterday</b>: requests 0 · tokens in 0 · out 0",
        f"<b>Last 7 days</b>: requests 6 · tokens in {1200 + prompt:,} · out {300 + completion:,}",
        f"<b>Last 30 days</b>: requests 46 · tokens in {10200 + prompt:,} · out "
        f"{2300 + completion:,}",
    ]

    # The next day, today's turn is yesterday's.
    owner = StaffChat(http, server, shop, fake_api, user=OWNER)
    tomorrow = (await usage_answer(owner, today + timedelta(days=1))).splitlines()
    assert tomorrow[1:3] == [
        "<b>Today</b>: requests 0 · tokens in 0 · out 0",
        f"<b>Yesterday</b>: requests 1 · tokens in {prompt:,} · out {completion:,}",
    ]


async def test_without_a_key_staff_are_told_why_and_customers_see_nothing_of_it(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    today = datetime.now(UTC).date()
    answer = await usage_answer(StaffChat(http, server, shop, fake_api, user=OWNER), today)
    lines = answer.splitlines()
    assert lines[1] == "<b>Today</b>: requests 0 · tokens in 0 · out 0"
    assert lines[-1].startswith(NO_PROVIDER)

    customer = Talk(http, server, shop, fake_api, session_factory, CUSTOMER)
    (reply,) = texts(await customer.say("/usage"))
    assert "requests" not in reply and NO_PROVIDER not in reply


async def test_once_the_days_tokens_are_used_the_fallback_answers_and_staff_are_told_once(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    fake_llm: FakeOpenAI,
    llm_on: RecordedWaits,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    fake_llm.script(Say("We are open from 9 to 6."), Say("never asked"))
    talk = Talk(http, server, shop, fake_api, session_factory, CUSTOMER)
    assert texts(await talk.say("When are you open?")) == ["We are open from 9 to 6."]
    (usage,) = fake_llm.usages
    budget = usage["prompt_tokens"] + usage["completion_tokens"]  # spent by that turn
    settings = runtime.assistant.settings.model_copy(update={"daily_tokens": budget})
    monkeypatch.setattr(runtime.assistant, "settings", settings)

    for question in ("Do you sell umbrellas?", "And raincoats?"):
        (answer,) = texts(await talk.say(question))
        assert answer  # the fallback's (a search of an empty shop): not the model's
    assert len(fake_llm.chat_requests) == 1

    async with session_factory() as session:
        pushes = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.shop_id == shop.shop_id,
                    OutboxMessage.kind == "assistant_budget",
                )
            )
        )
    (push,) = pushes  # one, though two turns found the budget spent
    assert push.chat_id == OWNER
    assert push.payload["text"].startswith(f"The assistant has used today's {budget:,} tokens")

    # A larger budget: the model answers again.
    bigger = settings.model_copy(update={"daily_tokens": budget + 1})
    monkeypatch.setattr(runtime.assistant, "settings", bigger)
    assert texts(await talk.say("Are you open on Sunday?")) == ["never asked"]
