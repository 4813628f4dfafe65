"""Scheduled changes through the webhook, as staff: /schedule, a new schedule from a file
(bad files, bad rows, bad times refused precisely), the preview with its error report,
Confirm; then applied at its time, and /unschedule reverting it now with the values
changed meanwhile kept and reported; customers cannot reach any of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import Settings
from souk.db.models import PriceSchedule, Product, ScheduleState, Shop, StaffRole
from souk.keyboards.callbacks import ScheduleButton, ScheduleCD
from souk.services.schedule_runs import ScheduleRunner
from tests.channels.test_catalog import Chat, stock_shop
from tests.channels.test_staff_import import StaffChat, buttons, products
from tests.channels.webhook_client import settled
from tests.conftest import MakeShop
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.catalog_files import csv_bytes, merged_xlsx, xlsx_bytes

STAFF, CUSTOMER = 6901, 6902
NEW = ScheduleCD(action=ScheduleButton.NEW).pack()
NO_REVERT = ScheduleCD(action=ScheduleButton.NO_REVERT).pack()


def unschedule(schedule_id: int) -> str:
    return ScheduleCD(action=ScheduleButton.UNSCHEDULE, schedule_id=schedule_id).pack()


def report_lines(api: FakeBotAPI, name: str) -> list[str]:
    return api.uploaded_file(f"{name}.errors.csv").decode("utf-8-sig").splitlines()


@pytest.fixture
def far_ahead(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Schedules may reach 2030 (the tests' times stay clear of the real clock)."""
    monkeypatch.setattr(settings.schedules, "max_days_ahead", 3660)


async def press_for_text(chat: StaffChat, data: str) -> str:
    """Press a button of the bot's last message; the message the press makes it send."""
    before = len(chat.calls("sendMessage"))
    await chat.press(data, message_id=chat.sent())
    await chat.api.wait_for(lambda _: len(chat.calls("sendMessage")) > before)
    return str(chat.calls("sendMessage")[-1].params["text"])


async def stored_schedules(
    session_factory: async_sessionmaker[AsyncSession], chat: StaffChat
) -> list[PriceSchedule]:
    """The shop's schedules once every update the chat sent is processed (committed)."""
    await settled(session_factory, chat.shop, chat.updates)
    shop_id = chat.shop.shop_id
    async with session_factory() as session:
        found = await session.scalars(
            select(PriceSchedule).where(PriceSchedule.shop_id == shop_id).order_by(PriceSchedule.id)
        )
        return list(found)


