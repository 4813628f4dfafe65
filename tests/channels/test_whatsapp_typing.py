"""WhatsApp's typing indicator: aiogram's "typing" on a number's bot marks the message
being answered read with a typing indicator, once per refresh, best effort."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.rendered import ANSWERING, Answering
from souk.channels.whatsapp import TYPING_REFRESH_SECONDS, WhatsAppNumbers
from souk.runtime import Runtime
from souk.services.ratelimit import RateLimiter
from tests.channels.test_whatsapp import wa_shop
from tests.conftest import MakeShop
from tests.fakes.http_fake import ManualClock
from tests.fakes.whatsapp_api import FakeWhatsAppAPI

CHAT = 42


async def test_typing_marks_the_answered_message_read_once_per_refresh(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    fake_whatsapp: FakeWhatsAppAPI,
    redis: Redis,
    runtime: Runtime,
) -> None:
    shop = await wa_shop(make_shop, session_factory)
    assert shop.whatsapp_number is not None
    clock = ManualClock()
    numbers = WhatsAppNumbers(
        session_factory=session_factory,
        settings=runtime.settings.whatsapp,
        redis=redis,
        limiter=RateLimiter(redis),
        clock=clock,
    )
    try:
        number = await numbers.get(shop.whatsapp_number)
        assert number is not None
        bot = number.bot
        assert await bot.send_chat_action(CHAT, "typing")  # nothing being answered
        answering = ANSWERING.set(Answering(CHAT, "wamid.in1"))
        try:
            await bot.send_chat_action(CHAT, "typing")
            clock.advance(TYPING_REFRESH_SECONDS - 1)
            await bot.send_chat_action(CHAT, "typing")  # still shown: not asked again
            await bot.send_chat_action(CHAT + 1, "typing")  # not the chat answered
            await bot.send_chat_action(CHAT, "upload_photo")  # WhatsApp shows only typing
            clock.advance(1)
            await bot.send_chat_action(CHAT, "typing")  # refreshed
            clock.advance(TYPING_REFRESH_SECONDS)
            fake_whatsapp.fail_next(status=400, code=100)
            # Refused: the answer goes on all the same.
            assert await bot.send_chat_action(CHAT, "typing")
        finally:
            ANSWERING.reset(answering)
    finally:
        await numbers.close()
    reads = fake_whatsapp.calls(shop.whatsapp_number, endpoint="mark_read")
    expected = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.in1",
        "typing_indicator": {"type": "text"},
    }
    assert [call.body for call in reads] == [expected] * 3
    assert [call.status for call in reads] == [200, 200, 400]
