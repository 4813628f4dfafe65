"""Campaigns through the webhook and the fake Bot API: staff set one up and send it,
customers get it with an opt-out and use it, platform admins announce to every shop's
staff; every step refuses bad input precisely, and nobody else reaches these commands."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    Campaign,
    CampaignStatus,
    Customer,
    OutboxMessage,
    OutboxPriority,
    StaffRole,
)
from souk.runtime import Runtime
from souk.services.campaigns import ButtonKind, CampaignButton, CampaignContent, CampaignService
from souk.services.platform import PlatformService
from souk.workers.app import CAMPAIGN_TASK
from souk.workers.campaigns import advance_campaign
from tests.channels.test_catalog import stock_shop
from tests.channels.test_staff_orders import deliver
from tests.channels.test_staff_reports import report_jobs
from tests.channels.webhook_client import post, settled
from tests.conftest import ADMIN_ID, MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI, RecordedCall
from tests.fixtures.telegram import callback, message, photo_message
from tests.services.test_campaigns import add_customer, start_campaign

OWNER, MANAGER = 7901, 7902
UNKNOWN = "I did not understand “{}”. Send /help to see what I can do."
OPT_OUT = [{"text": "Unsubscribe", "callback_data": "news:0"}]


class Chat:
    """Someone's chat with the shop's bot, in English."""

    def __init__(
        self, http: ClientSession, server: TestServer, shop: TestShop, api: FakeBotAPI, user: int
    ) -> None:
        self.http, self.server, self.shop, self.api, self.user = http, server, shop, api, user

    def calls(self, method: str) -> list[RecordedCall]:
        return [
            c for c in self.api.calls(method, chat_id=self.user) if c.bot_id == self.shop.bot_id
        ]

    def answers(self) -> list[RecordedCall]:
        return [c for c in self.api.calls("answerCallbackQuery") if c.bot_id == self.shop.bot_id]

    def last_id(self) -> int:
        """The id of the latest message the bot sent to this chat."""
        return len(self.calls("sendMessage")) + len(self.calls("sendPhoto"))

    async def act(
        self, update: dict[str, Any], method: str = "sendMessage", count: int = 1
    ) -> RecordedCall:
        """Post an update; the last of the bot's next `count` `method` calls in this chat
        (or answers)."""
        seen = self.answers if method == "answerCallbackQuery" else lambda: self.calls(method)
        before = len(seen())
        await post(self.http, self.server, self.shop, update)
        await self.api.wait_for(lambda _: len(seen()) >= before + count)
        return seen()[-1]

    async def say(self, text: str, count: int = 1) -> RecordedCall:
        return await self.act(message(self.user, text), count=count)

    async def press(
        self, data: str, method: str = "editMessageText", *, message_id: int | None = None
    ) -> RecordedCall:
        """Press a button (of the latest message unless told); the call it led to."""
        mid = self.last_id() if message_id is None else message_id
        return await self.act(callback(self.user, data, message_id=mid), method)


def buttons(call: RecordedCall) -> list[tuple[str, str]]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return [(b["text"], b.get("callback_data") or b.get("url")) for row in rows for b in row]


async def campaign_kicks(redis: Redis) -> list[dict[str, Any]]:
    """Campaign runs queued for the workers (published off the event loop after commit)."""
    for _ in range(100):
        jobs = await report_jobs(redis, CAMPAIGN_TASK)
        if jobs:
            return jobs
        await asyncio.sleep(0.05)  # the kick is published by an executor thread
    return []


async def test_staff_set_up_preview_and_send_a_campaign_customers_get_with_an_opt_out(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
    redis: Redis,
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory, staff={OWNER: StaffRole.OWNER})
    now = datetime.now(UTC)
    async with session_factory() as session, session.begin():
        for user in (7911, 7912, 7913):
            await add_customer(session, shop, user, language="en", seen=now)
        await add_customer(session, shop, 7914, campaigns_opted_out_at=now, seen=now)
    fake_api.block(7913)  # blocked the bot; souk learns it when the campaign reaches them
    owner = Chat(http, server, shop, fake_api, OWNER)

    asked = await owner.say("/broadcast")
    assert asked.params["text"] == "Who should get the campaign?"
    assert buttons(asked) == [
        ("All subscribed customers", "cset:all:0"),
        ("Bought in a category", "cset:cats:0"),
        ("Inactive for some days", "cset:idle:0"),
        ("Cancel", "cset:quit:0"),
    ]
    step = await owner.press("cset:all:0")
    assert step.params["text"] == (
        "Send the text of the message: up to 4096 characters, or 1024 if a photo goes with it. "
        "Bold, italics and links are kept."
    )
    typed = message(OWNER, "Spring sale: -20% on phones")
    typed["message"]["entities"] = [{"offset": 0, "length": 11, "type": "bold"}]
    step = await owner.act(typed)
    assert step.params["text"] == "Send a photo to go with the text, or press “No photo”."
    step = await owner.act(photo_message(OWNER, "AgACphoto1"))
    assert step.params["text"].startswith("Add a button? Send its label and link like this:")
    assert buttons(step) == [
        ("Button: open the catalog", "cset:catalog:0"),
        ("No button", "cset:nobutton:0"),
        ("Cancel", "cset:quit:0"),
    ]

    control = await owner.say("Sale | https://example.com/sale")
    preview = owner.calls("sendPhoto")[-1]
    assert preview.params["photo"] == "AgACphoto1"
    assert preview.params["caption"] == "<b>Spring sale</b>: -20% on phones"
    customers_see = [[{"text": "Sale", "url": "https://example.com/sale"}], OPT_OUT]
    assert preview.params["reply_markup"]["inline_keyboard"] == customers_see
    assert control.params["text"] == (
        "Above is the message as customers will get it. It goes to 3 customers: "
        "all subscribed customers."
    )
    (send_label, send), (_, cancel) = buttons(control)
    campaign_id = int(send.rsplit(":", 1)[1])
    assert (send_label, send, cancel) == (
        "Send to 3",
        f"camp:send:{campaign_id}",
        f"camp:cancel:{campaign_id}",
    )

    # A customer cannot press staff buttons, even with the right data.
    customer = Chat(http, server, shop, fake_api, 7911)
    forged = await customer.press(send, "answerCallbackQuery", message_id=1)
    assert forged.params["text"] == "This button is out of date. Please open the menu again."

    figures = await owner.press(send)
    assert owner.answers()[-1].params["text"] == "Sending has started."
    assert figures.params["text"] == (
        f"Campaign #{campaign_id} is being sent to 3 customers: all subscribed customers.\n"
        "Waiting for their turn: 3\nQueued: 0\nSent: 0\nFailed: 0\nBlocked the bot: 0"
    )
    assert buttons(figures) == [
        ("Refresh", f"camp:refresh:{campaign_id}"),
        ("Stop the campaign", f"camp:stop:{campaign_id}"),
    ]
    assert await campaign_kicks(redis) == [{"campaign_id": campaign_id}]
    again = await owner.press(send, "answerCallbackQuery")
    assert again.params["text"] == "This campaign was already sent or cancelled."

    busy = await owner.say("/broadcast")  # one campaign of a shop sends at a time
    assert busy.params["text"].startswith(
        "A campaign is being sent; the next one can start when it is done or stopped.\n\n"
        f"Campaign #{campaign_id} is being sent"
    )

    started = datetime.now(UTC)
    edits = len(owner.calls("editMessageText"))
    assert await advance_campaign(runtime, campaign_id, started) == 3
    assert len(owner.calls("editMessageText")) == edits  # figures shown at Send: not due
    await advance_campaign(runtime, campaign_id, started + timedelta(seconds=11))
    live = owner.calls("editMessageText")[-1]
    assert live.params["text"].endswith(
        "Waiting for their turn: 0\nQueued: 3\nSent: 0\nFailed: 0\nBlocked the bot: 0"
    )
    await advance_campaign(runtime, campaign_id, started + timedelta(seconds=15))
    assert len(owner.calls("editMessageText")) == edits + 1  # at most every 10 s
    await deliver(runtime)
    for user in (7911, 7912):
        (got,) = [c for c in fake_api.calls("sendPhoto", chat_id=user) if c.bot_id == shop.bot_id]
        assert got.params["caption"] == "<b>Spring sale</b>: -20% on phones"
        assert got.params["reply_markup"]["inline_keyboard"] == customers_see
    assert fake_api.calls("sendPhoto", chat_id=7914) == []  # opted out

    refreshed = await owner.press(f"camp:refresh:{campaign_id}", message_id=owner.last_id() - 1)
    assert "Sent: 2\nFailed: 0\nBlocked the bot: 1" in refreshed.params["text"]
    # Settled: the worker marks it done and edits the figures one last time.
    await advance_campaign(runtime, campaign_id, datetime.now(UTC) + timedelta(minutes=1))
    final = owner.calls("editMessageText")[-1]
    assert final.params["message_id"] == owner.last_id() - 1  # the preview's control message
    assert final.params["text"] == (
        f"Campaign #{campaign_id} is sent to 3 customers: all subscribed customers.\n"
        "Waiting for their turn: 0\nQueued: 0\nSent: 2\nFailed: 0\nBlocked the bot: 1"
    )
    assert buttons(final) == [("Refresh", f"camp:refresh:{campaign_id}")]
    async with session_factory() as session:
        blocked = await session.scalar(
            select(Customer.blocked).where(
                Customer.shop_id == shop.shop_id, Customer.external_id == "7913"
            )
        )
    assert blocked is True
    fake_api.unblock(7913)


async def test_every_step_refuses_bad_input_precisely(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    manager = Chat(http, server, shop, fake_api, MANAGER)
    await manager.say("/broadcast")
    days = await manager.press("cset:idle:0")
    assert days.params["text"].startswith(
        "Inactive for how many days? Send a number from 1 to 3650"
    )
    for typed in ("soon", "0", "4000"):
        refused = await manager.say(typed)
        assert refused.params["text"] == f"“{typed}” is not a number of days from 1 to 3650."
    assert (await manager.say("30")).params["text"].startswith("Send the text of the message")
    early = await manager.act(photo_message(MANAGER, "AgACearly"))
    assert early.params["text"] == "Send the text first; a photo can follow."
    too_long = await manager.say("x" * 5000)
    assert too_long.params["text"] == (
        "The text has 5000 characters; a message holds 4096. Send a shorter one."
    )
    await manager.say("y" * 2000)
    no_room = await manager.act(photo_message(MANAGER, "AgACbig"))
    assert no_room.params["text"] == (
        "A photo's caption holds 1024 characters and the text has 2000. Press “No photo” to "
        "send the text alone, or /broadcast to start again with a shorter text."
    )
    not_photo = await manager.say("here it is")
    assert not_photo.params["text"] == "Send a photo, or press “No photo”."
    await manager.press("cset:nophoto:0")
    bad_buttons = {
        "Just a label": "Write the label, a bar and the link: Sale | https://example.com/sale",
        "Sale | ftp://example.com/x": (
            "“ftp://example.com/x” is not a web link; a link starts with https://"
        ),
        "Sale | https://localhost/x": (
            "“https://localhost/x” is not a web link; a link starts with https://"
        ),
        " | https://example.com": "A button's label has 1 to 64 characters.",
    }
    for typed, expected in bad_buttons.items():
        assert (await manager.say(typed)).params["text"] == expected, typed
    empty = await manager.say("Sale | https://example.com/sale")
    assert empty.params["text"] == (
        "Nobody is in this segment (customers inactive for 30 days), so there is no one to "
        "send to. /broadcast starts again."
    )
    stale = await manager.press("cset:all:0", "answerCallbackQuery")
    assert stale.params["text"] == "This step is over. /broadcast starts a new campaign."

    await manager.say("/broadcast")
    categories = await manager.press("cset:cats:0")
    assert categories.params["text"] == "Customers who bought in which category?"
    assert buttons(categories) == [
        ("Phones", f"cset:cat:{ids['phones']}"),
        ("Cases", f"cset:cat:{ids['cases']}"),
        ("Cancel", "cset:quit:0"),
    ]
    await manager.press(f"cset:cat:{ids['phones']}")
    await manager.say("New phones are in")
    await manager.press("cset:nophoto:0")
    nobody = await manager.press("cset:nobutton:0", "sendMessage")
    assert nobody.params["text"].startswith(
        "Nobody is in this segment (customers who bought in “Phones”)"
    )

    await manager.say("/broadcast")
    quit_ = await manager.press("cset:quit:0")
    assert quit_.params["text"] == "The campaign is cancelled; nothing was sent."
    await manager.say("/broadcast")
    await manager.press("cset:all:0")
    cancelled = await manager.say("/cancel")
    assert cancelled.params["text"] == "The campaign is cancelled; nothing was sent."
    unknown = await manager.say("Too late")  # the steps are over: an ordinary search
    assert unknown.params["text"] != "Send a photo to go with the text, or press “No photo”."
    async with session_factory() as session:
        drafts = await session.scalar(
            select(func.count()).select_from(Campaign).where(Campaign.shop_id == shop.shop_id)
        )
    assert drafts == 0  # nothing refused was kept

    customer = Chat(http, server, shop, fake_api, 7920)
    assert (await customer.say("/broadcast")).params["text"] == UNKNOWN.format("/broadcast")


async def test_a_customer_who_stops_gets_no_further_campaign(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory, staff={OWNER: StaffRole.OWNER})
    ann, bob, cid = (Chat(http, server, shop, fake_api, user) for user in (7931, 7932, 7933))
    for chat in (ann, bob, cid):
        await chat.say("/start")
    await settled(session_factory, shop, 0)  # replies go out before the commit
    catalog = CampaignButton(ButtonKind.CATALOG)
    first = await start_campaign(
        session_factory, shop, content=CampaignContent("First", button=catalog)
    )
    assert await advance_campaign(runtime, first, datetime.now(UTC)) == 3
    await deliver(runtime)
    got = ann.calls("sendMessage")[-1]
    assert got.params["text"] == "First"
    assert got.params["reply_markup"]["inline_keyboard"] == [
        [{"text": "Open the catalog", "callback_data": "ocat"}],
        OPT_OUT,
    ]
    categories = await ann.press("ocat", "sendMessage")  # below the campaign, which stays
    assert categories.params["text"] == "Choose a category:"

    stopped = await ann.press("news:0", "sendMessage")
    unsubscribed = (
        f"You will not get news from Shop {shop.slug} any more. "
        "Your orders and your cart work as before."
    )
    assert stopped.params["text"] == unsubscribed
    assert buttons(stopped) == [("Subscribe again", "news:1")]
    await settled(session_factory, shop, 0)  # replies go out before the commit

    await advance_campaign(runtime, first, datetime.now(UTC))  # delivered: done
    second = await start_campaign(session_factory, shop, content=CampaignContent("Second news"))
    async with session_factory() as session:
        assert (await CampaignService(session, shop.shop_id).stats(second)).recipients == 2
    # Chosen as a recipient, then /stop before their turn: skipped at queuing.
    assert (await cid.say("/stop")).params["text"] == unsubscribed
    await settled(session_factory, shop, 0)
    assert await advance_campaign(runtime, second, datetime.now(UTC)) == 1
    await deliver(runtime)
    texts = {
        chat.user: fake_api.delivered_texts(chat.user, shop.bot_id) for chat in (ann, bob, cid)
    }
    assert texts[bob.user][-1] == "Second news"
    assert "Second news" not in texts[ann.user] + texts[cid.user]
    async with session_factory() as session:
        stats = await CampaignService(session, shop.shop_id).stats(second)
    assert (stats.sent, stats.skipped) == (1, 1)

    back = await ann.press("news:1")
    assert back.params["text"] == f"You will get news from Shop {shop.slug} again."
    await settled(session_factory, shop, 0)
    async with session_factory() as session:
        opted_out = dict(
            (
                await session.execute(
                    select(Customer.external_id, Customer.campaigns_opted_out_at).where(
                        Customer.shop_id == shop.shop_id
                    )
                )
            ).all()
        )
    assert opted_out["7931"] is None and opted_out["7933"] is not None
    await advance_campaign(runtime, second, datetime.now(UTC))
    async with session_factory() as session:
        statuses = await session.scalars(
            select(Campaign.status).where(Campaign.id.in_([first, second]))
        )
        assert set(statuses) == {CampaignStatus.DONE}


async def test_platform_admins_announce_to_the_staff_of_every_shop(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER, MANAGER: StaffRole.MANAGER})
    other = await make_shop(staff={7941: StaffRole.OWNER})
    admin = Chat(http, server, shop, fake_api, ADMIN_ID)
    asked = await admin.say("/broadcast_all")
    assert asked.params["text"].startswith("Send the announcement as text.")
    async with session_factory() as session:
        reached = await PlatformService(session).staff_reached()
    control = await admin.say("Maintenance tonight at 02:00 UTC", count=2)
    assert admin.calls("sendMessage")[-2].params["text"] == (
        "From the platform team:\n\nMaintenance tonight at 02:00 UTC"
    )
    staff, shops = sum(reached.values()), len(reached)
    assert control.params["text"] == (
        f"Above is the announcement as staff will get it. It goes to {staff} staff members "
        f"of {shops} shops."
    )
    (label, send), (_, _cancel) = buttons(control)
    assert label == f"Send to {staff}"
    done = await admin.press(send)
    assert done.params["text"] == (
        f"Queued for {staff} staff members of {shops} shops; each shop's bot delivers it."
    )
    ticket = send.rsplit(":", 1)[1]
    await settled(session_factory, shop, 0)  # the answer goes out before the commit
    async with session_factory() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.idempotency_key.startswith(f"announcement:{ticket}:"),
                    OutboxMessage.shop_id.in_([shop.shop_id, other.shop_id]),
                )
            )
        )
    assert sorted((row.receiver, row.chat_id) for row in rows) == sorted(
        [(str(shop.bot_id), OWNER), (str(shop.bot_id), MANAGER), (str(other.bot_id), 7941)]
    )  # each shop's staff through that shop's bot
    assert {row.priority for row in rows} == {OutboxPriority.BULK}
    assert rows[0].payload["text"] == "From the platform team:\n\nMaintenance tonight at 02:00 UTC"
    again = await admin.press(send, "answerCallbackQuery")
    assert again.params["text"] == "This announcement was already sent or cancelled."
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.idempotency_key.startswith(f"announcement:{ticket}:")
            )
        )

    for user in (OWNER, 7949):  # a shop's owner, a customer: not platform admins
        chat = Chat(http, server, shop, fake_api, user)
        assert (await chat.say("/broadcast_all")).params["text"] == UNKNOWN.format("/broadcast_all")
