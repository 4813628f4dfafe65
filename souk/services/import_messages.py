"""What an import's problems say, in the reader's language: the bot passes its gettext,
the CLI passes none (English). The texts are marked with `_` so extraction finds them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

from souk.services.catalog_files import COLUMNS
from souk.services.import_reader import FileProblem, ImportRefused
from souk.services.import_rows import Problem, RowError

Translate = Callable[[str], str]


def _same(text: str) -> str:
    return text


def refusal_text(error: ImportRefused, _: Translate = _same) -> str:
    """Why a whole file is refused, and what to do about it."""
    detail, problem = error.detail, error.problem
    if problem is FileProblem.TOO_LARGE:
        return (
            _("The file is {size} MB; an import reads files up to {limit} MB.").format(
                size=detail, limit=error.limit // 1024 // 1024
            )
            + " "
            + _("Split it into parts and send them one by one.")
        )
    if problem is FileProblem.TOO_MANY_ROWS:
        return (
            _("The file has {rows} rows; an import reads up to {limit}.").format(
                rows=detail, limit=f"{error.limit:,}"
            )
            + " "
            + _("Split it into parts and send them one by one.")
        )
    if problem is FileProblem.OLD_EXCEL:
        return _("This is an old spreadsheet format (.{suffix}). Save it as .xlsx or .csv.").format(
            suffix=detail
        )
    if problem is FileProblem.FORMAT:
        return _("An import reads .csv and .xlsx files; this one is neither.")
    if problem is FileProblem.UNREADABLE:
        return (
            _("The file cannot be read ({reason}).").format(reason=detail)
            + " "
            + _("Save it again as .xlsx or as .csv in UTF-8.")
        )
    if problem is FileProblem.EMPTY:
        return _("The file is empty: the first row must name the columns.")
    if problem is FileProblem.NO_COLUMNS:
        return _("The first row names none of the columns an import reads: {columns}.").format(
            columns=detail
        )
    if problem is FileProblem.MISSING_COLUMNS:
        return _("The file has no “{columns}” column.").format(columns=detail)
    if problem is FileProblem.DUPLICATE_COLUMN:
        return _("The column “{column}” appears twice in the first row.").format(column=detail)
    if problem is FileProblem.MERGED_CELLS:
        return _("The sheet has merged cells ({cells}); unmerge them and send it again.").format(
            cells=detail
        )
    return _(
        "Cell {cell} has a formula whose value was not saved. Open the file in a "
        "spreadsheet and save it again, or paste the values in place of the formulas."
    ).format(cell=detail)


def reason_text(error: RowError, _: Translate = _same) -> str:
    """Why one cell (or row) is rejected."""
    value, detail, problem = error.value, error.detail, error.problem
    if problem is Problem.REQUIRED:
        return _("empty; a value is needed")
    if problem is Problem.NEW_PRODUCT:
        return _("a new product needs a title and a price")
    if problem is Problem.TOO_LONG:
        return _("longer than {limit} characters").format(limit=detail)
    if problem is Problem.NOT_A_NUMBER:
        return _("“{value}” is not a number").format(value=value)
    if problem is Problem.NOT_WHOLE:
        return _("“{value}” is not a whole number").format(value=value)
    if problem is Problem.NEGATIVE:
        return _("“{value}” is negative").format(value=value)
    if problem is Problem.ZERO_PRICE:
        return _("a price must be above zero")
    if problem is Problem.DECIMALS:
        return _("“{value}” has more than two decimals").format(value=value)
    if problem is Problem.TOO_LARGE:
        return _("“{value}” is too large").format(value=value)
    if problem is Problem.CURRENCY:
        return _("“{value}” is not a currency code such as USD").format(value=value)
    if problem is Problem.ATTRIBUTES:
        return _('not a JSON object such as {{"color": "red"}}').format()
    if problem is Problem.DUPLICATE_SKU:
        return _("the SKU “{value}” is also in row {rows}").format(value=value, rows=detail)
    if problem is Problem.UNKNOWN_SKU:
        if not detail:
            return _("no product has the SKU “{value}”").format(value=value)
        return _("no product has the SKU “{value}”; did you mean {skus}?").format(
            value=value, skus=detail
        )
    if problem is Problem.BELOW_FLOOR:
        return _("{value} is below the product's cost ({floor})").format(value=value, floor=detail)
    if problem is Problem.SCHEDULED:
        return _("the SKU is also in schedule #{id}, whose times overlap").format(id=detail)
    return _("more cells than the {count} columns of the first row").format(count=detail)


def error_report(errors: Iterable[RowError], _: Translate = _same) -> bytes:
    """The rejected rows as CSV (row, column, reason), UTF-8 with a BOM so that Excel
    opens it with the right letters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_("row"), _("column"), _("reason")])
    for error in errors:
        writer.writerow([error.row, error.column, reason_text(error, _)])
    return buffer.getvalue().encode("utf-8-sig")


def expected_columns() -> str:
    return ", ".join(COLUMNS)
