"""One page of a store's items written into a shop's catalog, in the caller's transaction.

An item is found by its link (the store's ids), else by SKU among the products no item
of this store is linked to yet (a catalog imported before the store was connected is
adopted, not duplicated), else created. Texts always follow the store; price and stock
are merged three ways against the values last synced (`merge`), so a change made in
souk since is kept for the push and a change made on both sides is left alone. Every
price and stock change is audited (source and reason `sync`); a product whose texts
changed gets a new `content_hash`, which is what re-queues its embedding, and only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.connectors.store import RemoteItem
from souk.db.models import (
    Category,
    PriceChange,
    PriceSource,
    Product,
    StockMovement,
    StockReason,
    SyncKind,
    SyncLink,
)
from souk.services.demo import content_hash
from souk.services.import_rows import parse_price
from souk.services.imports import category_slug
from souk.services.sync_report import ItemProblem, SyncProblem, SyncReport

V = TypeVar("V", Decimal, int)
_TEXTS = ("title", "description", "brand", "attributes")
_SKU_PREFIX = {SyncKind.SHOPIFY: "shopify", SyncKind.WOOCOMMERCE: "woo"}


def merge(synced: V, local: V, remote: V) -> tuple[V, V]:
    """Souk's new value and the new synced value: the store's change is taken while
    souk's value is still the synced one (or equals it already); a change made only in
    souk stays, for the push; a change on both sides keeps both (a conflict)."""
    if remote == synced:
        return local, synced
    if local in (synced, remote):
        return remote, remote
    return local, synced


def generated_sku(kind: SyncKind, item: RemoteItem) -> str:
    """The SKU of an item the store gives none (or an unusable one): the store's kind and
    ids, stable from run to run ("shopify-4428", "woo-31-77")."""
    if kind is SyncKind.SHOPIFY:
        return f"shopify-{item.variant_id.rsplit('/', 1)[-1]}"
    ids = [item.product_id, item.variant_id] if item.variant_id else [item.product_id]
    return "-".join([_SKU_PREFIX[kind], *ids])[:64]


@dataclass(frozen=True)
class SourceInfo:
    id: int
    shop_id: int
    kind: SyncKind
    currency: str


class _Link(NamedTuple):
    id: int | None  # None: adopted in this page, not stored yet
    product_id: int
    synced_price: Decimal
    synced_stock: int | None
    remote_price: Decimal
    remote_stock: int | None
    remote_inventory_id: str | None


class _Product(NamedTuple):
    id: int
    sku: str
    title: str
    description: str
    brand: str | None
    category_id: int | None
    attributes: dict[str, object]
    translations: dict[str, dict[str, str]]
    photo_url: str | None
    is_active: bool
    price: Decimal
    stock: int
    content_hash: str | None


@dataclass
class _Writes:
    new_products: list[dict[str, Any]] = field(default_factory=list)
    new_product_links: list[dict[str, Any]] = field(default_factory=list)
    product_updates: list[dict[str, Any]] = field(default_factory=list)
    new_links: list[dict[str, Any]] = field(default_factory=list)
    link_updates: list[dict[str, Any]] = field(default_factory=list)
    prices: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)


class CategoryNames:
    """A shop's categories by name and slug, created when a store names a new one."""

    def __init__(self, shop_id: int) -> None:
        self._shop_id = shop_id
        self._ids: dict[str, int] | None = None
        self._session: AsyncSession | None = None

    def using(self, session: AsyncSession) -> CategoryNames:
        """These names, read and created through `session` (the page's transaction)."""
        self._session = session
        return self

    async def id_of(self, name: str) -> int:
        assert self._session is not None
        if self._ids is None:
            self._ids = {}
            found = await self._session.execute(
                select(Category.id, Category.slug, Category.name).where(
                    Category.shop_id == self._shop_id
                )
            )
            for category_id, slug, known in found:
                self._ids.setdefault(known.strip().lower(), category_id)
                self._ids[slug.lower()] = category_id
        key = name.strip().lower()
        if key not in self._ids:
            slug = category_slug(name)
            await self._session.execute(
                pg_insert(Category)
                .values(shop_id=self._shop_id, slug=slug, name=name.strip()[:200])
                .on_conflict_do_nothing(index_elements=["shop_id", "slug"])
            )
            self._ids[key] = int(
                await self._session.scalar(
                    select(Category.id).where(
                        Category.shop_id == self._shop_id, Category.slug == slug
                    )
                )
                or 0
            )
        return self._ids[key]


