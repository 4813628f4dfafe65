"""Human takeover and the conversation log through the webhook: a customer asks for a
person, staff get the push, staff replies reach the customer through the outbox, the bot
stays silent meanwhile, and resumes after the silence (the beat job, its time given)
or /release; a staff message pauses the bot unasked; /history; shops kept apart."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    ChannelKind,
    Conversation,
    ConversationMode,
    Customer,
    Direction,
    MessageLog,
    OutboxMessage,
    OutboxStatus,
    StaffRole,
)
from souk.runtime import Runtime
from souk.workers.conversations import purge_message_log, resume_silent_conversations
from tests.channels.test_catalog import Chat
from tests.channels.test_whatsapp import WaCustomer, processed
from tests.channels.test_whatsapp import post as wa_post
from tests.channels.webhook_client import post, settled, stored_rows
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.whatsapp_api import FakeWhatsAppAPI
from tests.fakes.whatsapp_webhooks import (
    audio,
    document,
    image,
    location,
    reaction,
    sticker,
    text_message,
)
from tests.fixtures.telegram import message, photo_message

STAFF = 7401
CUSTOMER = 7402


async def _customer_id(factory: async_sessionmaker[AsyncSession], shop: TestShop, user: int) -> int:
    await settled(factory, shop, 0)
    async with factory() as session:
        found = await session.scalar(
            select(Customer.id).where(
                Customer.shop_id == shop.shop_id, Customer.external_id == str(user)
            )
        )
    assert found is not None
    return found


async def _pushes(
    factory: async_sessionmaker[AsyncSession], shop: TestShop, kind: str
) -> list[OutboxMessage]:
    """The shop's pushes of `kind`, once its updates are processed (handlers reply
    before they commit)."""
    await settled(factory, shop, 0)
    async with factory() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.shop_id == shop.shop_id, OutboxMessage.kind == kind)
                .order_by(OutboxMessage.id)
            )
        )


async def _quiet(chat: Chat, factory: async_sessionmaker[AsyncSession], text: str) -> None:
    """Say `text` and wait until it is processed: the bot must not have answered."""
    before = len(chat.calls("sendMessage"))
    count = len(await stored_rows(factory, chat.shop)) + 1
    await post(chat.http, chat.server, chat.shop, message(chat.user, text, language="ru"))
    await settled(factory, chat.shop, count)
    assert len(chat.calls("sendMessage")) == before


async def _mode(factory: async_sessionmaker[AsyncSession], customer_id: int) -> ConversationMode:
    async with factory() as session:
        mode = await session.scalar(
            select(Conversation.mode).where(Conversation.customer_id == customer_id)
        )
    assert mode is not None
    return mode


async def test_the_takeover_cycle(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop = await make_shop(staff={STAFF: StaffRole.OWNER})
    customer, staff = (
        Chat(http, server, shop, fake_api, CUSTOMER),
        Chat(http, server, shop, fake_api, STAFF),
    )
    await customer.say("hello there")
    asked = await customer.say("I want to talk to an operator please")
    assert asked.params["text"].startswith("Я попросил сотрудника магазина")
    customer_id = await _customer_id(session_factory, shop, CUSTOMER)
    ref = f"C{customer_id}"
    (alert,) = await _pushes(session_factory, shop, "handoff")
    assert alert.chat_id == STAFF
    assert f"({ref}, telegram)" in alert.payload["text"]
    assert "hello there" in alert.payload["text"]  # the last messages, both ways
    assert "← " in alert.payload["text"]  # and the bot's answer
    assert "Reason: I want to talk to an operator please" in alert.payload["text"]

    # In human mode the bot keeps quiet; the message goes to the staff.
    await _quiet(customer, session_factory, "is the kettle in stock?")
    forwarded = (await _pushes(session_factory, shop, "handoff"))[-1]
    assert "is the kettle in stock?" in forwarded.payload["text"]
    assert f"human:reply:{customer_id}" in str(forwarded.payload["reply_markup"])
    # A photo: its line, then the photo itself, copied from the customer's chat.
    photo = photo_message(CUSTOMER, "AgACphoto", language="ru")
    count = len(await stored_rows(session_factory, shop)) + 1
    answers = len(customer.calls("sendMessage"))
    await post(http, server, shop, photo)
    await settled(session_factory, shop, count)
    assert len(customer.calls("sendMessage")) == answers  # the bot is quiet
    line, copied = (await _pushes(session_factory, shop, "handoff"))[-2:]
    assert "[photo]" in line.payload["text"] and line.id < copied.id
    assert (copied.method, copied.chat_id) == ("copyMessage", STAFF)
    assert copied.payload == {
        "chat_id": STAFF,
        "from_chat_id": CUSTOMER,
        "message_id": photo["message"]["message_id"],
        "reply_markup": line.payload["reply_markup"],  # Reply works from the photo too
    }
    await runtime.deliverer().run(time_budget=10)
    (delivered,) = fake_api.calls("copyMessage", chat_id=STAFF)
    assert delivered.params["from_chat_id"] == CUSTOMER

    # Staff: Reply, then the message, which reaches the customer through the outbox.
    before = len(staff.calls("sendMessage"))
    await staff.tap_only(f"human:reply:{customer_id}")
    await fake_api.wait_for(lambda _: len(staff.calls("sendMessage")) > before)
    prompt = staff.calls("sendMessage")[-1]
    assert prompt.params["text"].startswith(f"Напишите сообщение для {ref}")
    sent = await staff.say("Yes, 8 left. Shall I reserve one?")
    assert sent.params["text"].startswith(f"Отправлено {ref}")
    (reply,) = await _pushes(session_factory, shop, "staff_reply")
    assert (reply.chat_id, reply.payload["text"]) == (CUSTOMER, "Yes, 8 left. Shall I reserve one?")
    async with session_factory() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.customer_id == customer_id)
        )
    assert conversation is not None and conversation.staff_telegram_id == STAFF

    # Silence: the beat job at a time after the pause gives the customer back to the bot.
    later = datetime.now(UTC) + timedelta(minutes=runtime.settings.core.human_takeover_minutes)
    await resume_silent_conversations(runtime, later - timedelta(minutes=5))
    assert await _mode(session_factory, customer_id) is ConversationMode.HUMAN
    assert await resume_silent_conversations(runtime, later + timedelta(minutes=1)) >= 1
    assert await _mode(session_factory, customer_id) is ConversationMode.BOT
    (back,) = await _pushes(session_factory, shop, "takeover")
    assert back.chat_id == CUSTOMER and "снова отвечает помощник" in back.payload["text"]
    await customer.say("hello again")  # answered by the bot again

    # A reply to the old push now: a clear answer, nothing sent.
    late = message(STAFF, "one more thing", language="ru")
    late["message"]["reply_to_message"] = {
        "message_id": 9,
        "from": {"id": shop.bot_id, "is_bot": True, "first_name": "Shop"},
        "chat": {"id": STAFF, "type": "private"},
        "date": int(time.time()),
        "text": forwarded.payload["text"],
    }
    before = len(staff.calls("sendMessage"))
    await post(http, server, shop, late)
    await fake_api.wait_for(lambda _: len(staff.calls("sendMessage")) > before)
    assert (
        staff.calls("sendMessage")[-1]
        .params["text"]
        .startswith(f"Не отправлено: разговор с {ref} вернулся к боту")
    )
    assert len(await _pushes(session_factory, shop, "staff_reply")) == 1

    # /reply pauses the bot though the customer did not ask; /release tells them.
    paused = await staff.say(f"/reply {ref} Your kettle is reserved.")
    assert paused.params["text"].startswith(f"Отправлено {ref}")
    await _quiet(customer, session_factory, "thanks!")
    released = await staff.say(f"/release {ref}")
    assert released.params["text"] == f"Бот снова отвечает {ref}; покупателю сообщили."
    assert len(await _pushes(session_factory, shop, "takeover")) == 2
    again = await staff.say(f"/release {ref}")
    assert again.params["text"] == f"Бот уже отвечал {ref}."

    # Everything is in the log, both ways, with its kind; /history shows it. Pushes to
    # the customer are logged once delivered; those to the staff are not the customer's.
    await runtime.deliverer().run(time_budget=10)
    async with session_factory() as session:
        logged = list(
            await session.execute(
                select(MessageLog.direction, MessageLog.kind, MessageLog.body)
                .where(MessageLog.shop_id == shop.shop_id)
                .order_by(MessageLog.created_at, MessageLog.id)
            )
        )
    assert (Direction.IN, "text", "hello there") in logged
    assert (Direction.IN, "text", "is the kettle in stock?") in logged
    assert (Direction.OUT, "staff", "Yes, 8 left. Shall I reserve one?") in logged
    assert (Direction.IN, "text", "thanks!") in logged
    assert any(d is Direction.OUT and k == "text" for d, k, _ in logged)  # the bot's replies
    resumed = [body for d, k, body in logged if (d, k) == (Direction.OUT, "takeover")]
    assert len(resumed) == 2 and all(body and "снова отвечает помощник" in body for body in resumed)
    staff_said = [body for _, _, body in logged if body == "Yes, 8 left. Shall I reserve one?"]
    assert len(staff_said) == 1  # logged when queued, with its author; not again when sent
    assert not any(k == "handoff" for _, k, _ in logged)
    assert not any(body and "/reply" in body for _, _, body in logged)  # staff's own chat
    history = await staff.say(f"/history {ref}")
    assert (
        "thanks!" in history.params["text"] and "Your kettle is reserved." in history.params["text"]
    )


async def test_bad_staff_input_and_tenancy(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={STAFF: StaffRole.OWNER})
    other = await make_shop(staff={STAFF + 10: StaffRole.OWNER})
    stranger = Chat(http, server, other, fake_api, CUSTOMER + 10)
    await stranger.say("/human")
    theirs = await _customer_id(session_factory, other, CUSTOMER + 10)
    staff = Chat(http, server, shop, fake_api, STAFF)
    for command in (f"/reply C{theirs} hi", f"/history C{theirs}", f"/release C{theirs}"):
        refused = await staff.say(command)
        assert refused.params["text"] == f"В этом магазине нет покупателя или заказа «C{theirs}»."
    assert (await staff.say("/reply 99999 hi")).params["text"] == (
        "В этом магазине нет покупателя или заказа «99999»."
    )
    assert (await staff.say("/reply")).params["text"].startswith("Напишите: /reply C12")
    # Only the other shop's staff heard of its customer.
    assert [p.chat_id for p in await _pushes(session_factory, other, "handoff")] == [STAFF + 10]
    assert await _pushes(session_factory, shop, "handoff") == []


async def test_old_messages_are_purged(
    make_shop: MakeShop,
    http: ClientSession,
    server: TestServer,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop = await make_shop()
    await Chat(http, server, shop, fake_api, CUSTOMER + 20).say("hello")
    await settled(session_factory, shop, 0)
    retention = timedelta(days=runtime.settings.messages.retention_days)
    async with session_factory() as session:
        count = len(
            list(
                await session.scalars(
                    select(MessageLog.id).where(MessageLog.shop_id == shop.shop_id)
                )
            )
        )
    assert count == 2  # the message and the reply
    await purge_message_log(runtime, datetime.now(UTC) + retention - timedelta(hours=1))
    async with session_factory() as session:
        kept = list(
            await session.scalars(select(MessageLog.id).where(MessageLog.shop_id == shop.shop_id))
        )
    assert len(kept) == 2
    await purge_message_log(runtime, datetime.now(UTC) + retention + timedelta(minutes=1))
    async with session_factory() as session:
        kept = list(
            await session.scalars(select(MessageLog.id).where(MessageLog.shop_id == shop.shop_id))
        )
    assert kept == []


async def test_a_whatsapp_customer_is_taken_over_and_answered_on_whatsapp(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    fake_whatsapp: FakeWhatsAppAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop = await make_shop(staff={STAFF + 30: StaffRole.OWNER}, whatsapp=True)
    number = shop.whatsapp_number
    assert number is not None
    customer = WaCustomer(http, server, fake_whatsapp, number, "77015559001")
    await customer.say("help")
    asked = await customer.say("хочу поговорить с оператором")
    assert any("asked a person" in str(m) for m in asked)
    await processed(session_factory, number, 2)
    async with session_factory() as session:
        customer_id = await session.scalar(
            select(Customer.id).where(
                Customer.shop_id == shop.shop_id, Customer.external_id == customer.wa_id
            )
        )
    assert customer_id is not None
    (alert,) = await _pushes(session_factory, shop, "handoff")
    assert f"(C{customer_id}, whatsapp)" in alert.payload["text"]

    # Silent on WhatsApp too: the message is stored, processed, logged and forwarded.
    before = len(customer.received())
    fake_whatsapp.inbound(payload := text_message(number, customer.wa_id, "where is my parcel?"))
    assert (await wa_post(http, server, payload)).status == 200
    await processed(session_factory, number, 3)
    assert len(customer.received()) == before
    assert (
        "where is my parcel?"
        in (await _pushes(session_factory, shop, "handoff"))[-1].payload["text"]
    )

    # Their photo and their location reach the staff as themselves, after their lines:
    # the photo downloaded from the Cloud API and uploaded to the staff's chat.
    photo = fake_whatsapp.add_media(None, b"\xff\xd8\xff\xe0 a photo of the parcel")
    fake_whatsapp.inbound(
        payload := image(number, customer.wa_id, photo.id, sha256=photo.sha256, caption="torn")
    )
    assert (await wa_post(http, server, payload)).status == 200
    fake_whatsapp.inbound(payload := location(number, customer.wa_id, 43.238949, 76.889709))
    assert (await wa_post(http, server, payload)).status == 200
    note = fake_whatsapp.add_media(None, b"OggS a voice note", "audio/ogg; codecs=opus")
    fake_whatsapp.inbound(payload := audio(number, customer.wa_id, note.id, sha256=note.sha256))
    assert (await wa_post(http, server, payload)).status == 200
    paper = fake_whatsapp.add_media(None, b"%PDF-1.7 an invoice", "application/pdf")
    fake_whatsapp.inbound(
        payload := document(
            number, customer.wa_id, paper.id, sha256=paper.sha256, filename="счёт 7.pdf"
        )
    )
    assert (await wa_post(http, server, payload)).status == 200
    # A sticker is sent as one; an animated one as a file (Telegram's animated stickers
    # are TGS or WEBM, not WebP).
    webp = b"RIFF\x1a\x00\x00\x00WEBPVP8L a thumbs-up"
    thumb = fake_whatsapp.add_media(None, webp, "image/webp")
    dance = fake_whatsapp.add_media(None, webp.replace(b"VP8L", b"VP8X"), "image/webp")
    for media, animated in ((thumb, False), (dance, True)):
        payload = sticker(number, customer.wa_id, media.id, sha256=media.sha256, animated=animated)
        fake_whatsapp.inbound(payload)
        assert (await wa_post(http, server, payload)).status == 200
    await processed(session_factory, number, 9)
    pushes = await _pushes(session_factory, shop, "handoff")
    *_, photo_line, photo_push, _, place_push, _, voice_push, _, paper_push = pushes[:-4]
    thumb_line, thumb_push, dance_line, dance_push = pushes[-4:]
    assert paper_push.method == "sendDocument"
    assert [push.method for push in (thumb_push, dance_push)] == ["sendSticker", "sendDocument"]
    assert "[sticker]" in thumb_line.payload["text"] and "[sticker]" in dance_line.payload["text"]
    assert photo_line.payload["text"].endswith("torn")  # its caption
    assert [push.method for push in (photo_push, place_push, voice_push)] == [
        "sendPhoto",
        "sendLocation",
        "sendVoice",
    ]
    await runtime.deliverer().run(time_budget=10)
    (lines, photos, places, voices) = (
        fake_api.calls(method, chat_id=STAFF + 30)
        for method in ("sendMessage", "sendPhoto", "sendLocation", "sendVoice")
    )
    (sent_photo,), (sent_place,), (sent_voice,) = photos, places, voices
    assert fake_api.uploaded_file(f"{photo.id}.jpg") == photo.data
    uploaded = sent_voice.params[sent_voice.params["voice"].removeprefix("attach://")]
    assert fake_api.uploaded_file(uploaded["filename"]) == note.data
    # A document keeps the customer's file name.
    assert fake_api.uploaded_file("счёт 7.pdf") == paper.data
    (sent_sticker,) = fake_api.calls("sendSticker", chat_id=STAFF + 30)
    assert fake_api.uploaded_file(f"{thumb.id}.webp") == thumb.data
    assert fake_api.uploaded_file("sticker.webp") == dance.data
    assert (sent_place.params["latitude"], sent_place.params["longitude"]) == (
        43.238949,
        76.889709,
    )
    reply_button = lines[-1].params["reply_markup"]
    assert f"human:reply:{customer_id}" in str(reply_button)
    assert all(
        sent.params["reply_markup"] == reply_button
        for sent in (sent_photo, sent_place, sent_voice, sent_sticker)
    )
    assert len(customer.received()) == before  # the bot stays quiet

    # An image WhatsApp no longer has: its line reached the staff, the upload fails for
    # good (the Cloud API's answer in the push's error), nothing else is held up.
    gone = image(number, customer.wa_id, "1999999999999999", sha256="00" * 32, caption="x")
    fake_whatsapp.inbound(gone)
    assert (await wa_post(http, server, gone)).status == 200
    await processed(session_factory, number, 10)
    *_, gone_line, gone_push = await _pushes(session_factory, shop, "handoff")
    await runtime.deliverer().run(time_budget=10)
    async with session_factory() as session:
        failed = await session.get(OutboxMessage, gone_push.id)
        line = await session.get(OutboxMessage, gone_line.id)
    assert failed is not None and failed.status is OutboxStatus.FAILED
    assert "WhatsApp 100" in str(failed.last_error)
    assert line is not None and line.status is OutboxStatus.SENT
    assert len(fake_api.calls("sendPhoto", chat_id=STAFF + 30)) == 1

    # A reaction reaches the staff as one, and nothing else.
    thumbs = reaction(number, customer.wa_id, "wamid.ours", "👍")
    assert (await wa_post(http, server, fake_whatsapp.inbound(thumbs))).status == 200
    await processed(session_factory, number, 11)
    *_, reacted = await _pushes(session_factory, shop, "handoff")
    assert reacted.method == "sendMessage" and reacted.payload["text"].endswith("[reaction] 👍")

    staff = Chat(http, server, shop, fake_api, STAFF + 30)
    await staff.say(f"/reply C{customer_id} It left the warehouse today.")
    await settled(session_factory, shop, 0)
    await runtime.deliverer().run(time_budget=10)
    assert fake_whatsapp.delivered_texts(customer.wa_id, number)[-1] == (
        "It left the warehouse today."
    )
    async with session_factory() as session:
        logged = list(
            await session.execute(
                select(MessageLog.channel, MessageLog.direction, MessageLog.kind, MessageLog.body)
                .where(MessageLog.shop_id == shop.shop_id)
                .order_by(MessageLog.created_at, MessageLog.id)
            )
        )
    assert logged[0] == (ChannelKind.WHATSAPP, Direction.IN, "command", "/help")
    assert (ChannelKind.WHATSAPP, Direction.IN, "text", "where is my parcel?") in logged
    assert (
        ChannelKind.WHATSAPP,
        Direction.OUT,
        "staff",
        "It left the warehouse today.",
    ) in logged
    assert any(d is Direction.OUT and k == "text" for _, d, k, _ in logged)