async def test_a_schedule_is_made_from_a_file_applied_and_unscheduled(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={STAFF: StaffRole.MANAGER})
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Shop).where(Shop.id == shop.shop_id).values(timezone="Asia/Almaty")
        )
    chat = StaffChat(http, server, shop, fake_api, user=STAFF)
    empty = await chat.say("/schedule")
    assert empty.params["text"] == (
        "No scheduled changes. New schedule: send a file of SKUs and prices."
    )
    assert buttons(empty) == [("New schedule", NEW)]
    asked = await press_for_text(chat, NEW)
    assert asked.startswith("Send the file as a .csv or .xlsx document.")
    assert (await chat.say("here it comes")).params["text"] == (
        "Send the file as a document (.csv or .xlsx), or /cancel."
    )

    huge = await chat.send_file(b"sku,price\n", "huge.csv", size=60 * 1024 * 1024)
    assert huge.params["text"] == (
        "The file is 60.0 MB; an import reads files up to 20 MB. "
        "Split it into parts and send them one by one. Send another file, or /cancel."
    )
    refusals = {
        ("merged.xlsx", merged_xlsx([["sku", "price"], ["PH-1", 1]], "A2:B2")): (
            "The sheet has merged cells (A2:B2); unmerge them and send it again."
        ),
        ("f.xlsx", xlsx_bytes([["sku", "price"], ["PH-1", None]], formulas={"B2": "=1+1"})): (
            "Cell B2 has a formula whose value was not saved."
        ),
        ("nostock.csv", b"sku,stock\nPH-1,5\n"): "The file has no “price” column.",
    }
    for (name, content), expected in refusals.items():
        assert (await chat.send_file(content, name)).params["text"].startswith(expected), name
    header_only = await chat.send_file(b"sku,price\n", "header.csv")
    assert header_only.params["text"] == (
        "The file has no rows under its first row: nothing to schedule."
    )
    hopeless = await chat.send_file(b"sku,price\nPH-1,abc\nXX,5\n", "hopeless.csv", reports=1)
    assert hopeless.params["text"] == (
        "None of the 2 rows of “hopeless.csv” can be scheduled; see the report."
    )

    data = csv_bytes(
        [
            ["SKU", "Price", "Stock", "Note"],
            ["PH-1", "150", "3", "sale"],
            ["PH-9", "10", "", ""],
            ["PH-2", "19 990,50", "", ""],
            ["PH-3", "abc", "", ""],
            ["PH-4", "100", "-1", ""],
        ],
        encoding="utf-8-sig",
        delimiter=";",
    )
    read = await chat.send_file(data, "weekend.csv")
    assert read.params["text"] == (
        "Read 5 rows of “weekend.csv”. When should the changes apply? Shop time "
        "(Asia/Almaty). For example: 2026-11-28 09:00, 28.11.2026 09:00 or tomorrow 9:00."
    )
    assert (await chat.say("soon")).params["text"] == (
        "I cannot read that time. For example: 2026-11-28 09:00, 28.11.2026 09:00 or tomorrow 9:00."
    )
    past = await chat.say("2020-01-01 09:00")
    assert past.params["text"].startswith("That time has passed: it is ")
    assert (await chat.say("31.02.2030 09:00")).params["text"].startswith("I cannot read")
    assert (await chat.say("2099-01-01 09:00")).params["text"] == (
        "That is too far ahead: a schedule reaches 366 days at most."
    )
    monkeypatch.setattr(settings.schedules, "max_days_ahead", 3660)
    applies = await chat.say("2030-06-01 09:00")
    assert applies.params["text"] == (
        "It applies 2030-06-01 09:00. When should it revert? A later time, or press “No revert”."
    )
    assert buttons(applies) == [("No revert", NO_REVERT)]
    early = await chat.say("28.05.2030 09:00")
    assert early.params["text"] == "The revert must come after the apply (2030-06-01 09:00)."

    preview = await chat.say("01.06.2030 21:30")
    await fake_api.wait_for(lambda _: len(chat.calls("sendDocument")) == 2)
    assert preview.params["text"] == (
        "Schedule from “weekend.csv”: 5 rows, 2 to change, 3 with errors.\n"
        "Applies 2030-06-01 09:00, reverts 2030-06-01 21:30.\n"
        "Columns left unread: Note."
    )
    (confirm_text, confirm), (_, _drop) = buttons(preview)
    assert confirm_text == "Confirm (2)"
    assert report_lines(fake_api, "weekend.csv") == [
        "row,column,reason",
        '3,sku,"no product has the SKU “PH-9”; did you mean PH-0, PH-1, PH-2?"',
        "5,price,“abc” is not a number",
        "6,stock,“-1” is negative",
    ]
    assert await stored_schedules(session_factory, chat) == []

    await chat.press(confirm, message_id=chat.sent() - 1)
    confirmed = await chat.edited(1)
    (created,) = await stored_schedules(session_factory, chat)
    assert confirmed == (
        f"Schedule #{created.id} is set: 2 rows.\n"
        "Applies 2030-06-01 09:00, reverts 2030-06-01 21:30.\n"
        f"/schedule lists it; /unschedule {created.id} cancels it."
    )
    almaty = ZoneInfo("Asia/Almaty")
    assert (created.apply_at, created.revert_at, created.created_by) == (
        datetime(2030, 6, 1, 9, 0, tzinfo=almaty),
        datetime(2030, 6, 1, 21, 30, tzinfo=almaty),
        STAFF,
    )
    again = await chat.press(confirm, message_id=chat.sent() - 1)
    assert again.params["text"] == "This schedule is already confirmed or cancelled."
    assert len(await stored_schedules(session_factory, chat)) == 1

    listed = await chat.say("/schedule")
    assert listed.params["text"] == (
        "Scheduled changes (times in Asia/Almaty):\n"
        f"#{created.id} · weekend.csv · 2 rows · 2030-06-01 09:00 → 2030-06-01 21:30 · "
        "waiting to apply"
    )
    assert buttons(listed) == [
        ("New schedule", NEW),
        (f"Cancel #{created.id}", unschedule(created.id)),
    ]

    await ScheduleRunner(session_factory).apply_due(created.apply_at)
    catalog = await products(session_factory, chat)
    assert (catalog["PH-1"].price, catalog["PH-1"].stock) == (Decimal("150.00"), 3)
    assert catalog["PH-2"].price == Decimal("19990.50")
    assert (await chat.say("/schedule")).params["text"].endswith("applied, waiting to revert")

    await chat.say("/price PH-1 160")  # a staff change between the apply and the revert
    reverted = await chat.say(f"/unschedule {created.id}")
    text = reverted.params["text"]
    assert text.startswith(
        f"Schedule #{created.id} reverted: 1 of 2 rows restored.\n"
        "Left as they are, changed since the schedule:\n"
        "• PH-1: the price is $160.00, not $150.00 (changed by 6901 at "
    )
    catalog = await products(session_factory, chat)
    assert (catalog["PH-1"].price, catalog["PH-1"].stock) == (Decimal("160.00"), 10)
    assert catalog["PH-2"].price == Decimal("201.90")
    (ended,) = await stored_schedules(session_factory, chat)
    assert (ended.state, ended.ended_by) == (ScheduleState.REVERTED, STAFF)

    assert (await chat.say(f"/unschedule {created.id}")).params["text"] == (
        f"Schedule #{created.id} is reverted already; nothing to cancel."
    )
    assert (await chat.say("/unschedule 999999999")).params["text"] == (
        "This shop has no schedule #999999999. See /schedule."
    )
    assert (await chat.say("/unschedule soon")).params["text"] == (
        "Write the schedule's number: /unschedule 7 (see /schedule)."
    )
    assert ids["PH-1"] == catalog["PH-1"].id


