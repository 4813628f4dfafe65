"""The request middleware on real bots against the fake Bot API: 429s, blocked users, limits."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import GetMe, SendChatAction, SendMessage
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.telegram_limits import TelegramLimits, counts_as_message
from souk.config import TelegramSettings
from souk.db.models import ChannelKind, Customer
from souk.runtime import Runtime
from tests.conftest import MakeShop
from tests.fakes.telegram_api import FakeBotAPI


@pytest.mark.parametrize(
    ("method", "counts"),
    [
        ("sendMessage", True),
        ("sendPhoto", True),
        ("editMessageText", True),
        ("copyMessage", True),
        ("sendChatAction", False),
        ("getMe", False),
        ("answerCallbackQuery", False),
        ("setWebhook", False),
    ],
)
def test_only_messages_count_against_send_limits(method: str, counts: bool) -> None:
    assert counts_as_message(method) is counts


def test_limits_per_chat_group_and_bot() -> None:
    limits = TelegramLimits(TelegramSettings())
    private = limits.for_call(7, SendMessage(chat_id=42, text="hi"))
    assert [limit.key for limit in private] == ["tg:7:chat:42", "tg:7"]
    assert private[0].rate.per_second == 1.0 and private[1].rate.per_second == 30.0
    group = limits.for_call(7, SendMessage(chat_id=-100123, text="hi"))
    assert group[0].key == "tg:7:group:-100123"
    assert group[0].rate.interval_ms == pytest.approx(3000.0)
    paid = limits.for_call(7, SendMessage(chat_id=42, text="hi", allow_paid_broadcast=True))
    assert paid[-1].key == "tg:7:paid" and paid[-1].rate.per_second == 1000.0
    assert limits.for_call(7, GetMe()) == []
    assert limits.for_call(7, SendChatAction(chat_id=42, action="typing")) == []


async def test_a_429_pauses_only_that_chat_and_the_call_is_retried(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
) -> None:
    shop = await make_shop()
    entry = await runtime.registry.get(shop.bot_id)
    assert entry is not None
    fake_api.force_retry_after(8101, retry_after=1, count=1)
    limited = asyncio.create_task(entry.bot.send_message(8101, "limited"))
    await fake_api.wait_for(
        lambda api: any(
            c.status == 429 for c in api.calls("sendMessage", chat_id=8101, ok_only=False)
        )
    )
    # While 8101 waits out its retry_after, other chats of the same bot keep flowing.
    others = await asyncio.gather(*(entry.bot.send_message(8102 + i, "calm") for i in range(5)))
    assert len(others) == 5
    assert not limited.done()
    message = await limited
    assert message.text == "limited"
    calls = fake_api.calls("sendMessage", chat_id=8101, ok_only=False)
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0
    calm_done = max(
        c.at
        for c in fake_api.calls("sendMessage")
        if c.params["text"] == "calm" and c.bot_id == shop.bot_id
    )
    assert calm_done < calls[1].at


async def test_per_chat_pace_is_kept_without_429s(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
) -> None:
    shop = await make_shop()
    entry = await runtime.registry.get(shop.bot_id)
    assert entry is not None
    await asyncio.gather(*(entry.bot.send_message(8201, f"m{i}") for i in range(4)))
    calls = fake_api.calls("sendMessage", chat_id=8201, ok_only=False)
    assert [c.status for c in calls] == [200] * 4  # our limiter kept under the fake's
    # Burst of 2, then one a second: the fourth went out at least two seconds after the first.
    assert calls[3].at - calls[0].at >= 1.9


async def test_a_user_who_blocked_the_bot_is_marked_unreachable(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        await session.execute(
            insert(Customer).values(
                shop_id=shop.shop_id, channel=ChannelKind.TELEGRAM, external_id="8301"
            )
        )
    entry = await runtime.registry.get(shop.bot_id)
    assert entry is not None
    fake_api.block(8301)
    with pytest.raises(TelegramForbiddenError):
        await entry.bot.send_message(8301, "hello?")
    async with session_factory() as session:
        customer = await session.scalar(
            select(Customer).where(Customer.shop_id == shop.shop_id, Customer.external_id == "8301")
        )
    assert customer is not None and customer.blocked and customer.blocked_at is not None


async def test_a_bad_request_is_raised_not_retried(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
) -> None:
    shop = await make_shop()
    entry = await runtime.registry.get(shop.bot_id)
    assert entry is not None
    with pytest.raises(TelegramBadRequest):
        await entry.bot.send_message(8401, "x" * 4097)
    assert len(fake_api.calls("sendMessage", chat_id=8401, ok_only=False)) == 1
