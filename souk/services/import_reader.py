"""Reading a catalog file (CSV or XLSX) into a header and rows of text cells, or refusing
it as a whole with a precise reason (too big, unreadable, merged cells...)."""

from __future__ import annotations

import csv
import enum
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from souk.errors import InvalidInput

TEXT_SUFFIXES = frozenset({"csv", "tsv", "txt"})
XLSX_SUFFIXES = frozenset({"xlsx", "xlsm"})
_DELIMITERS = (",", ";", "\t", "|")
_MERGED = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*ref="([A-Za-z0-9:$]+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


class FileProblem(enum.StrEnum):
    TOO_LARGE = "too_large"
    TOO_MANY_ROWS = "too_many_rows"
    FORMAT = "format"  # not a CSV or XLSX at all (by name or by content)
    OLD_EXCEL = "old_excel"
    UNREADABLE = "unreadable"
    EMPTY = "empty"
    NO_COLUMNS = "no_columns"  # the header has none of the required columns
    MISSING_COLUMNS = "missing_columns"
    DUPLICATE_COLUMN = "duplicate_column"
    MERGED_CELLS = "merged_cells"
    FORMULA_WITHOUT_VALUE = "formula_without_value"


@dataclass(frozen=True)
class ImportLimits:
    """How big a file may be (IMPORT_MAX_BYTES, IMPORT_MAX_ROWS). Telegram lets a bot
    download files up to 20 MB; the CLI keeps the same bound by default, so that a file
    which imports from the shell also imports through the bot."""

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 50_000


DEFAULT_LIMITS = ImportLimits()


class ImportRefused(InvalidInput):
    """The file cannot be imported at all; nothing of it is applied. `detail` is what the
    message names (a size, the missing columns, a cell); `limit` the bound it broke."""

    def __init__(self, problem: FileProblem, detail: str = "", limit: int = 0) -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem
        self.detail = detail
        self.limit = limit


@dataclass
class Table:
    """A file's header (as written) and its non-empty rows with their row numbers as a
    spreadsheet shows them (the header is row 1)."""

    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","


def file_kind(filename: str) -> str:
    """ "csv" or "xlsx" by the file's name, else ImportRefused (the old .xls named apart)."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in TEXT_SUFFIXES:
        return "csv"
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix in ("xls", "ods", "numbers"):
        raise ImportRefused(FileProblem.OLD_EXCEL, suffix)
    raise ImportRefused(FileProblem.FORMAT, suffix)


def check_size(size: int, limits: ImportLimits = DEFAULT_LIMITS) -> None:
    if size > limits.max_bytes:
        raise ImportRefused(
            FileProblem.TOO_LARGE, f"{size / 1024 / 1024:.1f}", limit=limits.max_bytes
        )


def read_table(data: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS) -> Table:
    """The table of a CSV (utf-8, utf-8 with BOM, utf-16 or cp1251; comma, semicolon, tab
    or bar) or of the first sheet of an XLSX (cached values of formulas)."""
    check_size(len(data), limits)
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE compound file: Excel 97-2003
        raise ImportRefused(FileProblem.OLD_EXCEL, "xls")
    kind = "xlsx" if data.startswith(b"PK\x03\x04") else file_kind(filename)
    rows = limits.max_rows
    table = read_xlsx(data, rows) if kind == "xlsx" else read_csv(data, rows)
    if len(table.rows) > rows:
        raise ImportRefused(FileProblem.TOO_MANY_ROWS, str(len(table.rows)), limit=rows)
    return table


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Russian Windows saves "CSV" in cp1251; it maps nearly every byte, so
        # binary junk is told apart by its control characters below.
        return data.decode("cp1251"), "cp1251"
    except UnicodeDecodeError:
        raise ImportRefused(FileProblem.UNREADABLE, "encoding") from None


def _delimiter(first_line: str) -> str:
    """The delimiter under which the header names the most known columns (then the most
    cells): a semicolon file often has commas inside its values, not in its header."""
    from souk.services.catalog_files import COLUMNS

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        known = sum(1 for cell in cells if normal_name(cell) in COLUMNS)
        return known, len(cells)

    return max(_DELIMITERS, key=score)


def normal_name(name: str) -> str:
    return name.strip().strip("\ufeff").lower().replace(" ", "_")


def read_csv(data: bytes, max_rows: int) -> Table:
    text, encoding = decode(data)
    if "\x00" in text or re.search(r"[\x01-\x08\x0e-\x1f]", text[:4096]):
        raise ImportRefused(FileProblem.FORMAT, "binary")
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    if not first_line.strip():
        raise ImportRefused(FileProblem.EMPTY)
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        table = Table(header, encoding=encoding.removesuffix("-sig"), delimiter=delimiter)
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                table.rows.append((number, cells))
                if len(table.rows) > max_rows:
                    break  # enough to refuse; the rest need not be read
    except csv.Error as error:
        raise ImportRefused(FileProblem.UNREADABLE, f"line {reader.line_num}: {error}") from None
    return table


def _text(value: object) -> str:
    """An XLSX cell as the text a CSV would have: 5.0 -> "5", 19.9 -> "19.9"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def read_xlsx(data: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportRefused(FileProblem.UNREADABLE, "xlsx") from None
    if not workbook.worksheets:
        raise ImportRefused(FileProblem.EMPTY)
    sheet = workbook.worksheets[0]
    path = str(getattr(sheet, "_worksheet_path", "xl/worksheets/sheet1.xml"))
    try:
        xml = archive.read(path)
    except KeyError:
        raise ImportRefused(FileProblem.UNREADABLE, "xlsx") from None
    merged = _MERGED.findall(xml)
    if merged:
        raise ImportRefused(FileProblem.MERGED_CELLS, ", ".join(ref.decode() for ref in merged[:5]))
    values: Iterator[tuple[object, ...]] = sheet.iter_rows(values_only=True)
    if _FORMULA.search(xml):
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        values = _cached_values(values, formulas.worksheets[0].iter_rows(values_only=True))
    return _table_of(values, max_rows)


def _cached_values(
    values: Iterator[tuple[object, ...]], formulas: Iterator[tuple[object, ...]]
) -> Iterator[tuple[object, ...]]:
    """The rows of cached values, refusing a formula that was saved without its value
    (files written by programs that do not calculate)."""
    from openpyxl.utils import get_column_letter

    for number, (row, written) in enumerate(zip(values, formulas, strict=False), start=1):
        for column, (value, source) in enumerate(zip(row, written, strict=False), start=1):
            if value is None and isinstance(source, str) and source.startswith("="):
                raise ImportRefused(
                    FileProblem.FORMULA_WITHOUT_VALUE, f"{get_column_letter(column)}{number}"
                )
        yield row


def _table_of(values: Iterator[tuple[object, ...]], max_rows: int) -> Table:
    header: list[str] | None = None
    table = Table([])
    for number, row in enumerate(values, start=1):
        cells = [_text(value) for value in row]
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = table.header = cells
            continue
        table.rows.append((number, cells))
        if len(table.rows) > max_rows:
            break
    if header is None:
        raise ImportRefused(FileProblem.EMPTY)
    return table