async def test_no_revert_cancel_buttons_overlaps_and_customers_locked_out(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    far_ahead: None,
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory, staff={STAFF: StaffRole.MANAGER})
    chat = StaffChat(http, server, shop, fake_api, user=STAFF)

    async def start(data: bytes, name: str, apply: str) -> None:
        await chat.say("/schedule")
        await press_for_text(chat, NEW)
        await chat.send_file(data, name)
        await chat.say(apply)

    await start(b"sku,price\nPH-1,150\n", "first.csv", "завтра 9:00")
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    assert await press_for_text(chat, NO_REVERT) == (
        "Schedule from “first.csv”: 1 rows, 1 to change, 0 with errors.\n"
        f"Applies {tomorrow} 09:00; no revert."
    )
    (_, confirm), (_, drop) = buttons(chat.calls("sendMessage")[-1])
    await chat.press(drop, message_id=chat.sent())
    assert await chat.edited(1) == "All right, nothing was scheduled."
    assert await stored_schedules(session_factory, chat) == []

    await start(b"sku,price\nPH-1,150\n", "second.csv", "2030-07-01 09:00")
    await chat.say("2030-07-02 09:00")
    (_, confirm), _drop = buttons(chat.calls("sendMessage")[-1])
    await chat.press(confirm, message_id=chat.sent())
    (first,) = await stored_schedules(session_factory, chat)

    # The same SKU in a window that overlaps the first schedule's is refused.
    await start(b"sku,price\nPH-1,140\nPH-2,140\n", "third.csv", "2030-07-01 21:00")
    overlapping = await chat.say("2030-07-03 09:00")
    await fake_api.wait_for(lambda _: len(chat.calls("sendDocument")) == 1)
    assert overlapping.params["text"].startswith(
        "Schedule from “third.csv”: 2 rows, 1 to change, 1 with errors."
    )
    assert report_lines(fake_api, "third.csv")[1] == (
        f'2,sku,"the SKU is also in schedule #{first.id}, whose times overlap"'
    )
    assert (await chat.say("/cancel")).params["text"] == "All right, nothing was scheduled."

    listed = await chat.say("/schedule")
    assert await press_for_text(chat, unschedule(first.id)) == (
        f"Schedule #{first.id} is cancelled; nothing was changed."
    )
    assert listed.params["text"].startswith("Scheduled changes")
    assert await chat.edited(3) == (  # the list, after the drop and the confirmation
        "No scheduled changes. New schedule: send a file of SKUs and prices."
    )
    (cancelled,) = await stored_schedules(session_factory, chat)
    assert (cancelled.state, cancelled.ended_by) == (ScheduleState.CANCELLED, STAFF)

    customer = Chat(http, server, shop, fake_api, CUSTOMER)
    for command in ("/schedule", f"/unschedule {first.id}"):
        assert (await customer.say(command)).params["text"].startswith("Я не понял"), command
    pressed = await customer.tap_only(NEW)
    assert pressed.params["text"].startswith("Эта кнопка устарела")
    async with session_factory() as session:
        assert await session.scalar(
            select(Product.price).where(Product.shop_id == shop.shop_id, Product.sku == "PH-1")
        ) == Decimal("200.90")
