"""Catalog import through the webhook: a file sent to the bot → a preview with Apply and
Cancel and an error report → applied once, in one transaction; files that cannot be
imported are refused with a precise message and nothing changes."""

from __future__ import annotations

import itertools
from decimal import Decimal

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import PriceChange, PriceSource, Product, StaffRole
from tests.channels.test_catalog import stock_shop
from tests.channels.webhook_client import post, settled
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI, RecordedCall
from tests.fixtures.catalog_files import csv_bytes, document_message, xlsx_bytes
from tests.fixtures.telegram import callback, message

MANAGER = 6801
_file_ids = itertools.count(1)


class StaffChat:
    """A staff member's chat in English: files sent, buttons pressed, replies waited for."""

    def __init__(
        self,
        http: ClientSession,
        server: TestServer,
        shop: TestShop,
        api: FakeBotAPI,
        *,
        user: int = MANAGER,
    ) -> None:
        self.http, self.server, self.shop, self.api, self.user = http, server, shop, api, user
        self.updates = 0

    async def post(self, update: dict[str, object]) -> None:
        self.updates += 1
        await post(self.http, self.server, self.shop, update)

    def calls(self, method: str) -> list[RecordedCall]:
        return [
            c for c in self.api.calls(method, chat_id=self.user) if c.bot_id == self.shop.bot_id
        ]

    def downloads(self) -> int:
        return len([c for c in self.api.calls("getFile") if c.bot_id == self.shop.bot_id])

    def sent(self) -> int:
        """Messages the bot has sent to the chat (the last one's message_id)."""
        return len(self.calls("sendMessage")) + len(self.calls("sendDocument"))

    async def send_file(
        self, data: bytes, name: str, *, size: int | None = None, reports: int = 0
    ) -> RecordedCall:
        """Send `data` as a document; the bot's text answer (after `reports` documents)."""
        file_id = f"BQACAgIAAxkBAAIimport{next(_file_ids)}"
        self.api.add_file(file_id, data)
        texts, documents = len(self.calls("sendMessage")), len(self.calls("sendDocument"))
        update = document_message(
            self.user,
            file_id=file_id,
            file_name=name,
            file_size=len(data) if size is None else size,
        )
        await self.post(update)
        await self.api.wait_for(
            lambda _: (
                len(self.calls("sendMessage")) > texts
                and len(self.calls("sendDocument")) >= documents + reports
            )
        )
        return self.calls("sendMessage")[-1]

    async def press(self, data: str, message_id: int) -> RecordedCall:
        """Press a button of message `message_id`; the callback answer."""
        answers = len(self.api.calls("answerCallbackQuery"))
        await self.post(callback(self.user, data, message_id=message_id))
        await self.api.wait_for(lambda api: len(api.calls("answerCallbackQuery")) > answers)
        return self.api.calls("answerCallbackQuery")[-1]

    async def say(self, text: str) -> RecordedCall:
        """Send a text; the bot's next message."""
        return await self.send(message(self.user, text))

    async def send(self, update: dict[str, object]) -> RecordedCall:
        """Post `update` (from this staff member); the bot's next message."""
        texts = len(self.calls("sendMessage"))
        await self.post(update)
        await self.api.wait_for(lambda _: len(self.calls("sendMessage")) > texts)
        return self.calls("sendMessage")[-1]

    async def edited(self, count: int) -> str:
        await self.api.wait_for(lambda _: len(self.calls("editMessageText")) >= count)
        return str(self.calls("editMessageText")[count - 1].params["text"])


def buttons(call: RecordedCall) -> list[tuple[str, str]]:
    markup = call.params["reply_markup"]
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


async def products(
    session_factory: async_sessionmaker[AsyncSession], chat: StaffChat
) -> dict[str, Product]:
    """The shop's products once every update sent so far is processed (committed)."""
    shop = chat.shop
    await settled(session_factory, shop, chat.updates)
    async with session_factory() as session:
        found = await session.scalars(select(Product).where(Product.shop_id == shop.shop_id))
        return {p.sku: p for p in found}


