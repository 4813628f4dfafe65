"""Searching through the webhook: free text and /search, filters, paging, a result's card,
nothing found, stale pages."""

from __future__ import annotations

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.runtime import Runtime
from souk.services.embeddings import EmbeddingService
from tests.channels.test_catalog import Chat, buttons, stock_shop
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI


async def searchable_shop(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], runtime: Runtime
) -> tuple[TestShop, dict[str, int]]:
    shop, ids = await stock_shop(make_shop, session_factory)
    async with session_factory() as session:
        await EmbeddingService(session, runtime.embedder).backfill(shop.shop_id)
    return shop, ids


def hits(rows: list[list[tuple[str, str]]]) -> list[int]:
    """The product ids of the result rows, in order."""
    return [int(row[0][1].split(":")[1]) for row in rows if row[0][1].startswith("hit:")]


async def test_free_text_finds_products_within_the_price_written_into_it(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, ids = await searchable_shop(make_shop, session_factory, runtime)
    chat = Chat(http, server, shop, fake_api, 6301)
    results = await chat.say("телефон до 202")
    text = results.params["text"]
    assert text.startswith("Результаты по запросу «телефон до 202»:")
    rows = buttons(results)
    # The phones within the price first; a cheap case may follow, nothing dearer.
    assert set(hits(rows)[:3]) == {ids["PH-0"], ids["PH-1"], ids["PH-2"]}
    assert set(hits(rows)) <= {ids["PH-0"], ids["PH-1"], ids["PH-2"], ids["CS-1"]}
    assert "1. <b>Телефон" in text and "5." not in text
    first = rows[0]
    assert first[0][0].startswith("1. Телефон")
    assert first[1] == ("+ В корзину", f"cart:add:{hits(rows)[0]}")
    assert all(not data.startswith("srch:") for row in rows for _, data in row)  # one page

    answer = await chat.tap_only(first[1][1], message_id=2)
    assert "Добавлено в корзину" in answer.params["text"] or answer.params.get("show_alert")


async def test_results_page_and_a_result_card_lead_back_to_the_results(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, ids = await searchable_shop(make_shop, session_factory, runtime)
    chat = Chat(http, server, shop, fake_api, 6302)
    results = await chat.say("/search phone")
    rows = buttons(results)
    first_page = hits(rows)
    assert len(first_page) == 5
    (next_label, next_data), *_ = rows[-1]
    assert next_label == "Далее ›" and next_data.startswith("srch:")

    _, second = await chat.press(next_data)
    assert second is not None
    second_rows = buttons(second)
    second_page = hits(second_rows)
    assert second_page and not set(second_page) & set(first_page)
    assert sorted(first_page + second_page) == sorted(
        ids[key] for key in ("PH-0", "PH-1", "PH-2", "PH-3", "PH-4", "PH-5", "PH-6", "CS-1")
    )
    assert "6. <b>" in second.params["text"]
    assert second_rows[-1][0][0] == "‹ Назад"

    hit = next(data for row in second_rows for _, data in row if data.startswith("hit:"))
    _, card = await chat.press(hit)
    assert card is not None and "<b>" in card.params["text"]
    assert buttons(card)[2] == [("‹ К списку", next_data)]


async def test_nothing_found_offers_the_closest_categories(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, ids = await searchable_shop(make_shop, session_factory, runtime)
    chat = Chat(http, server, shop, fake_api, 6303)
    answer = await chat.say("телефон до 5")
    text = answer.params["text"]
    assert text.startswith("Ничего не нашлось по запросу «телефон до 5».")
    assert "не дороже 5" in text
    assert buttons(answer)[0][0] == ("Телефоны (7)", f"catp:{ids['phones']}:0")


async def test_a_forgotten_search_page_is_explained(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    runtime: Runtime,
) -> None:
    shop, _ = await searchable_shop(make_shop, session_factory, runtime)
    chat = Chat(http, server, shop, fake_api, 6304)
    answer = await chat.tap_only("srch:0123456789ab:1", message_id=1)
    assert answer.params["show_alert"] is True
    assert "поиск устарел" in answer.params["text"]
    empty = await chat.say("/search")
    assert "/search беспроводные наушники до 100" in empty.params["text"]
