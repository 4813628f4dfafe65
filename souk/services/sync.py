"""A sync run of one store with its shop's catalog, both ways.

1. **Claim.** The source is leased (`SYNC_LEASE_SECONDS`, renewed each page) so one run
   at a time reads it. A new run reads the items updated after the watermark (all of
   them when asked for a full run or when there is none); an unfinished run resumes
   with its own filter after its last committed page.
2. **Pull.** Each page is fetched, then written in one transaction together with the
   cursor of the next page (`sync_pages.PageWriter`): a run that fails halfway has
   committed whole pages only, and the next run starts after them.
3. **Push.** Products whose price or stock differ from the values last synced were
   changed in souk (staff, imports, schedules, the repricer: the audit says who); each
   is written to the store unless the store changed it too, to another value: then it
   is a conflict, reported and left as both sides have it until they agree.
4. **Finish.** The watermark becomes the run's start less `SYNC_OVERLAP_SECONDS`, and
   `announce` may queue news for the staff in the same transaction.

Store failures (`StoreError`: refused credentials, a store down past its retries) end
the run with the error recorded on the source, never a credential in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import SyncSettings
from souk.connectors.store import RemoteChange, StoreConnector, StoreError
from souk.db.models import Product, Shop, SyncLink, SyncSource
from souk.errors import ConflictError, NotFoundError
from souk.logs import get_logger, redact
from souk.services.sync_pages import CategoryNames, PageWriter, SourceInfo
from souk.services.sync_report import Conflict, ItemProblem, SyncProblem, SyncReport
from souk.services.sync_sources import StoreAccess

log = get_logger("souk.sync")

Progress = Callable[[int, int | None], None]
Announce = Callable[[AsyncSession, SyncReport], Awaitable[None]]
Connect = Callable[[StoreAccess], StoreConnector]
PUSH_BATCH = 250


class SyncBusy(ConflictError):
    """Another run of the source holds its lease."""


@dataclass
class _Run:
    info: SourceInfo
    access: StoreAccess
    started_at: datetime
    since: datetime | None
    cursor: str | None
    report: SyncReport


class CatalogSync:
    """Runs syncs of stores (see the module); `now` is injected for tests."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        settings: SyncSettings,
        connect: Connect,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = session_factory
        self._settings = settings
        self._connect = connect
        self._now = now

    async def run(
        self,
        source_id: int,
        *,
        full: bool = False,
        progress: Progress | None = None,
        announce: Announce | None = None,
    ) -> SyncReport:
        """One run of the source; the report says what it did, or its error."""
        run = await self._claim(source_id, full)
        connector = self._connect(run.access)
        try:
            await self._pull(run, connector, progress)
            await self._push(run, connector)
        except StoreError as error:
            run.report.error = redact(str(error))
            log.warning("sync failed", source=source_id, error=run.report.error)
            await self._end(run, announce, finished=False)
            return run.report
        finally:
            await connector.close()
        await self._end(run, announce, finished=True)
        return run.report

    async def _claim(self, source_id: int, full: bool) -> _Run:
        now = self._now()
        async with self._sessions() as session, session.begin():
            source = await session.scalar(
                select(SyncSource).where(SyncSource.id == source_id).with_for_update()
            )
            if source is None or not source.is_active:
                raise NotFoundError(f"no active sync source {source_id}")
            if source.lease_until is not None and source.lease_until > now:
                raise SyncBusy(f"source {source_id} is being synced (until {source.lease_until})")
            resumed = source.run_started_at is not None
            if not resumed:
                source.run_started_at, source.cursor = now, None
                source.run_since = None if full else source.watermark
            source.lease_until = now + timedelta(seconds=self._settings.lease_seconds)
            currency = await session.scalar(select(Shop.currency).where(Shop.id == source.shop_id))
            info = SourceInfo(source.id, source.shop_id, source.kind, currency or "USD")
            assert source.run_started_at is not None
            return _Run(
                info=info,
                access=StoreAccess.of(source),
                started_at=source.run_started_at,
                since=source.run_since,
                cursor=source.cursor,
                report=SyncReport(
                    source.id,
                    source.shop_id,
                    source.kind,
                    source.base_url,
                    full=source.run_since is None,
                    resumed=resumed,
                ),
            )

    async def _pull(self, run: _Run, connector: StoreConnector, progress: Progress | None) -> None:
        categories = CategoryNames(run.info.shop_id)
        cursor = run.cursor
        while True:
            page = await connector.page(run.since, cursor)
            now = self._now()
            async with self._sessions() as session, session.begin():
                writer = PageWriter(session, run.info, run.report, categories, now)
                await writer.write(page.items)
                await session.execute(
                    update(SyncSource)
                    .where(SyncSource.id == run.info.id)
                    .values(
                        cursor=page.next_cursor,
                        lease_until=now + timedelta(seconds=self._settings.lease_seconds),
                    )
                )
            if progress is not None:
                progress(page.advance, page.total)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def _push(self, run: _Run, connector: StoreConnector) -> None:
        after = 0
        while rows := await self._changed_in_souk(run.info.id, after):
            after = rows[-1].id
            changes: list[RemoteChange] = []
            agreed: list[dict[str, Any]] = []
            for row in rows:
                change, values = self._decide(row, run.report)
                if change is not None:
                    changes.append(change)
                if values:
                    agreed.append({"id": row.id, **values})
            refused = await connector.push(changes) if changes else {}
            written = [change for change in changes if change.key not in refused]
            for change in changes:
                if change.key in refused:
                    sku = next(row.sku for row in rows if row.key == change.key)
                    problem = ItemProblem(sku, SyncProblem.PUSH_REFUSED, refused[change.key])
                    run.report.problems.append(problem)
            await self._store_links(agreed + [self._pushed(change, rows) for change in written])
            run.report.prices_out += sum(change.price is not None for change in written)
            run.report.stock_out += sum(change.stock is not None for change in written)

    async def _changed_in_souk(self, source_id: int, after: int) -> list[_Changed]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(
                    SyncLink.id,
                    SyncLink.remote_product_id,
                    SyncLink.remote_variant_id,
                    SyncLink.remote_inventory_id,
                    SyncLink.synced_price,
                    SyncLink.synced_stock,
                    SyncLink.remote_price,
                    SyncLink.remote_stock,
                    Product.sku,
                    Product.price,
                    Product.stock,
                )
                .join(Product, Product.id == SyncLink.product_id)
                .where(
                    SyncLink.source_id == source_id,
                    SyncLink.id > after,
                    or_(
                        Product.price != SyncLink.synced_price,
                        and_(
                            SyncLink.synced_stock.is_not(None),
                            Product.stock != SyncLink.synced_stock,
                        ),
                    ),
                )
                .order_by(SyncLink.id)
                .limit(PUSH_BATCH)
            )
            return [_Changed(*row) for row in rows]

    @staticmethod
    def _decide(row: _Changed, report: SyncReport) -> tuple[RemoteChange | None, dict[str, Any]]:
        """What to write to the store for a product souk changed, and the synced values
        to store now (where both sides already agree)."""
        price: Decimal | None = None
        stock: int | None = None
        agreed: dict[str, Any] = {}
        if row.price != row.synced_price:
            if row.remote_price == row.synced_price:
                price = row.price
            elif row.price == row.remote_price:
                agreed["synced_price"] = row.price
            else:
                report.conflicts.append(
                    Conflict(row.sku, "price", row.synced_price, row.price, row.remote_price)
                )
        if row.synced_stock is not None and row.stock != row.synced_stock:
            remote = max(0, row.remote_stock or 0)
            if remote == row.synced_stock:
                stock = row.stock
            elif row.stock == remote:
                agreed["synced_stock"] = row.stock
            else:
                report.conflicts.append(
                    Conflict(row.sku, "stock", row.synced_stock, row.stock, remote)
                )
        if price is None and stock is None:
            return None, agreed
        change = RemoteChange(
            product_id=row.remote_product_id,
            variant_id=row.remote_variant_id,
            inventory_id=row.remote_inventory_id,
            price=price,
            stock=stock,
            known_stock=row.remote_stock,
        )
        return change, agreed

    def _pushed(self, change: RemoteChange, rows: list[_Changed]) -> dict[str, Any]:
        row = next(row for row in rows if row.key == change.key)
        values: dict[str, Any] = {"id": row.id, "synced_at": self._now()}
        if change.price is not None:
            values["synced_price"] = values["remote_price"] = change.price
        if change.stock is not None:
            values["synced_stock"] = values["remote_stock"] = change.stock
        return values

    async def _store_links(self, values: list[dict[str, Any]]) -> None:
        async with self._sessions() as session, session.begin():
            for row in values:  # rows differ in their columns: one statement each
                link_id = row.pop("id")
                await session.execute(update(SyncLink).where(SyncLink.id == link_id).values(**row))

    async def _end(self, run: _Run, announce: Announce | None, *, finished: bool) -> None:
        now = self._now()
        async with self._sessions() as session, session.begin():
            values: dict[str, Any] = {"lease_until": None, "last_run_at": now}
            if finished:
                overlap = timedelta(seconds=self._settings.overlap_seconds)
                values |= {
                    "watermark": run.started_at - overlap,
                    "run_started_at": None,
                    "run_since": None,
                    "cursor": None,
                    "last_error": None,
                }
                if run.since is None:
                    values["last_full_at"] = run.started_at
            else:
                values["last_error"] = (run.report.error or "")[:300]
            await session.execute(
                update(SyncSource).where(SyncSource.id == run.info.id).values(**values)
            )
            if announce is not None and run.report.needs_staff:
                await announce(session, run.report)
        log.info(
            "sync run ended",
            source=run.info.id,
            finished=finished,
            read=run.report.read,
            created=run.report.created,
            updated=run.report.updated,
            pushed=run.report.prices_out + run.report.stock_out,
            conflicts=len(run.report.conflicts),
        )


@dataclass(frozen=True)
class _Changed:
    id: int
    remote_product_id: str
    remote_variant_id: str
    remote_inventory_id: str | None
    synced_price: Decimal
    synced_stock: int | None
    remote_price: Decimal
    remote_stock: int | None
    sku: str
    price: Decimal
    stock: int

    @property
    def key(self) -> tuple[str, str]:
        return self.remote_product_id, self.remote_variant_id
