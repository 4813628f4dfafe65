"""Files of competitors' offers staff send with /watch, read by the catalog import's reader:

- `sku,competitor,url`: link each product to the competitor's page (the competitor found
  by name, else by the URL's host, else created); the monitor checks them when due (now).
- `sku,competitor,price[,currency][,in_stock]`: prices staff know of (an offline shop, a
  price list), stored as offers of source `file` and judged like any check (our currency,
  the sanity band); the monitor never fetches them.

A file is applied whole or not at all: every row with a problem is reported (its row
number as a spreadsheet shows it, and why), and then nothing is stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import MonitorSettings
from souk.connectors.prices import ParsedPrice, UnparseablePrice, parse_price
from souk.db.models import CompetitorOffer, OfferSource, Product
from souk.services.competition_changes import PictureChange
from souk.services.competitors import BadUrl, Competitors, checked_url
from souk.services.import_reader import FileProblem, ImportRefused, Table, normal_name
from souk.services.offer_checks import PriceJudge, Seen
from souk.services.offer_records import OfferRecorder, ours_of

FILE_URL = "file"  # the url of every offer given by a file (one per competitor and product)
_YES = frozenset({"1", "yes", "true", "y", "да", "in_stock", "+"})
_NO = frozenset({"0", "no", "false", "n", "нет", "out_of_stock", "-"})


class RowProblem(enum.StrEnum):
    REQUIRED = "required"
    UNKNOWN_SKU = "unknown_sku"
    BAD_URL = "bad_url"
    BAD_PRICE = "bad_price"
    BAD_STOCK = "bad_stock"
    DUPLICATE = "duplicate"  # detail: the other row


@dataclass(frozen=True)
class FileRowError:
    row: int
    column: str
    problem: RowProblem
    value: str = ""
    detail: str = ""


@dataclass(frozen=True)
class FileRow:
    number: int
    sku: str
    competitor: str
    url: str | None
    price: str  # as written; read once the product (and so our currency) is known
    currency: str | None
    in_stock: bool | None


@dataclass(frozen=True)
class FileOutcome:
    linked: int  # offers newly watched (url files) or prices stored (price files)
    unchanged: int  # url files: already watched
    changes: list[PictureChange]


class CompetitorFile:
    """Reads and applies one file for one shop; see the module."""

    def __init__(
        self, session: AsyncSession, shop_id: int, settings: MonitorSettings, actor: int | None
    ) -> None:
        self._session = session
        self._shop_id = shop_id
        self._settings = settings
        self._actor = actor
        self._products_by_sku: dict[str, Product] = {}
        self._prices: dict[int, ParsedPrice] = {}  # of price rows, by row number

    def _columns(self, table: Table) -> dict[str, int]:
        names = [normal_name(name) for name in table.header]
        index = {name: number for number, name in reversed(list(enumerate(names)))}
        missing = [name for name in ("sku", "competitor") if name not in index]
        if not missing and "url" not in index and "price" not in index:
            missing = ["url"]
        if missing:
            raise ImportRefused(FileProblem.MISSING_COLUMNS, ", ".join(missing))
        return index

    async def _products(self, skus: set[str]) -> dict[str, Product]:
        found = await self._session.scalars(
            select(Product).where(
                Product.shop_id == self._shop_id, func.lower(Product.sku).in_(skus)
            )
        )
        return {product.sku.lower(): product for product in found}

    def _row(
        self, number: int, cells: list[str], columns: dict[str, int]
    ) -> FileRow | list[FileRowError]:
        def cell(name: str) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        errors = [
            FileRowError(number, name, RowProblem.REQUIRED)
            for name in ("sku", "competitor")
            if not cell(name)
        ]
        url, in_stock = None, None
        if "url" in columns:
            try:
                url = str(checked_url(cell("url")))
            except BadUrl:
                errors.append(FileRowError(number, "url", RowProblem.BAD_URL, cell("url")))
        else:
            if not cell("price"):
                errors.append(FileRowError(number, "price", RowProblem.REQUIRED))
            stock = cell("in_stock").lower()
            if stock:
                in_stock = True if stock in _YES else False if stock in _NO else None
                if in_stock is None:
                    errors.append(FileRowError(number, "in_stock", RowProblem.BAD_STOCK, stock))
        if errors:
            return errors
        return FileRow(
            number,
            cell("sku"),
            cell("competitor"),
            url,
            cell("price"),
            cell("currency") or None,
            in_stock,
        )

    async def read(self, table: Table) -> tuple[list[FileRow], list[FileRowError]]:
        """The file's rows and every problem of them (ImportRefused for the file)."""
        columns = self._columns(table)
        rows: list[FileRow] = []
        errors: list[FileRowError] = []
        for number, cells in table.rows:
            read = self._row(number, cells, columns)
            if isinstance(read, list):
                errors += read
            else:
                rows.append(read)
        products = await self._products({row.sku.lower() for row in rows})
        first: dict[tuple[str, str, str], int] = {}
        for row in rows:
            product = products.get(row.sku.lower())
            if product is None:
                errors.append(FileRowError(row.number, "sku", RowProblem.UNKNOWN_SKU, row.sku))
            elif row.url is None:
                try:
                    self._prices[row.number] = parse_price(
                        row.price, currency=row.currency, default_currency=product.currency
                    )
                except (UnparseablePrice, ValueError):
                    errors.append(
                        FileRowError(row.number, "price", RowProblem.BAD_PRICE, row.price)
                    )
            key = (row.sku.lower(), row.competitor.lower(), row.url or "")
            if key in first:
                errors.append(
                    FileRowError(row.number, "", RowProblem.DUPLICATE, row.sku, str(first[key]))
                )
            first.setdefault(key, row.number)
        self._products_by_sku = products
        return rows, sorted(errors, key=lambda error: (error.row, error.column))

    async def apply(self, rows: list[FileRow], *, now: datetime) -> FileOutcome:
        """Store the rows `read` gave (the caller applies none when it found problems)."""
        judge = PriceJudge(self._settings)
        competitors = Competitors(self._session, self._shop_id, self._settings)
        linked = unchanged = 0
        priced: list[tuple[CompetitorOffer, Seen]] = []
        for row in rows:
            product = self._products_by_sku[row.sku.lower()]
            if row.url is not None:
                host = checked_url(row.url).host or ""
                competitor = await competitors.for_host(host, row.competitor)
                _, new = await competitors.offer(
                    product, competitor, row.url, OfferSource.PAGE, now=now, actor=self._actor
                )
                linked, unchanged = linked + new, unchanged + (not new)
                continue
            price = self._prices[row.number]
            competitor = await competitors.named_or_new(row.competitor)
            offer, _ = await competitors.offer(
                product, competitor, FILE_URL, OfferSource.FILE, now=now, actor=self._actor
            )
            priced.append((offer, judge.seen(price, row.in_stock, ours_of(product))))
            linked += 1
        changes = await OfferRecorder(self._session, self._settings, now).record(priced)
        return FileOutcome(linked, unchanged, changes)
