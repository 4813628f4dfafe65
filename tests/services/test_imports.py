"""Importing catalog files: reading (encodings, delimiters, XLSX), checking each row, the
plan's counts, and applying it in one transaction with every change audited."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    Category,
    PriceChange,
    PriceSource,
    Product,
    StockMovement,
    StockReason,
)
from souk.services.catalog_files import export_csv
from souk.services.import_messages import error_report, reason_text, refusal_text
from souk.services.import_reader import (
    DEFAULT_LIMITS,
    FileProblem,
    ImportLimits,
    ImportRefused,
    read_table,
)
from souk.services.import_rows import Problem, read_rows
from souk.services.imports import CatalogImport, ImportSummary
from tests.channels.test_catalog import stock_shop
from tests.conftest import MakeShop
from tests.fixtures.catalog_files import (
    HEADER,
    csv_bytes,
    merged_xlsx,
    with_cached_values,
    xlsx_bytes,
)

ROWS = [
    HEADER,
    ["TV-1", "Телевизор 55″", "4K, HDR", "tv", "Acme", "19 990,50", "RUB", "3", '{"size": 55}'],
    ["TV-2", "Кабель", "Line one\nline two; with a semicolon", "", "", "1,299.00", "", "0", ""],
]


def rows_of(data: bytes, name: str = "catalog.csv") -> list[dict[str, object]]:
    valid, errors = read_rows(read_table(data, name))
    assert errors == []
    return [
        {
            "sku": row.sku,
            "title": row.title,
            "description": row.description,
            "price": row.price,
            "currency": row.currency,
            "stock": row.stock,
            "attributes": row.attributes,
        }
        for row in valid
    ]


EXPECTED = [
    {
        "sku": "TV-1",
        "title": "Телевизор 55″",
        "description": "4K, HDR",
        "price": Decimal("19990.50"),
        "currency": "RUB",
        "stock": 3,
        "attributes": {"size": 55},
    },
    {
        "sku": "TV-2",
        "title": "Кабель",
        "description": "Line one\nline two; with a semicolon",
        "price": Decimal("1299.00"),
        "currency": None,
        "stock": 0,
        "attributes": {},
    },
]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("utf-8-sig", ";"), ("cp1251", ";"), ("utf-16", "\t")],
)
def test_csv_in_any_common_encoding_and_delimiter_reads_the_same(
    encoding: str, delimiter: str
) -> None:
    rows = [[cell.replace("″", '"') for cell in row] for row in ROWS]  # cp1251 has no ″
    expected = [{**row, "title": str(row["title"]).replace("″", '"')} for row in EXPECTED]
    assert rows_of(csv_bytes(rows, encoding=encoding, delimiter=delimiter)) == expected


def test_columns_in_any_order_and_other_columns_become_attributes() -> None:
    data = csv_bytes(
        [
            ["Price", "Colour", "SKU", "Title", "attributes"],
            ["10", "red", "A-1", "Mug", '{"volume_ml": 300}'],
            ["12", "", "A-2", "Cup", ""],
        ]
    )
    valid, errors = read_rows(read_table(data, "x.csv"))
    assert errors == []
    assert [(r.sku, r.price, r.attributes, r.extra) for r in valid] == [
        ("A-1", Decimal("10.00"), {"volume_ml": 300}, {"Colour": "red"}),
        ("A-2", Decimal("12.00"), {}, {}),
    ]
    assert valid[0].stock is None and valid[0].brand is None  # absent: kept as they are


def test_xlsx_reads_cached_formula_values_and_refuses_formulas_without_them() -> None:
    rows = [["sku", "title", "price", "stock"], ["A-1", "Mug", 19.9, 5.0], ["A-2", "Cup", None, 2]]
    saved = with_cached_values(xlsx_bytes(rows, formulas={"C3": "=C2*2"}), {"C3": "39.8"})
    valid, errors = read_rows(read_table(saved, "catalog.xlsx"))
    assert errors == []
    assert [(r.sku, r.price, r.stock) for r in valid] == [
        ("A-1", Decimal("19.90"), 5),
        ("A-2", Decimal("39.80"), 2),
    ]
    with pytest.raises(ImportRefused) as refused:
        read_table(xlsx_bytes(rows, formulas={"C3": "=C2*2"}), "catalog.xlsx")
    assert refused.value.problem is FileProblem.FORMULA_WITHOUT_VALUE
    assert refusal_text(refused.value).startswith("Cell C3 has a formula whose value")


@pytest.mark.parametrize(
    ("data", "name", "problem", "text"),
    [
        (
            merged_xlsx([["sku", "title"], ["A", "Mug"], ["B", ""]], "B2:B3"),
            "c.xlsx",
            FileProblem.MERGED_CELLS,
            "The sheet has merged cells (B2:B3); unmerge them and send it again.",
        ),
        (
            csv_bytes([["title", "price"], ["Mug", "1"]]),
            "c.csv",
            FileProblem.MISSING_COLUMNS,
            "The file has no “sku” column.",
        ),
        (
            csv_bytes([["name", "cost"], ["Mug", "1"]]),
            "c.csv",
            FileProblem.NO_COLUMNS,
            "The first row names none of the columns an import reads: sku, title,",
        ),
        (
            csv_bytes([["sku", "SKU"], ["a", "b"]]),
            "c.csv",
            FileProblem.DUPLICATE_COLUMN,
            "The column “SKU” appears twice in the first row.",
        ),
        (b"", "c.csv", FileProblem.EMPTY, "The file is empty"),
        (b"\x00\x01\x02binary", "c.csv", FileProblem.FORMAT, "An import reads .csv and .xlsx"),
        (b"\xd0\xcf\x11\xe0rest", "c.xls", FileProblem.OLD_EXCEL, "This is an old spreadsheet"),
        (b"PK\x03\x04broken", "c.xlsx", FileProblem.UNREADABLE, "The file cannot be read"),
        (b"sku,title", "c.pdf", FileProblem.FORMAT, "An import reads .csv and .xlsx"),
        (
            b"x" * (60 * 1024 * 1024),
            "c.csv",
            FileProblem.TOO_LARGE,
            "The file is 60.0 MB; an import reads files up to 20 MB.",
        ),
        (
            b"sku\n" + b"A\n" * (DEFAULT_LIMITS.max_rows + 1),
            "c.csv",
            FileProblem.TOO_MANY_ROWS,
            "The file has 50001 rows; an import reads up to 50,000.",
        ),
    ],
)
def test_files_that_cannot_be_imported_are_refused_whole_with_a_precise_reason(
    data: bytes, name: str, problem: FileProblem, text: str
) -> None:
    with pytest.raises(ImportRefused) as refused:
        read_rows(read_table(data, name))
    assert refused.value.problem is problem
    assert refusal_text(refused.value).startswith(text)


def test_bad_rows_are_named_by_row_column_and_reason() -> None:
    data = csv_bytes(
        [
            ["sku", "title", "price", "stock", "currency", "attributes"],
            ["A-1", "Mug", "-5", "1", "", ""],
            ["A-2", "Cup", "abc", "-2", "dollars", "[1]"],
            ["A-3", "", "1.999", "2.5", "", ""],
            ["a-4", "Plate", "0", "many", "", ""],
            ["A-4", "Plate", "3", "1", "", ""],
            ["", "No SKU", "3", "1", "", ""],
            ["A-5", "Stray", "3", "1", "", "", "stray"],
            ["A-6", "Fine", "3", "1", "usd", ""],
        ]
    )
    valid, errors = read_rows(read_table(data, "c.csv"))
    assert [(r.sku, r.currency) for r in valid] == [("A-6", "USD")]
    found = [(e.row, e.column, e.problem) for e in errors]
    assert found == [
        (2, "price", Problem.NEGATIVE),
        (3, "price", Problem.NOT_A_NUMBER),
        (3, "stock", Problem.NEGATIVE),
        (3, "currency", Problem.CURRENCY),
        (3, "attributes", Problem.ATTRIBUTES),
        (4, "title", Problem.REQUIRED),
        (4, "price", Problem.DECIMALS),
        (4, "stock", Problem.NOT_WHOLE),
        (5, "sku", Problem.DUPLICATE_SKU),
        (5, "price", Problem.ZERO_PRICE),
        (5, "stock", Problem.NOT_A_NUMBER),
        (6, "sku", Problem.DUPLICATE_SKU),
        (7, "sku", Problem.REQUIRED),
        (8, "", Problem.EXTRA_CELLS),
    ]
    texts = {(e.row, e.column): reason_text(e) for e in errors}
    assert texts[(2, "price")] == "“-5” is negative"
    assert texts[(3, "price")] == "“abc” is not a number"
    assert texts[(5, "sku")] == "the SKU “a-4” is also in row 6"
    assert texts[(8, "")] == "more cells than the 6 columns of the first row"
    report = error_report(errors).decode("utf-8-sig").splitlines()
    assert report[0] == "row,column,reason"
    assert report[1] == "2,price,“-5” is negative"


async def import_file(
    session_factory: async_sessionmaker[AsyncSession],
    shop_id: int,
    data: bytes,
    *,
    actor: int | None = 77,
    name: str = "catalog.csv",
) -> ImportSummary:
    async with session_factory() as session, session.begin():
        importer = CatalogImport(session, shop_id, actor_telegram_id=actor)
        return await importer.apply(await importer.plan(read_table(data, name), lock=True))


async def test_an_export_reimports_as_nothing_changed(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory)
    async with session_factory() as session:
        exported = await export_csv(session, shop.shop_id)
    async with session_factory() as session:
        plan = await CatalogImport(session, shop.shop_id).plan(read_table(exported.data, "e.csv"))
    assert plan.summary == ImportSummary(
        rows=8, new=0, changed=0, unchanged=8, rejected=0, new_categories=()
    )


async def test_applying_creates_changes_and_audits_and_leaves_embeddings_to_the_worker(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory)
    async with session_factory() as session:
        before = {
            p.sku: p.content_hash
            for p in await session.scalars(select(Product).where(Product.shop_id == shop.shop_id))
        }
    data = csv_bytes(
        [
            ["sku", "title", "price", "stock", "category", "colour"],
            ["PH-1", "Phone 1", "250", "10", "phones", ""],  # price only
            ["ph-2", "Phone 2 Pro", "201.90", "4", "Phones", ""],  # title and stock
            ["PH-3", "Phone 3", "202.90", "10", "phones", ""],  # as it is
            ["NEW-1", "Lamp", "15", "7", "Lighting", "white"],
            ["NEW-2", "Bulb", "2", "0", "lighting", ""],
            ["NEW-3", "No price", "", "1", "", ""],
            ["NEW-4", "Broken", "x", "1", "", ""],
        ]
    )
    summary = await import_file(session_factory, shop.shop_id, data)
    assert summary == ImportSummary(
        rows=7, new=2, changed=2, unchanged=1, rejected=2, new_categories=("Lighting",)
    )
    async with session_factory() as session:
        products = {
            p.sku: p
            for p in await session.scalars(select(Product).where(Product.shop_id == shop.shop_id))
        }
        lighting = await session.scalar(
            select(Category).where(Category.shop_id == shop.shop_id, Category.slug == "lighting")
        )
        prices = (
            await session.execute(
                select(PriceChange.product_id, PriceChange.old_price, PriceChange.new_price)
                .where(PriceChange.shop_id == shop.shop_id)
                .where(PriceChange.source == PriceSource.IMPORT)
                .where(PriceChange.actor_telegram_id == 77)
            )
        ).all()
        moves = (
            await session.execute(
                select(StockMovement.product_id, StockMovement.delta, StockMovement.stock_after)
                .where(StockMovement.shop_id == shop.shop_id)
                .where(StockMovement.reason == StockReason.IMPORT)
                .order_by(StockMovement.product_id)
            )
        ).all()
    assert lighting is not None and lighting.name == "Lighting"
    assert products["PH-1"].price == Decimal("250.00")
    assert products["PH-1"].content_hash == before["PH-1"]  # only the price changed
    assert products["PH-2"].title == "Phone 2 Pro"
    assert products["PH-2"].content_hash != before["PH-2"]  # re-embedded by the worker
    assert products["PH-2"].translations["ru"]["title"] == "Телефон 2"  # kept
    assert products["PH-2"].attributes == {"storage_gb": 128}
    assert products["NEW-1"].category_id == products["NEW-2"].category_id == lighting.id
    assert products["NEW-1"].attributes == {"colour": "white"}
    assert products["NEW-1"].currency == "USD" and products["NEW-1"].content_hash
    assert products["NEW-1"].embedding is None
    assert "NEW-3" not in products and "NEW-4" not in products
    assert prices == [(ids["PH-1"], Decimal("200.90"), Decimal("250.00"))]
    assert moves == [(ids["PH-2"], -6, 4), (products["NEW-1"].id, 7, 7)]


async def test_a_failure_while_applying_leaves_nothing_behind(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, _ = await stock_shop(make_shop, session_factory)
    data = csv_bytes(
        [
            ["sku", "title", "price", "stock", "category"],
            ["PH-1", "Phone 1", "250", "1", "phones"],
            ["NEW-1", "Lamp", "15", "7", "Lighting"],
        ]
    )

    def fail(_done: int) -> None:
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        async with session_factory() as session, session.begin():
            importer = CatalogImport(session, shop.shop_id, actor_telegram_id=None)
            await importer.apply(
                await importer.plan(read_table(data, "c.csv"), lock=True), progress=fail
            )
    async with session_factory() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model).where(where))
            for model, where in (
                (Product, (Product.shop_id == shop.shop_id) & (Product.sku == "NEW-1")),
                (Category, (Category.shop_id == shop.shop_id) & (Category.slug == "lighting")),
                (PriceChange, PriceChange.shop_id == shop.shop_id),
                (StockMovement, StockMovement.shop_id == shop.shop_id),
            )
        ]
        phone = await session.scalar(
            select(Product).where(Product.shop_id == shop.shop_id, Product.sku == "PH-1")
        )
    assert counts == [0, 0, 0, 0]
    assert phone is not None and (phone.price, phone.stock) == (Decimal("200.90"), 10)


def test_attributes_column_round_trips_json() -> None:
    data = csv_bytes([["sku", "attributes"], ["A", json.dumps({"a": [1, 2], "b": "ü"})]])
    valid, _ = read_rows(read_table(data, "c.csv"))
    assert valid[0].attributes == {"a": [1, 2], "b": "ü"}


def test_the_limits_come_from_the_settings_and_the_refusal_names_them() -> None:
    limits = ImportLimits(max_bytes=2048, max_rows=2)
    with pytest.raises(ImportRefused) as rows:
        read_table(b"sku,price\nA,1\nB,2\nC,3\n", "c.csv", limits)
    assert rows.value.problem is FileProblem.TOO_MANY_ROWS
    assert refusal_text(rows.value).startswith("The file has 3 rows; an import reads up to 2.")
    with pytest.raises(ImportRefused) as size:
        read_table(b"sku\n" + b"x" * 4096, "c.csv", limits)
    assert size.value.problem is FileProblem.TOO_LARGE and size.value.limit == 2048
    assert read_table(b"sku,price\nA,1\nB,2\n", "c.csv", limits).rows  # within both
