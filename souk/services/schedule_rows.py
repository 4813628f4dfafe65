"""Reading the rows of a schedule file (`sku,price[,stock]`, columns by name in any order)
into lines to schedule and errors named by row, column and reason, as an import does."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from souk.services.import_reader import Table
from souk.services.import_rows import (
    MAX_LENGTH,
    Columns,
    Problem,
    RowError,
    duplicate_sku,
    parse_price,
    parse_stock,
    rows_by_sku,
)

SCHEDULE_COLUMNS = ("sku", "price", "stock")
REQUIRED = ("sku", "price")


@dataclass(frozen=True, slots=True)
class ScheduleLine:
    """A valid row: the product's SKU, the price to set and the stock to set (None: the
    stock is left as it is)."""

    row: int
    sku: str
    price: Decimal
    stock: int | None


@dataclass(frozen=True)
class ScheduleFile:
    """What a file holds: its rows read, the valid lines, the errors of the others, and
    the columns it has that a schedule does not read."""

    rows: int
    lines: list[ScheduleLine]
    errors: list[RowError]
    ignored: list[str]


def _line(number: int, cells: list[str], columns: Columns) -> ScheduleLine | list[RowError]:
    errors: list[RowError] = []

    def cell(name: str) -> str:
        index = columns.known.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    if any(value.strip() for value in cells[columns.width :]):
        errors.append(RowError(number, "", Problem.EXTRA_CELLS, detail=str(columns.width)))
    sku = cell("sku")
    if not sku:
        errors.append(RowError(number, "sku", Problem.REQUIRED))
    elif len(sku) > MAX_LENGTH["sku"]:
        errors.append(RowError(number, "sku", Problem.TOO_LONG, sku[:40], str(MAX_LENGTH["sku"])))
    price = parse_price(cell("price"))
    if isinstance(price, Problem):
        errors.append(RowError(number, "price", price, cell("price")))
    stock: int | Problem | None = None
    if raw := cell("stock"):  # an empty cell leaves the stock as it is
        stock = parse_stock(raw)
        if isinstance(stock, Problem):
            errors.append(RowError(number, "stock", stock, raw))
    if errors:
        return errors
    assert isinstance(price, Decimal) and not isinstance(stock, Problem)
    return ScheduleLine(number, sku, price, stock)


def read_schedule_file(table: Table) -> ScheduleFile:
    """Check every row of the table; rows sharing a SKU are all rejected."""
    columns = Columns.of(table.header, SCHEDULE_COLUMNS, REQUIRED)
    sku_index = columns.known["sku"]
    numbers = rows_by_sku(table, sku_index)
    lines: list[ScheduleLine] = []
    errors: list[RowError] = []
    for number, cells in table.rows:
        result = _line(number, cells, columns)
        duplicate = duplicate_sku(number, cells, sku_index, numbers)
        if duplicate is not None:
            errors.append(duplicate)
        if isinstance(result, list):
            errors += result
        elif duplicate is None:
            lines.append(result)
    return ScheduleFile(len(table.rows), lines, errors, [name for _, name in columns.extra])
