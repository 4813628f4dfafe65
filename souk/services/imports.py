"""Importing a catalog file into a shop: first a plan (what is new, what changes, which
rows are rejected and why) to preview, then that plan applied in the caller's one
transaction, every price and stock change audited. Embeddings are left to the worker:
a product whose texts changed gets a new `content_hash`, which marks it stale."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import (
    Category,
    PriceChange,
    PriceSource,
    Product,
    Shop,
    StockMovement,
    StockReason,
)
from souk.errors import NotFoundError
from souk.services.demo import content_hash
from souk.services.import_reader import ImportRefused, Table, read_table
from souk.services.import_rows import Problem, ProductRow, RowError, read_rows

__all__ = [
    "CatalogImport",
    "ImportPlan",
    "ImportRefused",
    "ImportSummary",
    "read_table",
]

Progress = Callable[[int], None]
T = TypeVar("T")
BATCH = 2_000
_IMPORT_LOCK = 0x1A4  # with the shop id: one import of a shop at a time
_TEXTS = ("title", "description", "brand", "attributes")
_FIELDS = ("title", "description", "brand", "category_id", "price", "currency", "stock")


@dataclass(frozen=True)
class ImportSummary:
    """What a file does to the catalog: rows read, new and changed products, unchanged
    ones, rejected rows, and the categories it creates."""

    rows: int
    new: int
    changed: int
    unchanged: int
    rejected: int
    new_categories: tuple[str, ...]


class _Stored(NamedTuple):
    id: int
    sku: str
    title: str
    description: str
    brand: str | None
    category_id: int | None
    price: Decimal
    currency: str
    stock: int
    attributes: dict[str, object]
    translations: dict[str, dict[str, str]]
    content_hash: str | None


@dataclass
class _Update:
    values: dict[str, Any]
    old_price: Decimal
    old_stock: int


@dataclass
class ImportPlan:
    """The inserts and updates a file makes and the errors of its rejected rows; product
    values hold a category as an id, None, or the slug of a category still to create."""

    rows: int
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    new_categories: dict[str, str] = field(default_factory=dict)  # slug -> name

    @property
    def summary(self) -> ImportSummary:
        return ImportSummary(
            rows=self.rows,
            new=len(self.inserts),
            changed=len(self.updates),
            unchanged=self.unchanged,
            rejected=len({error.row for error in self.errors}),
            new_categories=tuple(self.new_categories.values()),
        )


def category_slug(name: str) -> str:
    slug = re.sub(r"[^\w]+", "-", name.strip().lower()).strip("-_")
    return slug[:64] or "category"


class CatalogImport:
    """One file imported into one shop, by a staff member (a Telegram id) or the CLI."""

    def __init__(
        self, session: AsyncSession, shop_id: int, *, actor_telegram_id: int | None = None
    ) -> None:
        self._session = session
        self._shop_id = shop_id
        self._actor = actor_telegram_id

    async def plan(
        self, table: Table, *, lock: bool = False, progress: Progress | None = None
    ) -> ImportPlan:
        """Check every row and compare it with the catalog. With `lock` (to apply the plan
        next, in the same transaction) other imports of the shop wait and the products
        stay as read until the transaction ends."""
        rows, errors = read_rows(table)
        shop = await self._session.get(Shop, self._shop_id)
        if shop is None:
            raise NotFoundError(f"no shop with id {self._shop_id}")
        if lock:
            await self._session.execute(select(func.pg_advisory_xact_lock(_IMPORT_LOCK, shop.id)))
        current = await self._products(lock)
        categories = await self._categories()
        plan = ImportPlan(rows=len(table.rows), errors=errors)
        for done, row in enumerate(rows, start=1):
            category = self._category(row, categories, plan)
            stored = current.get(row.sku.lower())
            if stored is None:
                self._insert(row, category, shop.currency, plan)
            else:
                self._update(row, category, stored, plan)
            if progress is not None and done % BATCH == 0:
                progress(BATCH)
        if progress is not None:
            progress(len(rows) % BATCH + len(table.rows) - len(rows))
        plan.errors.sort(key=lambda error: error.row)
        return plan

    async def _products(self, lock: bool) -> dict[str, _Stored]:
        query = select(*(getattr(Product, name) for name in _Stored._fields)).where(
            Product.shop_id == self._shop_id
        )
        if lock:
            query = query.with_for_update()
        found = await self._session.execute(query)
        return {row.sku.lower(): _Stored(*row) for row in found}

    async def _categories(self) -> dict[str, int | str]:
        found = await self._session.execute(
            select(Category.id, Category.slug, Category.name, Category.names).where(
                Category.shop_id == self._shop_id
            )
        )
        by_name: dict[str, int | str] = {}
        for category_id, slug, name, names in found:
            for text in (*names.values(), name):
                by_name.setdefault(text.strip().lower(), category_id)
            by_name[slug.lower()] = category_id  # a slug wins over a name
        return by_name

    @staticmethod
    def _category(
        row: ProductRow, known: dict[str, int | str], plan: ImportPlan
    ) -> int | str | None:
        """The row's category: an id, a slug to create, None for none, or ... to keep."""
        if row.category is None or row.category == "":
            return None
        found = known.get(row.category.lower())
        if found is None:
            slug = category_slug(row.category)
            found = known.get(slug, slug)
            if isinstance(found, str):
                plan.new_categories.setdefault(found, row.category)
            known[row.category.lower()] = found
        return found

    def _insert(
        self, row: ProductRow, category: int | str | None, currency: str, plan: ImportPlan
    ) -> None:
        if row.title is None or row.price is None:
            missing = "title" if row.title is None else "price"
            plan.errors.append(RowError(row.row, missing, Problem.NEW_PRODUCT, row.sku))
            return
        attributes = {**(row.attributes or {}), **row.extra}
        description, brand = row.description or "", row.brand or None
        plan.inserts.append(
            {
                "shop_id": self._shop_id,
                "sku": row.sku,
                "title": row.title,
                "description": description,
                "brand": brand,
                "category_id": category,
                "price": row.price,
                "currency": row.currency or currency,
                "stock": row.stock or 0,
                "attributes": attributes,
                "content_hash": content_hash(row.title, description, brand, {}, attributes),
            }
        )

    @staticmethod
    def _update(
        row: ProductRow, category: int | str | None, stored: _Stored, plan: ImportPlan
    ) -> None:
        attributes = stored.attributes
        if row.attributes is not None:
            attributes = {**row.attributes, **row.extra}
        elif row.extra:
            attributes = {**stored.attributes, **row.extra}
        wanted: dict[str, Any] = {
            "title": stored.title if row.title is None else row.title,
            "description": stored.description if row.description is None else row.description,
            "brand": stored.brand if row.brand is None else (row.brand or None),
            "category_id": stored.category_id if row.category is None else category,
            "price": stored.price if row.price is None else row.price,
            "currency": row.currency or stored.currency,
            "stock": stored.stock if row.stock is None else row.stock,
            "attributes": attributes,
        }
        before = {name: getattr(stored, name) for name in (*_FIELDS, "attributes")}
        if wanted == before:
            plan.unchanged += 1
            return
        texts_changed = any(wanted[name] != before[name] for name in _TEXTS)
        wanted["content_hash"] = (
            content_hash(
                wanted["title"],
                wanted["description"],
                wanted["brand"],
                stored.translations,
                attributes,
            )
            if texts_changed
            else stored.content_hash
        )
        wanted["id"] = stored.id
        plan.updates.append(_Update(wanted, stored.price, stored.stock))

    async def apply(self, plan: ImportPlan, *, progress: Progress | None = None) -> ImportSummary:
        """Write the plan (made with `lock=True` in this transaction): categories, new
        products, changes, and a PriceChange and StockMovement for each change."""
        slugs = await self._create_categories(plan.new_categories)
        for values in [*plan.inserts, *(change.values for change in plan.updates)]:
            if isinstance(values["category_id"], str):
                values["category_id"] = slugs[values["category_id"]]
        for batch in _batches(plan.inserts):
            created = await self._session.execute(
                insert(Product).returning(
                    Product.id, Product.stock, Product.price, sort_by_parameter_order=True
                ),
                batch,
            )
            moves = [
                self._movement(product_id, stock, stock)
                for product_id, stock, _price in created
                if stock
            ]
            if moves:
                await self._session.execute(insert(StockMovement), moves)
            if progress is not None:
                progress(len(batch))
        for changes in _batches(plan.updates):
            await self._session.execute(update(Product), [change.values for change in changes])
            await self._audit(changes)
            if progress is not None:
                progress(len(changes))
        return plan.summary

    async def _create_categories(self, new: dict[str, str]) -> dict[str, int]:
        if not new:
            return {}
        position = await self._session.scalar(
            select(func.coalesce(func.max(Category.position), -1) + 1).where(
                Category.shop_id == self._shop_id
            )
        )
        created = await self._session.execute(
            insert(Category).returning(Category.slug, Category.id),
            [
                {"shop_id": self._shop_id, "slug": slug, "name": name, "position": position}
                for slug, name in new.items()
            ],
        )
        return {slug: category_id for slug, category_id in created}

    def _movement(self, product_id: int, delta: int, stock: int) -> dict[str, Any]:
        return {
            "shop_id": self._shop_id,
            "product_id": product_id,
            "delta": delta,
            "stock_after": stock,
            "reason": StockReason.IMPORT,
            "actor_telegram_id": self._actor,
        }

    async def _audit(self, changes: Sequence[_Update]) -> None:
        prices = [
            {
                "shop_id": self._shop_id,
                "product_id": change.values["id"],
                "old_price": change.old_price,
                "new_price": change.values["price"],
                "source": PriceSource.IMPORT,
                "actor_telegram_id": self._actor,
            }
            for change in changes
            if change.values["price"] != change.old_price
        ]
        moves = [
            self._movement(
                change.values["id"],
                change.values["stock"] - change.old_stock,
                change.values["stock"],
            )
            for change in changes
            if change.values["stock"] != change.old_stock
        ]
        if prices:
            await self._session.execute(insert(PriceChange), prices)
        if moves:
            await self._session.execute(insert(StockMovement), moves)


def _batches(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[start : start + BATCH] for start in range(0, len(items), BATCH)]
