"""The FAQ for staff through the webhook: /faq add (language given or told by the
script), list, delete, a file with bad rows, bad input; entries are the shop's own."""

from __future__ import annotations

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import FaqEntry, StaffRole
from tests.channels.test_staff_import import StaffChat
from tests.channels.webhook_client import settled
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.catalog_files import csv_bytes, document_message

OWNER = 7501


async def _entries(
    factory: async_sessionmaker[AsyncSession], shop: TestShop
) -> list[tuple[str, str, str, bool]]:
    await settled(factory, shop, 0)
    async with factory() as session:
        rows = await session.scalars(
            select(FaqEntry).where(FaqEntry.shop_id == shop.shop_id).order_by(FaqEntry.id)
        )
        return [(e.language, e.question, e.answer, e.embedding is not None) for e in rows]


async def test_staff_add_list_delete_and_import_faq_entries(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    other = await make_shop()
    staff = StaffChat(http, server, shop, fake_api, user=OWNER)
    added = await staff.say("/faq add How long is delivery? | 1–2 days in the city")
    assert added.params["text"].startswith("Saved as FAQ entry") and "(en)" in added.params["text"]
    scripted = await staff.say("/faq add Сколько идёт доставка? | 1–2 дня")
    assert "(ru)" in scripted.params["text"]
    given = await staff.say("/faq add ar Do you deliver? | نعم")
    assert "(ar)" in given.params["text"]
    empty = await staff.say("/faq add  | just an answer")
    assert empty.params["text"].startswith("Not saved: the question is empty.")
    no_answer = await staff.say("/faq add A question without an answer?")
    assert no_answer.params["text"].startswith("Not saved: the answer is empty.")
    assert await _entries(session_factory, shop) == [
        ("en", "How long is delivery?", "1–2 days in the city", True),
        ("ru", "Сколько идёт доставка?", "1–2 дня", True),
        ("ar", "Do you deliver?", "نعم", True),
    ]

    listed = await staff.say("/faq list")
    async with session_factory() as session:
        ids = list(
            await session.scalars(
                select(FaqEntry.id).where(FaqEntry.shop_id == shop.shop_id).order_by(FaqEntry.id)
            )
        )
    assert (
        f"{ids[0]}. [en] <b>How long is delivery?</b> — 1–2 days in the city"
        in (listed.params["text"])
    )
    deleted = await staff.say(f"/faq delete {ids[1]}")
    assert deleted.params["text"] == f"FAQ entry {ids[1]} deleted."
    again = await staff.say(f"/faq delete {ids[1]}")
    assert again.params["text"] == f"There is no FAQ entry {ids[1]}. See /faq list."
    assert (await staff.say("/faq delete 999999999")).params["text"].startswith("There is no")
    assert (await staff.say("/faq")).params["text"].startswith("The FAQ:")

    data = csv_bytes(
        [
            ["Question", "Answer", "Language"],
            ["Can I pay by card?", "Yes, Visa and Mastercard.", ""],
            ["", "an answer without a question", "en"],
            ["Есть ли самовывоз?", "Да, на Ленина 1.", "ru"],
            ["Do you ship abroad?", "", "en"],
            ["Is it genuine?", "Always.", "fr"],
        ]
    )
    file_id = f"BQACAgIAAxkBAAIfaq{shop.shop_id}"
    fake_api.add_file(file_id, data)
    update = document_message(OWNER, file_id=file_id, file_name="faq.csv", file_size=len(data))
    update["message"]["caption"] = "/faq"  # type: ignore[index]
    before = len(staff.calls("sendMessage"))
    await staff.post(update)
    await fake_api.wait_for(lambda _: len(staff.calls("sendMessage")) > before)
    report = staff.calls("sendMessage")[-1].params["text"]
    assert report.splitlines() == [
        "FAQ entries added: 2.",
        "Rows left out: 3.",
        "Row 3: the question is empty",
        "Row 5: the answer is empty",
        "Row 6: the language is not en, ru or ar",
    ]
    entries = await _entries(session_factory, shop)
    assert ("en", "Can I pay by card?", "Yes, Visa and Mastercard.", True) in entries
    assert ("ru", "Есть ли самовывоз?", "Да, на Ленина 1.", True) in entries
    assert len(entries) == 4
    assert await _entries(session_factory, other) == []

    bad = csv_bytes([["q", "a"], ["x", "y"]])
    fake_api.add_file(file_id + "b", bad)
    update = document_message(OWNER, file_id=file_id + "b", file_name="faq.csv", file_size=len(bad))
    update["message"]["caption"] = "/faq"  # type: ignore[index]
    before = len(staff.calls("sendMessage"))
    await staff.post(update)
    await fake_api.wait_for(lambda _: len(staff.calls("sendMessage")) > before)
    assert "question, answer" in staff.calls("sendMessage")[-1].params["text"]