class PageWriter:
    """Writes pages of one source's items (see the module); one per run."""

    def __init__(
        self,
        session: AsyncSession,
        source: SourceInfo,
        report: SyncReport,
        categories: CategoryNames,
        now: datetime,
    ) -> None:
        self._session = session
        self._source = source
        self._run_report = report
        self._report = report  # this page's, while it is decided
        self._categories = categories.using(session)
        self._now = now
        self._reason = f"sync {source.kind.value}"
        self._claimed: set[str] = set()  # lower-case SKUs given to items of this page

    async def write(self, items: Sequence[RemoteItem]) -> None:
        """Decide on a snapshot read without locks, then lock only the products to change
        and decide again if any of them changed meanwhile: an unchanged page takes no row
        lock (a row lock is a write; a re-sync of 10,000 unchanged items took about a
        third longer with every row locked)."""
        unique = list({item.key: item for item in items}.values())
        links = await self._links([item.key for item in unique])
        products = await self._products([link.product_id for link in links.values()])
        unlinked = [item for item in unique if item.key not in links]
        by_sku = await self._by_sku(unlinked)
        locked = {product.id for product, _ in by_sku.values()}  # locked by _by_sku
        while True:
            self._claimed.clear()
            self._report = SyncReport(self._source.id, self._source.shop_id, self._source.kind, "")
            writes = _Writes()
            for item in unique:
                link = links.get(item.key)
                if link is not None and link.product_id in products:
                    await self._update(item, link, products[link.product_id], writes)
                else:
                    await self._adopt_or_create(item, by_sku, writes)
            wanted = {values["id"] for values in writes.product_updates} - locked
            if not wanted:
                break
            current = await self._products(sorted(wanted), lock=True)
            locked |= wanted
            if all(current.get(product_id) == products.get(product_id) for product_id in wanted):
                break
            products.update(current)
        self._run_report.absorb(self._report, read=len(unique))
        await self._apply(writes)

    # -- reading ---------------------------------------------------------------------

    async def _links(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], _Link]:
        if not keys:
            return {}
        rows = await self._session.execute(
            select(SyncLink.remote_product_id, SyncLink.remote_variant_id, *_LINK_COLUMNS).where(
                SyncLink.source_id == self._source.id,
                SyncLink.remote_product_id.in_({product_id for product_id, _ in keys}),
            )
        )
        wanted = set(keys)
        return {(row[0], row[1]): _Link(*row[2:]) for row in rows if (row[0], row[1]) in wanted}

    async def _products(self, ids: list[int], *, lock: bool = False) -> dict[int, _Product]:
        if not ids:
            return {}
        query = (
            select(*_PRODUCT_COLUMNS)
            .where(Product.shop_id == self._source.shop_id, Product.id.in_(ids))
            .order_by(Product.id)
        )
        rows = await self._session.execute(query.with_for_update() if lock else query)
        return {row.id: _Product(*row) for row in rows}

    async def _by_sku(self, items: list[RemoteItem]) -> dict[str, tuple[_Product, bool]]:
        """Products with the SKUs (given or generated) of unlinked items, each with whether
        an item of this source is linked to it already."""
        skus = {generated_sku(self._source.kind, item).lower() for item in items}
        skus |= {item.sku.lower() for item in items if item.sku}
        if not skus:
            return {}
        linked = exists().where(
            SyncLink.source_id == self._source.id, SyncLink.product_id == Product.id
        )
        rows = await self._session.execute(
            select(*_PRODUCT_COLUMNS, linked)
            .where(Product.shop_id == self._source.shop_id, func.lower(Product.sku).in_(skus))
            .order_by(Product.id)
            .with_for_update(of=Product)
        )
        return {row.sku.lower(): (_Product(*row[:-1]), bool(row[-1])) for row in rows}

    # -- deciding --------------------------------------------------------------------

    def _price(self, item: RemoteItem, sku: str) -> Decimal | None:
        if item.price is None:
            return None
        parsed = parse_price(item.price)
        if isinstance(parsed, Decimal):
            return parsed
        self._report.problems.append(ItemProblem(sku, SyncProblem.BAD_PRICE, item.price[:40]))
        return None

    def _stock(self, item: RemoteItem, sku: str) -> int | None:
        if item.stock is None:
            return None
        if item.stock < 0:
            problem = ItemProblem(sku, SyncProblem.NEGATIVE_STOCK, str(item.stock))
            self._report.problems.append(problem)
        return max(0, item.stock)

    async def _texts(self, item: RemoteItem, product: _Product | None) -> dict[str, Any]:
        sku = product.sku if product is not None else ""
        values: dict[str, Any] = {
            "title": (item.title.strip() or sku)[:300],
            "description": item.description,
            "brand": (item.brand or "").strip()[:100] or None,
            "attributes": {**(product.attributes if product else {}), **item.attributes},
            "photo_url": item.photo_url or (product.photo_url if product else None),
            "is_active": item.active,
            "category_id": product.category_id if product else None,
        }
        if item.category and item.category.strip():
            values["category_id"] = await self._categories.id_of(item.category)
        return values

    async def _update(
        self, item: RemoteItem, link: _Link, product: _Product, writes: _Writes
    ) -> None:
        price = self._price(item, product.sku)
        new_price, synced_price = product.price, link.synced_price
        if price is not None:
            new_price, synced_price = merge(link.synced_price, product.price, price)
        stock = self._stock(item, product.sku)
        new_stock, synced_stock = product.stock, stock
        if stock is not None and link.synced_stock is not None:
            new_stock, synced_stock = merge(link.synced_stock, product.stock, stock)
        elif stock is not None:  # the store tracks it from now on: its value, once
            new_stock = stock
        values = await self._texts(item, product)
        before = {name: getattr(product, name) for name in values}
        if values != before or new_price != product.price or new_stock != product.stock:
            texts_changed = any(values[name] != before[name] for name in _TEXTS)
            values["content_hash"] = (
                content_hash(
                    values["title"],
                    values["description"],
                    values["brand"],
                    product.translations,
                    values["attributes"],
                )
                if texts_changed
                else product.content_hash
            )
            writes.product_updates.append(
                {**values, "id": product.id, "price": new_price, "stock": new_stock}
            )
            self._audit(product, new_price, new_stock, writes)
            self._report.updated += 1
        else:
            self._report.unchanged += 1
        stored = {
            "synced_price": synced_price,
            "synced_stock": synced_stock,
            "remote_price": link.remote_price if price is None else price,
            "remote_stock": item.stock,
            "remote_inventory_id": item.inventory_id,
        }
        if link.id is None:
            writes.new_links.append({**stored, **self._link_keys(item, product.id)})
        elif stored != {name: getattr(link, name) for name in stored}:
            writes.link_updates.append(
                {
                    **stored,
                    "id": link.id,
                    "synced_at": self._now,
                    "remote_updated_at": item.updated_at,
                }
            )

    def _audit(self, product: _Product, price: Decimal, stock: int, writes: _Writes) -> None:
        if price != product.price:
            self._report.prices_in += 1
            writes.prices.append(
                {
                    "shop_id": self._source.shop_id,
                    "product_id": product.id,
                    "old_price": product.price,
                    "new_price": price,
                    "source": PriceSource.SYNC,
                    "reason": self._reason,
                }
            )
        if stock != product.stock:
            self._report.stock_in += 1
            writes.moves.append(self._movement(product.id, stock - product.stock, stock))

    def _movement(self, product_id: int, delta: int, stock: int) -> dict[str, Any]:
        return {
            "shop_id": self._source.shop_id,
            "product_id": product_id,
            "delta": delta,
            "stock_after": stock,
            "reason": StockReason.SYNC,
            "note": self._reason,
        }

    def _link_keys(self, item: RemoteItem, product_id: int | None) -> dict[str, Any]:
        keys: dict[str, Any] = {
            "shop_id": self._source.shop_id,
            "source_id": self._source.id,
            "remote_product_id": item.product_id,
            "remote_variant_id": item.variant_id,
            "remote_updated_at": item.updated_at,
            "synced_at": self._now,
        }
        if product_id is not None:
            keys["product_id"] = product_id
        return keys

    async def _adopt_or_create(
        self, item: RemoteItem, by_sku: dict[str, tuple[_Product, bool]], writes: _Writes
    ) -> None:
        generated = generated_sku(self._source.kind, item)
        given = item.sku if item.sku and len(item.sku) <= 64 else None
        sku = given or generated
        if self._taken(sku, by_sku) and given is not None:
            self._report.problems.append(ItemProblem(given, SyncProblem.DUPLICATE_SKU, generated))
            sku = generated
        if self._taken(sku, by_sku):
            self._report.problems.append(ItemProblem(sku, SyncProblem.DUPLICATE_SKU, item.key[1]))
            return
        self._claimed.add(sku.lower())
        found = by_sku.get(sku.lower())
        if found is not None:
            product = found[0]
            # Adopted: the store's values win once, as if souk's were the synced ones.
            link = _Link(None, product.id, product.price, None, product.price, None, None)
            await self._update(item, link, product, writes)
            return
        await self._create(item, sku, given is None, writes)

    def _taken(self, sku: str, by_sku: dict[str, tuple[_Product, bool]]) -> bool:
        """Is the SKU another item's already (linked before, or in this page)?"""
        found = by_sku.get(sku.lower())
        return sku.lower() in self._claimed or (found is not None and found[1])

    async def _create(self, item: RemoteItem, sku: str, generated: bool, writes: _Writes) -> None:
        price = self._price(item, sku)
        if price is None:
            if item.price is None:
                self._report.problems.append(ItemProblem(sku, SyncProblem.NO_PRICE))
            return
        if generated:
            self._report.problems.append(ItemProblem(sku, SyncProblem.NO_SKU))
        stock = self._stock(item, sku)
        values = await self._texts(item, None)
        values["title"] = values["title"] or sku
        writes.new_products.append(
            {
                **values,
                "shop_id": self._source.shop_id,
                "sku": sku,
                "price": price,
                "currency": self._source.currency,
                "stock": stock or 0,
                "content_hash": content_hash(
                    values["title"],
                    values["description"],
                    values["brand"],
                    {},
                    values["attributes"],
                ),
            }
        )
        writes.new_product_links.append(
            {
                **self._link_keys(item, None),
                "synced_price": price,
                "synced_stock": stock,
                "remote_price": price,
                "remote_stock": item.stock,
                "remote_inventory_id": item.inventory_id,
            }
        )
        self._report.created += 1

    # -- writing ---------------------------------------------------------------------

    async def _apply(self, writes: _Writes) -> None:
        if writes.new_products:
            created = await self._session.execute(
                insert(Product).returning(Product.id, Product.stock, sort_by_parameter_order=True),
                writes.new_products,
            )
            for (product_id, stock), link in zip(created, writes.new_product_links, strict=True):
                link["product_id"] = product_id
                writes.new_links.append(link)
                if stock:
                    writes.moves.append(self._movement(product_id, stock, stock))
        if writes.product_updates:
            await self._session.execute(update(Product), writes.product_updates)
        if writes.new_links:
            await self._session.execute(insert(SyncLink), writes.new_links)
        if writes.link_updates:
            await self._session.execute(update(SyncLink), writes.link_updates)
        if writes.prices:
            await self._session.execute(insert(PriceChange), writes.prices)
        if writes.moves:
            await self._session.execute(insert(StockMovement), writes.moves)


_LINK_COLUMNS = (
    SyncLink.id,
    SyncLink.product_id,
    SyncLink.synced_price,
    SyncLink.synced_stock,
    SyncLink.remote_price,
    SyncLink.remote_stock,
    SyncLink.remote_inventory_id,
)
_PRODUCT_COLUMNS = tuple(getattr(Product, name) for name in _Product._fields)
