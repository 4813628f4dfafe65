"""Hybrid search over a small catalog with the real embedder and real Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.ai.embedder import LocalEmbedder, QueryCache
from souk.db.models import Product
from souk.services.embeddings import EmbeddingService
from souk.services.search import SearchMethod, SearchService
from souk.services.search_filters import parse_search
from tests.conftest import MakeShop

CATALOG = [
    (
        "HP-SONY",
        "Sony WH-1000XM5 wireless headphones",
        "Беспроводные наушники Sony WH-1000XM5",
        "Noise cancelling over-ear headphones, 30 hours of battery.",
        "349.00",
        5,
    ),
    (
        "HP-CHEAP",
        "JBL Tune 510BT headphones",
        "Наушники JBL Tune 510BT",
        "Light on-ear Bluetooth headphones.",
        "59.00",
        12,
    ),
    (
        "KT-BOSCH",
        "Bosch electric kettle 1.7 l",
        "Электрический чайник Bosch 1,7 л",
        "Stainless steel kettle with limescale filter.",
        "45.00",
        0,
    ),
    (
        "KT-PHIL",
        "Philips kettle 1.5 l",
        "Чайник Philips 1,5 л",
        "Compact electric kettle.",
        "39.00",
        8,
    ),
    (
        "TV-SAM",
        "Samsung 55 inch 4K QLED TV",
        "Телевизор Samsung 55 дюймов 4K QLED",
        "Smart television with HDR10+.",
        "799.00",
        3,
    ),
    (
        "PH-IPH",
        "Apple iPhone 15 128GB",
        "Смартфон Apple iPhone 15 128 ГБ",
        "6.1-inch smartphone with USB-C.",
        "799.00",
        7,
    ),
]


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


async def catalog_shop(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], embedder: LocalEmbedder
) -> int:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        for sku, title, title_ru, description, price, stock in CATALOG:
            session.add(
                Product(
                    shop_id=shop.shop_id,
                    sku=sku,
                    title=title,
                    description=description,
                    translations={"ru": {"title": title_ru}},
                    price=Decimal(price),
                    currency="USD",
                    stock=stock,
                )
            )
    async with session_factory() as session:
        await EmbeddingService(session, embedder).backfill(shop.shop_id)
    return shop.shop_id


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("наушники с шумоподавлением", {"HP-SONY"}),  # Russian words, English catalog
        ("hedphones sony", {"HP-SONY"}),  # a typo
        ("телевизор", {"TV-SAM"}),
        ("iphone", {"PH-IPH"}),
        ("электрочайник", {"KT-BOSCH", "KT-PHIL"}),  # either kettle answers it
    ],
)
async def test_the_best_match_comes_first(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    embedder: LocalEmbedder,
    query: str,
    first: str,
) -> None:
    shop_id = await catalog_shop(make_shop, session_factory, embedder)
    async with session_factory() as session:
        found = await SearchService(session, embedder, shop_id).search(parse_search(query))
    assert found and found[0].sku in first, [p.sku for p in found]


async def test_filters_written_in_the_query_are_applied(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    embedder: LocalEmbedder,
) -> None:
    shop_id = await catalog_shop(make_shop, session_factory, embedder)
    await catalog_shop(make_shop, session_factory, embedder)  # the same products elsewhere
    async with session_factory() as session:
        search = SearchService(session, embedder, shop_id).search
        cheap = await search(parse_search("headphones under 100"))
        assert [p.sku for p in cheap][:1] == ["HP-CHEAP"]
        assert all(p.price <= 100 for p in cheap)
        kettles = await search(parse_search("чайник в наличии"))
        assert kettles[0].sku == "KT-PHIL" and all(p.stock > 0 for p in kettles)
        budget = await search(parse_search("до 50"))  # filters only: cheapest first
        assert [p.sku for p in budget] == ["KT-PHIL", "KT-BOSCH"]  # out of stock goes last
        assert all(p.shop_id == shop_id for p in await search(parse_search("headphones"), limit=20))


async def test_the_methods_can_run_alone(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    embedder: LocalEmbedder,
) -> None:
    shop_id = await catalog_shop(make_shop, session_factory, embedder)
    async with session_factory() as session:
        search = SearchService(session, embedder, shop_id).search
        typo = parse_search("hedphones")  # in no product's text
        assert await search(typo, methods=frozenset({SearchMethod.KEYWORD})) == []
        spelled = await search(typo, methods=frozenset({SearchMethod.SPELLING}))
        assert spelled and {p.sku for p in spelled} <= {"HP-SONY", "HP-CHEAP"}
        other_word = parse_search("телефон")  # the catalog says "Смартфон"
        words = frozenset({SearchMethod.KEYWORD, SearchMethod.SPELLING})
        assert await search(other_word, methods=words) == []
        meaning = await search(other_word, methods=frozenset({SearchMethod.SEMANTIC}))
        assert meaning[0].sku == "PH-IPH"
        with pytest.raises(ValueError, match="at least one method"):
            await search(typo, methods=frozenset())


async def test_one_unknown_word_does_not_leave_full_text_with_nothing(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    embedder: LocalEmbedder,
) -> None:
    shop_id = await catalog_shop(make_shop, session_factory, embedder)
    keyword = frozenset({SearchMethod.KEYWORD})
    async with session_factory() as session:
        search = SearchService(session, embedder, shop_id).search
        # no product has "hedphones": any of the words will do
        found = await search(parse_search("hedphones sony"), methods=keyword)
        assert [p.sku for p in found] == ["HP-SONY"]
        # some product has both words: only such products (not every pair of headphones)
        found = await search(parse_search("sony headphones"), methods=keyword)
        assert [p.sku for p in found] == ["HP-SONY"]


class AfterTheSettings:
    """The real embedder, starting only once the search's settings are set: a query's
    embedding cannot be ready before its search looks (as it never is, in practice)."""

    def __init__(self, inner: LocalEmbedder) -> None:
        self.inner, self.ready = inner, asyncio.Event()

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        await self.ready.wait()
        return await self.inner.embed_queries(texts)

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return await self.inner.embed_passages(texts)

    async def close(self) -> None:
        return None


async def test_words_searched_before_are_ranked_in_one_statement_with_the_same_result(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    embedder: LocalEmbedder,
) -> None:
    shop_id = await catalog_shop(make_shop, session_factory, embedder)
    late = AfterTheSettings(embedder)
    statements: list[str] = []

    def executed(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)
        if "set_config" in statement:
            late.ready.set()

    found: list[list[str]] = []
    counts: list[int] = []
    async with session_factory() as session:
        engine = (await session.connection()).engine.sync_engine
        event.listen(engine, "after_cursor_execute", executed)
        try:
            search = SearchService(session, QueryCache(late, size=10), shop_id).search
            for _ in range(2):  # new words, then the same words, now in the query cache
                before = len(statements)
                found.append([p.sku for p in await search(parse_search("sony headphones"))])
                counts.append(len(statements) - before)
        finally:
            event.remove(engine, "after_cursor_execute", executed)
    assert found[1] == found[0] and found[0][0] == "HP-SONY"
    # settings, words, nearest, products; then settings, all the rankings, products
    assert counts == [4, 3]