async def test_a_file_is_previewed_applied_once_and_its_errors_reported(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    chat = StaffChat(http, server, shop, fake_api)
    data = csv_bytes(
        [
            ["sku", "title", "price", "stock", "category", "colour"],
            ["PH-1", "Phone 1", "250", "10", "phones", ""],
            ["NEW-1", "Lamp", "15", "7", "Lighting", "white"],
            ["NEW-2", "Bad", "-3", "1", "", ""],
        ],
        encoding="utf-8-sig",
        delimiter=";",
    )
    preview = await chat.send_file(data, "prices.csv", reports=1)
    assert preview.params["text"] == (
        "Checked 3 rows of “prices.csv”:\n"
        "new products: 1\nchanged: 1\nunchanged: 0\nrows with errors: 1\n"
        "New categories to create: Lighting.\n\n"
        "Apply writes 2 products; the rows with errors are left out (see the report)."
    )
    (apply_text, apply), (cancel_text, _cancel) = buttons(preview)
    assert (apply_text, cancel_text) == ("Apply (2)", "Cancel")
    assert chat.downloads() == 1
    report = chat.calls("sendDocument")[-1]
    upload = report.params[str(report.params["document"]).removeprefix("attach://")]
    assert upload["filename"] == "prices.csv.errors.csv"
    assert fake_api.uploaded_file("prices.csv.errors.csv").decode("utf-8-sig").splitlines() == [
        "row,column,reason",
        "4,price,“-3” is negative",
    ]
    assert (await products(session_factory, chat))["PH-1"].price == Decimal("200.90")

    await chat.press(apply, message_id=chat.sent() - 1)  # the preview, before the report
    assert await chat.edited(1) == (
        "Imported: 1 new products, 1 changed. 1 rows with errors were left out."
    )
    catalog = await products(session_factory, chat)
    assert catalog["PH-1"].price == Decimal("250.00")
    assert catalog["NEW-1"].attributes == {"colour": "white"}
    assert "NEW-2" not in catalog
    async with session_factory() as session:
        audit = (
            await session.execute(
                select(PriceChange.source, PriceChange.actor_telegram_id).where(
                    PriceChange.product_id == ids["PH-1"]
                )
            )
        ).all()
    assert audit == [(PriceSource.IMPORT, MANAGER)]

    again = await chat.press(apply, message_id=chat.sent() - 1)
    assert again.params["text"] == "This import is already applied or cancelled."
    assert again.params["show_alert"] is True
    assert len(await products(session_factory, chat)) == len(catalog)


async def test_cancel_drops_the_import_and_bad_files_get_a_precise_message(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory, staff={MANAGER: StaffRole.MANAGER})
    chat = StaffChat(http, server, shop, fake_api)
    data = xlsx_bytes([["SKU", "Price"], ["PH-1", 99.5]])
    preview = await chat.send_file(data, "prices.xlsx")
    assert preview.params["text"].startswith("Checked 1 rows of “prices.xlsx”:\nnew products: 0")
    _apply, (_text, cancel) = buttons(preview)
    await chat.press(cancel, message_id=chat.sent())
    assert await chat.edited(1) == "Import cancelled; nothing was changed."
    assert (await products(session_factory, chat))["PH-1"].price == Decimal("200.90")

    downloads = chat.downloads()
    huge = await chat.send_file(b"sku\n", "huge.csv", size=60 * 1024 * 1024)
    assert huge.params["text"] == (
        "The file is 60.0 MB; an import reads files up to 20 MB. "
        "Split it into parts and send them one by one."
    )
    assert chat.downloads() == downloads  # refused without downloading
    merged = xlsx_bytes([["sku", "title"], ["A", "B"]])
    refusals = {
        ("old.xls", b"\xd0\xcf\x11\xe0"): "This is an old spreadsheet format (.xls).",
        ("no-sku.csv", b"title,price\nMug,3\n"): "The file has no “sku” column.",
        ("same.csv", b"sku,title\nPH-1,Phone 1\n"): "Checked 1 rows of “same.csv”:",
        ("m.xlsx", merged[:100]): "The file cannot be read (xlsx).",
    }
    for (name, content), expected in refusals.items():
        assert (await chat.send_file(content, name)).params["text"].startswith(expected), name
    assert (await products(session_factory, chat))["PH-1"].title == "Phone 1"
