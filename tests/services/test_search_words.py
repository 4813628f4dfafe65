"""The title words misspelt search words are corrected against (`search_words`): kept by
triggers on products through every write path, one vocabulary per shop."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.ai.embedder import LocalEmbedder
from souk.db.models import Product, SearchWord, Shop
from souk.services.demo import seed_demo
from souk.services.search import SearchMethod, SearchService
from souk.services.search_filters import parse_search
from tests.conftest import MakeShop
from tests.fixtures.catalog_files import csv_bytes
from tests.services.test_imports import import_file

SPELLING = frozenset({SearchMethod.SPELLING})


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()  # never asked: spelling needs no embedding


async def mismatches(session: AsyncSession, shop_id: int) -> list[tuple[object, ...]]:
    """(word, products counted again from the titles, products in search_words) for
    every word of the shop where the two differ."""
    rows = await session.execute(
        text(
            """
            SELECT word, counted.products, kept.products FROM (
                SELECT word, count(*) AS products
                FROM products, search_title_lexemes(titles) AS word
                WHERE shop_id = :shop_id AND search_word(word) GROUP BY word
            ) AS counted
            FULL JOIN (SELECT * FROM search_words WHERE shop_id = :shop_id) AS kept USING (word)
            WHERE counted.products IS DISTINCT FROM kept.products
            """
        ),
        {"shop_id": shop_id},
    )
    return [tuple(row) for row in rows]


async def words(session: AsyncSession, shop_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(SearchWord.word, SearchWord.products).where(SearchWord.shop_id == shop_id)
    )
    return {word: products for word, products in rows}


def product(shop_id: int, sku: str, title: str, title_ru: str = "", price: str = "10") -> Product:
    return Product(
        shop_id=shop_id,
        sku=sku,
        title=title,
        translations={"ru": {"title": title_ru}} if title_ru else {},
        price=Decimal(price),
        currency="USD",
        stock=5,
    )


async def test_every_write_path_keeps_the_words_of_the_titles(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = (await make_shop()).shop_id
    async with session_factory() as session, session.begin():
        session.add_all(
            [
                product(shop, "HP-1", "Sony WH-1000XM5 headphones", "Наушники Sony"),
                product(shop, "HP-2", "JBL headphones 2", "Наушники JBL"),
            ]
        )
    async with session_factory() as session:
        assert await words(session, shop) == {
            "sony": 1,  # in both titles of HP-1: one product
            "wh-1000xm5": 1,
            "1000xm5": 1,
            "headphones": 2,
            "наушники": 2,
            "jbl": 1,
        }  # "wh", "2": too short or no letter, nothing to correct

    # An import: new products in one statement, changed titles, a price change only.
    data = csv_bytes(
        [
            ["sku", "title", "price", "stock"],
            ["HP-1", "Sony WH-1000XM5 headphones", "12", "5"],
            ["HP-2", "JBL Tune earbuds", "10", "5"],
            ["KT-1", "Bosch kettle", "30", "2"],
            ["KT-2", "Philips kettle", "25", "0"],
        ]
    )
    await import_file(session_factory, shop, data)
    async with session_factory() as session:
        assert await mismatches(session, shop) == []
        found = await words(session, shop)
    assert found["kettle"] == 2 and found["headphones"] == 1 and found["earbuds"] == 1

    # A title edited alone, a translation edited alone, stock and price left alone.
    async with session_factory() as session, session.begin():
        kettle = await session.scalar(
            select(Product).where(Product.shop_id == shop, Product.sku == "KT-1")
        )
        assert kettle is not None
        kettle.title = "Bosch electric kettle"
        await session.flush()
        kettle.translations = {"ru": {"title": "Электрочайник Bosch"}}
        await session.execute(
            update(Product).where(Product.shop_id == shop).values(stock=Product.stock + 1)
        )
    async with session_factory() as session:
        assert await mismatches(session, shop) == []
        found = await words(session, shop)
    assert found["electric"] == 1 and found["электрочайник"] == 1 and found["bosch"] == 1

    # Deleted products take their words with them.
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(Product).where(Product.shop_id == shop, Product.sku.in_(["HP-1", "HP-2"]))
        )
    async with session_factory() as session:
        assert await mismatches(session, shop) == []
        found = await words(session, shop)
    assert "headphones" not in found and "sony" not in found and found["kettle"] == 2


async def test_the_demo_seed_fills_the_words(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        seeded = await seed_demo(session)
    async with session_factory() as session:
        assert await mismatches(session, seeded.shop_id) == []
        assert {"headphones", "наушники"} <= set(await words(session, seeded.shop_id))


async def test_a_deleted_shop_takes_its_words(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = (await make_shop()).shop_id
    async with session_factory() as session, session.begin():
        session.add(product(shop, "KT-1", "Electric kettle"))
    async with session_factory() as session, session.begin():
        await session.execute(delete(Shop).where(Shop.id == shop))
    async with session_factory() as session:
        assert await words(session, shop) == {}


async def test_spelling_corrects_against_the_shops_own_titles(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    embedder: LocalEmbedder,
) -> None:
    audio, tea = (await make_shop()).shop_id, (await make_shop()).shop_id
    async with session_factory() as session, session.begin():
        session.add_all(
            [
                product(audio, "HP-1", "Samsung Galaxy Buds", "Наушники Samsung", price="150"),
                product(audio, "HP-2", "Samsung Galaxy Watch6", "Часы Samsung", price="300"),
                product(audio, "HP-3", "JBL headphones", "Наушники JBL", price="40"),
                product(tea, "TE-1", "Green tea", "Зелёный чай"),
            ]
        )

    async def spelt(shop_id: int, query: str) -> list[str]:
        async with session_factory() as session:
            service = SearchService(session, embedder, shop_id)
            found = await service.search(parse_search(query), limit=10, methods=SPELLING)
        return [p.sku for p in found]

    assert await spelt(audio, "samsng galaxy watch") == ["HP-2"]  # a typo; "watch6"
    assert await spelt(audio, "наушнки до 100") == ["HP-3"]  # a typo, the filter applied
    assert set(await spelt(audio, "наушн")) == {"HP-1", "HP-3"}  # a word begun
    assert await spelt(tea, "samsng") == []  # another shop's titles are not words here
    assert await spelt(tea, "gren tea") == ["TE-1"]
    assert await spelt(audio, "jbl headphones") == []  # nothing to correct: full text's
