"""Tests of the fake Telegram Bot API, driven through a real aiogram Bot over real HTTP.

Flood-control tests inject a manual clock, so nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
)

from tests.fakes import telegram_limits as lim
from tests.fakes.http_fake import ManualClock, standalone
from tests.fakes.telegram_api import FakeBotAPI, FakeLimits, message_update
from tests.fakes.telegram_limits import ApiError, RateLimiter

TOKEN = "123456:secret-abc"
BOT_ID = 123456
USER = 1001
GROUP = -100200
ROOT = Path(__file__).resolve().parents[2]


def make_bot(base_url: str, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def api(clock: ManualClock) -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI(tokens=[TOKEN], clock=clock)
    await fake.start(port=0)
    yield fake
    await fake.close()


@pytest_asyncio.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    client = make_bot(api.base_url)
    yield client
    await client.session.close()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


# -- limits, no HTTP -----------------------------------------------------------------


def test_per_chat_bucket_bursts_then_refills(clock: ManualClock) -> None:
    limiter = RateLimiter(FakeLimits(), clock)
    assert [limiter.acquire(1, USER) for _ in range(3)] == [None, None, None]
    assert limiter.acquire(1, USER) == 1
    clock.advance(0.4)
    assert limiter.acquire(1, USER) == 1  # 0.6 s left, rounded up, never 0
    clock.advance(0.6)
    assert limiter.acquire(1, USER) is None
    assert limiter.acquire(1, USER + 1) is None  # other chats are independent
    assert limiter.acquire(2, USER) is None  # so are other bots


def test_per_bot_and_group_buckets(clock: ManualClock) -> None:
    limiter = RateLimiter(FakeLimits(), clock)
    assert all(limiter.acquire(1, chat) is None for chat in range(1, 31))
    assert limiter.acquire(1, 31) == 1
    loose = FakeLimits(per_chat_rate=100, per_chat_burst=100, per_bot_burst=100)
    limiter = RateLimiter(loose, clock)
    assert all(limiter.acquire(1, GROUP) is None for _ in range(20))
    assert limiter.acquire(1, GROUP) == 3  # 20/min refills one message every 3 s
    assert RateLimiter(FakeLimits(enabled=False), clock).acquire(1, USER) is None


def test_content_limits() -> None:
    def rejects(call: Any, *args: Any) -> str:
        with pytest.raises(ApiError) as info:
            call(*args)
        assert info.value.status == 400
        return info.value.description

    button = {"text": "b", "callback_data": "x"}
    assert lim.check_reply_markup({"inline_keyboard": [[button] * 8] * 12}) is not None
    assert "row" in rejects(lim.check_reply_markup, {"inline_keyboard": [[button] * 9]})
    assert "TOO_LONG" in rejects(lim.check_reply_markup, {"inline_keyboard": [[button]] * 101})
    assert lim.check_reply_markup({"inline_keyboard": [[{"text": "b", "callback_data": "é" * 32}]]})
    too_big = {"inline_keyboard": [[{"text": "b", "callback_data": "é" * 33}]]}  # 66 bytes
    assert rejects(lim.check_reply_markup, too_big) == "Bad Request: BUTTON_DATA_INVALID"
    assert lim.check_reply_markup({"keyboard": [[{"text": "a"}]]}) is None  # not echoed
    assert rejects(lim.check_text, "") == "Bad Request: message text is empty"
    assert rejects(lim.check_text, "x" * 4097) == "Bad Request: message is too long"
    assert "caption" in rejects(lim.check_caption, "x" * 1025)
    assert "unallowed" in rejects(lim.check_secret_token, "bad token!")
    assert lim.check_secret_token("A-z_09") == "A-z_09"
    command = {"command": "start", "description": "Start"}
    assert "TOO_MUCH" in rejects(lim.check_commands, [command] * 101)
    invoice = {
        "title": "t",
        "description": "d",
        "currency": "USD",
        "payload": "p" * 129,
        "prices": [{"label": "x", "amount": 5}],
    }
    assert "PAYLOAD" in rejects(lim.check_invoice, invoice)
    assert lim.check_invoice({**invoice, "payload": "p"}) == 5


# -- real HTTP with a real aiogram Bot -----------------------------------------------


@pytest.mark.asyncio
async def test_send_message_roundtrip(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (BOT_ID, True, f"bot{BOT_ID}_bot")
    first = await bot.send_message(USER, "hello")
    second = await bot.send_message(USER, "again")
    assert first.text == "hello" and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.id == BOT_ID
    assert second.message_id == first.message_id + 1
    group = await bot.send_message(GROUP, "hi all")
    assert (group.chat.type, group.message_id) == ("supergroup", 1)
    assert api.delivered_texts(USER) == ["hello", "again"]
    call = api.calls("SENDMESSAGE", chat_id=USER)[0]
    assert (call.bot_id, call.method, call.status, call.params["chat_id"]) == (
        BOT_ID,
        "sendMessage",
        200,
        USER,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.status = 500  # type: ignore[misc]


@pytest.mark.asyncio
async def test_validation_errors(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, " ")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message("@nobody", "hi")
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(USER, "https://example.com/a.png", caption="c" * 1025)
    assert [c.status for c in api.calls(ok_only=False)] == [400, 400, 400, 400]
    assert api.calls() == []


@pytest.mark.asyncio
async def test_reply_markup_from_multipart(api: FakeBotAPI, bot: Bot) -> None:
    good = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Buy", callback_data="buy:42")]]
    )
    message = await bot.send_message(USER, "pick", reply_markup=good)
    assert message.reply_markup is not None
    assert message.reply_markup.model_dump() == good.model_dump()
    assert api.calls("sendMessage")[0].params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Buy", "callback_data": "buy:42"}]]
    }
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Buy", callback_data="x" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "pick", reply_markup=too_long)


@pytest.mark.asyncio
async def test_flood_control_answers_retry_after(
    api: FakeBotAPI, bot: Bot, clock: ManualClock
) -> None:
    for n in range(3):
        await bot.send_message(USER, f"m{n}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(USER, "m3")
    assert info.value.retry_after >= 1
    assert "Too Many Requests: retry after" in info.value.message
    clock.advance(info.value.retry_after)
    await bot.send_message(USER, "m3")
    assert api.stats()["sendMessage"] == {"ok": 4, "retry_after": 1, "errors": 0}
    await bot.send_chat_action(USER, "typing")  # not a message: never limited


@pytest.mark.asyncio
async def test_blocked_user(api: FakeBotAPI, bot: Bot) -> None:
    api.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello")
    api.unblock(USER)
    await bot.send_message(USER, "hello")


@pytest.mark.asyncio
async def test_unknown_token_and_method(api: FakeBotAPI, http: aiohttp.ClientSession) -> None:
    stranger = make_bot(api.base_url, "999:nope")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()
    async with http.post(f"{api.base_url}/bot{TOKEN}/fooBar") as resp:
        assert resp.status == 404
        assert await resp.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
    assert [(c.bot_id, c.status) for c in api.calls(ok_only=False)] == [(999, 401), (BOT_ID, 404)]


@pytest.mark.asyncio
async def test_json_body_query_string_and_case(
    api: FakeBotAPI, http: aiohttp.ClientSession
) -> None:
    url = f"{api.base_url}/bot{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    async with http.post(
        f"{url}/SendMessage", json={"chat_id": str(USER), "text": "j", "reply_markup": markup}
    ) as resp:
        body = await resp.json()
    assert body["ok"] and body["result"]["reply_markup"] == markup
    async with http.get(f"{url}/sendmessage", params={"chat_id": USER, "text": "q"}) as resp:
        assert (await resp.json())["result"]["text"] == "q"
    assert api.delivered_texts(USER) == ["j", "q"]


@pytest.mark.asyncio
async def test_media_uploads_and_urls(api: FakeBotAPI, bot: Bot) -> None:
    upload = await bot.send_photo(USER, BufferedInputFile(b"\x89PNG" * 10, "p.png"), caption="c")
    assert upload.photo is not None and upload.photo[-1].file_size == 40
    assert upload.caption == "c"
    again = await bot.send_photo(USER, upload.photo[-1].file_id)
    assert again.photo is not None and again.photo[-1].file_id == upload.photo[-1].file_id
    doc = await bot.send_document(USER, BufferedInputFile(b"a,b\n", "price.csv"))
    assert doc.document is not None and doc.document.file_name == "price.csv"
    by_url = await bot.send_document(USER + 1, "https://example.com/catalog.pdf")
    assert by_url.document is not None


@pytest.mark.asyncio
async def test_stickers_are_webp_tgs_or_webm(api: FakeBotAPI, bot: Bot) -> None:
    webp = BufferedInputFile(b"RIFF\x10\x00\x00\x00WEBPVP8 ", "s.webp")
    sent = await bot.send_sticker(USER, webp)
    assert sent.sticker is not None and sent.sticker.width == 512
    assert sent.sticker.file_size == 16
    again = await bot.send_sticker(USER + 1, sent.sticker.file_id)
    assert again.sticker is not None and again.sticker.file_id == sent.sticker.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file type"):
        await bot.send_sticker(USER + 2, BufferedInputFile(b"\xff\xd8\xff\xe0 a jpeg", "s.jpg"))
    assert not api.calls("sendSticker", chat_id=USER + 2)  # refused before it was sent


@pytest.mark.asyncio
async def test_failure_injection(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next(1, status=502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(USER, "a")
    api.force_retry_after(USER, retry_after=7, count=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(USER, "a")
        assert info.value.retry_after == 7
    await bot.send_message(USER, "a")
    await bot.get_me()  # not a sending call: unaffected by injection
    assert api.stats()["sendMessage"] == {"ok": 1, "retry_after": 2, "errors": 1}


@pytest.mark.asyncio
async def test_edit_delete_and_callbacks(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "v1")
    edited = await bot.edit_message_text("v2", chat_id=USER, message_id=sent.message_id)
    assert not isinstance(edited, bool) and edited.text == "v2" and edited.edit_date
    link = InlineKeyboardButton(text="a", url="https://a.b")
    markup = InlineKeyboardMarkup(inline_keyboard=[[link]])
    changed = await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=markup
    )
    assert not isinstance(changed, bool) and changed.reply_markup is not None
    assert await bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("v3", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, 99)
    assert await bot.answer_callback_query("cq1", text="ok", show_alert=True)
    assert api.calls("answerCallbackQuery")[0].params["show_alert"] is True
    with pytest.raises(TelegramBadRequest):
        await bot.answer_callback_query("cq1", text="x" * 201)


@pytest.mark.asyncio
async def test_copy_message(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "v1")
    copied = await bot.copy_message(USER + 1, from_chat_id=USER, message_id=sent.message_id)
    assert copied.message_id == 1  # a MessageId, the first message of that chat
    assert api.calls("copyMessage", chat_id=USER + 1)[0].params["from_chat_id"] == USER
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(USER + 1, from_chat_id=USER, message_id=0)
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.copy_message(USER + 1, from_chat_id=USER, message_id=1, caption="x" * 1025)


@pytest.mark.asyncio
async def test_payments(api: FakeBotAPI, bot: Bot) -> None:
    prices = [LabeledPrice(label="Tea", amount=1500), LabeledPrice(label="Box", amount=250)]
    message = await bot.send_invoice(USER, "Tea", "Green tea", "order:1", "USD", prices)
    assert message.invoice is not None and message.invoice.total_amount == 1750
    assert api.calls("sendInvoice")[0].params["prices"][0] == {"label": "Tea", "amount": 1500}
    with pytest.raises(TelegramBadRequest, match="PAYLOAD"):
        await bot.send_invoice(USER, "Tea", "Green tea", "p" * 129, "USD", prices)
    assert await bot.answer_pre_checkout_query("pcq", ok=True)
    with pytest.raises(TelegramBadRequest):
        await bot.answer_pre_checkout_query("pcq", ok=False)


@pytest.mark.asyncio
async def test_commands(api: FakeBotAPI, bot: Bot) -> None:
    commands = [BotCommand(command="start", description="Open the shop")]
    assert await bot.set_my_commands(commands)
    assert [c.model_dump() for c in await bot.get_my_commands()] == [commands[0].model_dump()]
    assert await bot.get_my_commands(language_code="ar") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands(commands * 101)
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []


@pytest.mark.asyncio
async def test_webhook_and_polling_conflict(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="secret token"):
        await bot.set_webhook("https://shop.example/tg", secret_token="no spaces")
    await bot.set_webhook(
        "https://shop.example/tg",
        secret_token="s3cr-et_",
        allowed_updates=["message"],
        max_connections=10,
    )
    hook = api.webhook(BOT_ID)
    assert hook is not None and (hook.secret_token, hook.allowed_updates) == (
        "s3cr-et_",
        ["message"],
    )
    info = await bot.get_webhook_info()
    assert (info.url, info.max_connections) == ("https://shop.example/tg", 10)
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert api.webhook(BOT_ID) is None and (await bot.get_webhook_info()).url == ""


@pytest.mark.asyncio
async def test_get_updates_long_poll(api: FakeBotAPI, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_for(lambda a: a.is_polling(BOT_ID))
    update_id = api.push_update(BOT_ID, message_update(USER, "/start"))
    updates = await poll
    assert [(u.update_id, u.message.text if u.message else None) for u in updates] == [
        (update_id, "/start")
    ]
    assert await bot.get_updates(offset=update_id + 1) == []  # confirmed and forgotten
    assert api.push_update(BOT_ID, message_update(USER, "2")) == update_id + 1


@pytest.mark.asyncio
async def test_second_poller_terminates_first(api: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_for(lambda a: a.is_polling(BOT_ID))
    assert await bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first


@pytest.mark.asyncio
async def test_wait_for(api: FakeBotAPI, bot: Bot) -> None:
    waiter = asyncio.create_task(api.wait_for(lambda a: len(a.delivered_texts(USER)) == 2))
    await bot.send_message(USER, "one")
    assert not waiter.done()
    await bot.send_message(USER, "two")
    await waiter
    with pytest.raises(TimeoutError, match=r"still false after 0.05s; 2 calls recorded"):
        await api.wait_for(lambda a: False, timeout=0.05)


@pytest.mark.asyncio
async def test_control_endpoints(api: FakeBotAPI, bot: Bot, http: aiohttp.ClientSession) -> None:
    ctl = f"{api.base_url}/_fake"
    config = {"per_chat_burst": 1, "blocked": [USER + 1], "tokens": ["77:x"]}
    async with http.post(f"{ctl}/config", json=config) as resp:
        assert (await resp.json())["limits"]["per_chat_burst"] == 1
    async with http.post(f"{ctl}/config", json={"bogus": 1}) as resp:
        assert resp.status == 400
    await bot.send_message(USER, "one")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "two")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(USER + 1, "hi")
    async with http.post(f"{ctl}/updates/77", json=message_update(USER, "hey")) as resp:
        assert (await resp.json()) == {"ok": True, "update_id": 1}
    other = make_bot(api.base_url, "77:x")
    try:
        assert [u.update_id for u in await other.get_updates()] == [1]
    finally:
        await other.session.close()
    async with http.get(f"{ctl}/calls", params={"method": "sendMessage"}) as resp:
        assert [c["params"]["text"] for c in await resp.json()] == ["one"]
    async with http.get(f"{ctl}/calls", params={"chat_id": USER, "ok_only": "0"}) as resp:
        assert [c["status"] for c in await resp.json()] == [200, 429]
    async with http.get(f"{ctl}/stats") as resp:
        assert (await resp.json())["sendMessage"] == {"ok": 1, "retry_after": 1, "errors": 1}
    async with http.post(f"{ctl}/reset") as resp:
        assert resp.status == 200
    assert api.calls(ok_only=False) == [] and api.stats() == {}


@pytest.mark.asyncio
async def test_runs_as_a_process() -> None:
    async with standalone("tests.fakes.telegram_api", "--token", TOKEN, "--no-limits") as url:
        assert url.startswith("http://127.0.0.1:")
        client = make_bot(url)
        try:
            for n in range(5):  # --no-limits: no 429 even past the burst
                await client.send_message(USER, str(n))
        finally:
            await client.session.close()
