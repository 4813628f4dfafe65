"""`souk polling` and `souk webhook set` against the fake Bot API, as separate processes."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.telegram import ALLOWED_UPDATES
from souk.db.models import FaqEntry
from souk.embedded import ServiceURLs
from souk.services.catalog_files import COLUMNS
from tests.channels.test_catalog import stock_shop
from tests.conftest import MakeShop
from tests.e2e.processes import ROOT, WITHIN, SoukProcess, souk_env
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import message


@pytest.fixture
def env(urls: ServiceURLs, fake_api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    return souk_env(urls, fake_api.base_url, tmp_path)


async def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "souk",
        *args,
        env=env,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_polling_feeds_the_same_pipeline(
    env: dict[str, str],
    tmp_path: Path,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
) -> None:
    shop = await make_shop()
    update = message(9501, "/start")
    fake_api.push_update(shop.bot_id, update)
    fake_api.push_update(shop.bot_id, update)  # redelivered: processed once
    polling = await SoukProcess("polling", env, tmp_path / "polling.log").start()
    try:
        await fake_api.wait_for(
            lambda api: api.delivered_texts(9501, bot_id=shop.bot_id), timeout=WITHIN
        )
        fake_api.push_update(shop.bot_id, message(9501, "/help"))
        await fake_api.wait_for(
            lambda api: len(api.delivered_texts(9501, bot_id=shop.bot_id)) == 2, timeout=WITHIN
        )
    finally:
        await polling.stop()
    texts = fake_api.delivered_texts(9501, bot_id=shop.bot_id)
    assert texts[0].startswith("Hello") and texts[1].startswith("Here is what I can do")
    assert fake_api.calls("deleteWebhook")  # polling and a webhook exclude each other


async def test_webhook_set_registers_every_bot_with_its_secret(
    env: dict[str, str],
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
) -> None:
    code, output = await run(env, "webhook", "set")
    assert code == 1 and "PUBLIC_URL" in output
    shop = await make_shop()
    code, output = await run({**env, "PUBLIC_URL": "https://shop.example"}, "webhook", "set")
    assert code == 0, output
    assert f"https://shop.example/webhook/telegram/{shop.bot_id}" in output
    webhook = fake_api.webhook(shop.bot_id)
    assert webhook is not None
    assert webhook.url == f"https://shop.example/webhook/telegram/{shop.bot_id}"
    assert webhook.secret_token == shop.secret
    assert list(webhook.allowed_updates or []) == list(ALLOWED_UPDATES)
    assert shop.token not in output and shop.secret not in output


async def test_shop_create_refuses_bad_input_clearly(env: dict[str, str]) -> None:
    code, output = await run(env, "shop", "create", "--slug", "Bad Slug", "--name", "X")
    assert code == 1 and "slug" in output and "Traceback" not in output
    code, output = await run(
        env,
        "shop",
        "create",
        "--slug",
        "okay-slug",
        "--name",
        "X",
        "--telegram-token",
        "not-a-token",
    )
    assert code == 1 and "BotFather" in output and "Traceback" not in output


async def test_embeddings_backfill_with_a_progress_bar(
    env: dict[str, str], make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory)
    async with session_factory() as session, session.begin():  # as a seed saves them
        session.add(FaqEntry(shop_id=shop.shop_id, language="en", question="Cash?", answer="Yes"))
    code, output = await run(env, "embeddings", "backfill", "--shop", shop.slug)
    assert code == 0 and "8 products embedded" in output, output
    assert "FAQ entries embedded: 1" in output, output
    async with session_factory() as session:
        embedded = await session.scalar(
            select(FaqEntry.embedding).where(FaqEntry.shop_id == shop.shop_id)
        )
    assert embedded is not None and len(embedded) == 384
    code, output = await run(env, "embeddings", "backfill", "--shop", shop.slug)
    assert code == 0 and "0 products embedded" in output, output
    assert "FAQ entries embedded: 0" in output, output
    code, output = await run(env, "embeddings", "backfill", "--shop", "no-such-shop")
    assert code == 1 and "no shop with slug" in output and "Traceback" not in output


async def test_staff_invite_prints_a_one_time_link_of_the_shops_bot(
    env: dict[str, str], make_shop: MakeShop
) -> None:
    shop = await make_shop()
    code, output = await run(env, "staff", "invite", "--shop", shop.slug, "--role", "manager")
    assert code == 0, output
    link = output.split()[0]
    assert link.startswith(f"https://t.me/bot{shop.bot_id}_bot?start=i_")
    assert len(link.partition("start=")[2]) <= 64
    code, output = await run(env, "staff", "invite", "--shop", "no-such-shop", "--role", "owner")
    assert code != 0 and "no shop with slug" in output


async def test_export_prints_the_catalog_as_csv(
    env: dict[str, str],
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory)
    code, output = await run(env, "export", "--shop", shop.slug)
    assert code == 0, output
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == list(COLUMNS)
    by_sku = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    assert sorted(by_sku) == ["CS-1", *(f"PH-{n}" for n in range(7))]
    assert by_sku["PH-1"]["price"] == "200.90" and by_sku["PH-1"]["category"] == "phones"
    assert json.loads(by_sku["PH-1"]["attributes"]) == {"storage_gb": 128}
    target = tmp_path / "catalog.csv"
    code, output = await run(env, "export", "--shop", shop.slug, "--output", str(target))
    assert code == 0 and "8 products written" in output
    assert target.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)


async def test_import_checks_previews_with_dry_run_applies_and_reports(
    env: dict[str, str],
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    from decimal import Decimal

    from sqlalchemy import select

    from souk.db.models import PriceChange, Product

    shop, ids = await stock_shop(make_shop, session_factory)
    catalog = tmp_path / "catalog.csv"
    catalog.write_bytes(
        "\ufeffprice;sku;title;stock\n"
        "250;PH-1;Phone 1;10\n15;NEW-1;Лампа;3\n-3;NEW-2;Bad;1\n".encode()
    )
    code, output = await run(env, "import", str(catalog), "--shop", shop.slug, "--dry-run")
    assert code == 0, output
    assert "3 rows: 1 new, 1 changed, 0 unchanged, 1 rejected" in output
    assert "row 4, price: “-3” is negative" in output and "dry run: nothing changed" in output
    async with session_factory() as session:
        phone = await session.get_one(Product, ids["PH-1"])
        assert phone.price == Decimal("200.90")

    code, output = await run(env, "import", str(catalog), "--shop", shop.slug)
    assert code == 0 and "applied" in output, output
    async with session_factory() as session:
        phone = await session.get_one(Product, ids["PH-1"])
        lamp = await session.scalar(
            select(Product).where(Product.shop_id == shop.shop_id, Product.sku == "NEW-1")
        )
        audit = await session.scalar(
            select(PriceChange).where(PriceChange.product_id == ids["PH-1"])
        )
    assert phone.price == Decimal("250.00") and lamp is not None and lamp.title == "Лампа"
    assert audit is not None and audit.actor_telegram_id is None

    exported = tmp_path / "exported.csv"
    code, output = await run(env, "export", "--shop", shop.slug, "--output", str(exported))
    assert code == 0, output
    code, output = await run(env, "import", str(exported), "--shop", shop.slug, "--dry-run")
    assert "9 rows: 0 new, 0 changed, 9 unchanged, 0 rejected" in output, output


async def test_import_of_a_file_that_cannot_be_read_fails_clearly(
    env: dict[str, str], make_shop: MakeShop, tmp_path: Path
) -> None:
    shop = await make_shop()
    missing = tmp_path / "nope.csv"
    code, output = await run(env, "import", str(missing), "--shop", shop.slug)
    assert code == 1 and "cannot read" in output and "Traceback" not in output
    merged = tmp_path / "bad.csv"
    merged.write_text("title,price\nMug,3\n")
    code, output = await run(env, "import", str(merged), "--shop", shop.slug)
    assert code == 1 and "The file has no “sku” column." in output, output
    code, output = await run(env, "import", str(merged), "--shop", "no-such-shop")
    assert code == 1
