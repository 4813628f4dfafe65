"""Checking the rows of a catalog file: the columns by name in any order, each cell's type
and range, duplicate SKUs; every problem named by row, column and reason."""

from __future__ import annotations

import enum
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from souk.services.catalog_files import COLUMNS
from souk.services.import_reader import FileProblem, ImportRefused, Table, normal_name
from souk.services.products import MOST_PRICE, MOST_STOCK
from souk.services.search_filters import parse_amount

REQUIRED_COLUMNS = ("sku",)
NEW_PRODUCT_NEEDS = ("title", "price")
MAX_LENGTH = {"sku": 64, "title": 300, "brand": 100, "category": 200}
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_GROUPED_NUMBER = re.compile(r"[\d.,\s]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_CENT = Decimal("0.01")


class Problem(enum.StrEnum):
    REQUIRED = "required"
    NEW_PRODUCT = "new_product"  # a new SKU without a title or a price
    TOO_LONG = "too_long"
    NOT_A_NUMBER = "not_a_number"
    NOT_WHOLE = "not_whole"
    NEGATIVE = "negative"
    ZERO_PRICE = "zero_price"
    DECIMALS = "decimals"
    TOO_LARGE = "too_large"
    CURRENCY = "currency"
    ATTRIBUTES = "attributes"
    DUPLICATE_SKU = "duplicate_sku"
    EXTRA_CELLS = "extra_cells"
    UNKNOWN_SKU = "unknown_sku"  # detail: the closest SKUs
    BELOW_FLOOR = "below_floor"  # detail: the product's cost
    SCHEDULED = "scheduled"  # detail: the schedule whose times overlap


@dataclass(frozen=True, slots=True)
class RowError:
    """Why a row is rejected: its number as a spreadsheet shows it, the column's name in
    the file ("" for the row as a whole), the problem, the value and what the problem
    names (a length, other rows)."""

    row: int
    column: str
    problem: Problem
    value: str = ""
    detail: str = ""


@dataclass(slots=True)
class ProductRow:
    """A valid row; None means the file does not give that value (the column is absent or,
    for the currency, the cell is empty): a product keeps what it has."""

    row: int
    sku: str
    title: str | None = None
    description: str | None = None
    category: str | None = None  # "" takes the product out of its category
    brand: str | None = None  # "" clears the brand
    price: Decimal | None = None
    currency: str | None = None
    stock: int | None = None
    attributes: dict[str, object] | None = None  # replaces (the attributes column)
    extra: dict[str, str] = field(default_factory=dict)  # merged (other columns)


@dataclass(frozen=True)
class Columns:
    """Where each known column is, and the other columns (kept as attributes)."""

    known: dict[str, int]
    extra: list[tuple[int, str]]
    width: int

    @classmethod
    def of(
        cls,
        header: list[str],
        names: tuple[str, ...] = COLUMNS,
        required: tuple[str, ...] = REQUIRED_COLUMNS,
    ) -> Columns:
        """The columns of a header, refusing a file without the `required` ones; names
        other than `names` are the extra columns."""
        known: dict[str, int] = {}
        extra: list[tuple[int, str]] = []
        seen: set[str] = set()
        for index, raw in enumerate(header):
            name = normal_name(raw)
            if not name:
                continue  # an unnamed column (a trailing delimiter) holds nothing we read
            if name in seen:
                raise ImportRefused(FileProblem.DUPLICATE_COLUMN, raw.strip())
            seen.add(name)
            if name in names:
                known[name] = index
            else:
                extra.append((index, raw.strip()))
        if not known:
            raise ImportRefused(FileProblem.NO_COLUMNS, ", ".join(names))
        missing = [name for name in required if name not in known]
        if missing:
            raise ImportRefused(FileProblem.MISSING_COLUMNS, ", ".join(missing))
        return cls(known, extra, len(header))


def parse_price(raw: str) -> Decimal | Problem:
    text = raw.strip().replace("\u2212", "-")
    if not text:
        return Problem.REQUIRED
    if text.startswith("-"):
        return Problem.NEGATIVE
    if _PLAIN_NUMBER.fullmatch(text):  # "1.999" is a number with 3 decimals, not 1999
        value: Decimal | None = Decimal(text)
    elif _GROUPED_NUMBER.fullmatch(text):
        value = parse_amount(text)  # "19 990,50", "1,299.00"
    else:
        value = None
    if value is None:
        return Problem.NOT_A_NUMBER
    if value != value.quantize(_CENT):
        return Problem.DECIMALS
    if value <= 0:
        return Problem.ZERO_PRICE
    if value >= MOST_PRICE:
        return Problem.TOO_LARGE
    return value.quantize(_CENT)


def parse_stock(raw: str) -> int | Problem:
    text = "".join(raw.split()).replace("\u2212", "-")
    if not text:
        return Problem.REQUIRED
    if text.startswith("-"):
        return Problem.NEGATIVE
    if not text.isdecimal():
        try:
            Decimal(text.replace(",", "."))
        except InvalidOperation:
            return Problem.NOT_A_NUMBER
        return Problem.NOT_WHOLE
    value = int(text)
    return Problem.TOO_LARGE if value > MOST_STOCK else value


def parse_attributes(raw: str) -> dict[str, object] | Problem:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return Problem.ATTRIBUTES
    return value if isinstance(value, dict) else Problem.ATTRIBUTES


class RowReader:
    """Turns the rows of a table into ProductRows and RowErrors."""

    def __init__(self, columns: Columns) -> None:
        self._columns = columns
        self._names = {name: index for name, index in columns.known.items()}

    def read(self, number: int, cells: list[str]) -> ProductRow | list[RowError]:
        errors: list[RowError] = []

        def cell(name: str) -> str | None:
            index = self._names.get(name)
            if index is None:
                return None
            return cells[index].strip() if index < len(cells) else ""

        def fail(name: str, problem: Problem, value: str = "", detail: str = "") -> None:
            errors.append(RowError(number, name, problem, value, detail))

        if any(value.strip() for value in cells[self._columns.width :]):
            fail("", Problem.EXTRA_CELLS, detail=str(self._columns.width))
        sku = cell("sku") or ""
        row = ProductRow(number, sku)
        if not sku:
            fail("sku", Problem.REQUIRED)
        for name in ("sku", "title", "brand", "category"):
            text = cell(name)
            if text is not None and len(text) > MAX_LENGTH[name]:
                fail(name, Problem.TOO_LONG, text[:40], str(MAX_LENGTH[name]))
        row.title, row.brand, row.category = cell("title"), cell("brand"), cell("category")
        if row.title == "":
            fail("title", Problem.REQUIRED)
        description = cells[self._names["description"]] if "description" in self._names else None
        # Kept as written (a description may begin with a line break), but blank is empty.
        row.description = description if description is None or description.strip() else ""
        if (raw := cell("price")) is not None:
            price = parse_price(raw)
            if isinstance(price, Problem):
                fail("price", price, raw)
            else:
                row.price = price
        if (raw := cell("stock")) is not None:
            stock = parse_stock(raw)
            if isinstance(stock, Problem):
                fail("stock", stock, raw)
            else:
                row.stock = stock
        if raw := cell("currency"):
            if _CURRENCY.fullmatch(raw.upper()):
                row.currency = raw.upper()
            else:
                fail("currency", Problem.CURRENCY, raw)
        if (raw := cell("attributes")) is not None:
            attributes = parse_attributes(raw)
            if isinstance(attributes, Problem):
                fail("attributes", attributes, raw[:40])
            else:
                row.attributes = attributes
        for index, name in self._columns.extra:
            if index < len(cells) and cells[index].strip():
                row.extra[name] = cells[index].strip()
        return errors or row


def read_rows(table: Table) -> tuple[list[ProductRow], list[RowError]]:
    """The valid rows and the errors of the others; rows sharing a SKU (in any case) are
    all rejected, since which one is meant cannot be told."""
    columns = Columns.of(table.header)
    reader = RowReader(columns)
    sku_index = columns.known["sku"]
    numbers = rows_by_sku(table, sku_index)
    rows: list[ProductRow] = []
    errors: list[RowError] = []
    for number, cells in table.rows:
        result = reader.read(number, cells)
        duplicate = duplicate_sku(number, cells, sku_index, numbers)
        if duplicate is not None:
            errors.append(duplicate)
            if isinstance(result, list):
                errors += result
        elif isinstance(result, ProductRow):
            rows.append(result)
        else:
            errors += result
    return rows, errors


def rows_by_sku(table: Table, sku_index: int) -> dict[str, list[int]]:
    """The row numbers of each SKU (in lower case) of a table."""
    numbers: dict[str, list[int]] = defaultdict(list)
    for number, cells in table.rows:
        if sku_index < len(cells) and (sku := cells[sku_index].strip()):
            numbers[sku.lower()].append(number)
    return numbers


def duplicate_sku(
    number: int, cells: list[str], sku_index: int, numbers: dict[str, list[int]]
) -> RowError | None:
    """The error of a row whose SKU other rows also have (then none of them is used,
    since which one is meant cannot be told)."""
    sku = cells[sku_index].strip() if sku_index < len(cells) else ""
    shared = numbers.get(sku.lower(), []) if sku else []
    if len(shared) < 2:
        return None
    others = ", ".join(str(n) for n in shared if n != number)
    return RowError(number, "sku", Problem.DUPLICATE_SKU, sku, others)
