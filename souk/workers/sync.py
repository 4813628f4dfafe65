"""Catalog sync jobs: the beat job that starts the runs that are due, and one run of one
store (also what `souk sync --shop` runs, with a progress bar)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from souk.connectors.store import StoreConnector
from souk.notify import StaffNotifier
from souk.runtime import Runtime
from souk.services.sync import CatalogSync, Connect, Progress
from souk.services.sync_report import SyncReport
from souk.services.sync_sources import StoreAccess, SyncSources, open_connector
from souk.sync_texts import push_sync_report


def store_connector(runtime: Runtime) -> Connect:
    """Connectors that wait for real (sleep) between retries and for Shopify's budget."""

    def connect(access: StoreAccess) -> StoreConnector:
        return open_connector(access, runtime.settings.sync, sleep=asyncio.sleep)

    return connect


async def sync_store(
    runtime: Runtime,
    source_id: int,
    *,
    full: bool = False,
    progress: Progress | None = None,
    connect: Connect | None = None,
) -> SyncReport:
    """One run of the store; what the staff should know is queued in the outbox."""

    async def announce(session: AsyncSession, report: SyncReport) -> None:
        notifier = StaffNotifier(session, runtime.outbox(session), runtime.i18n)
        await push_sync_report(notifier, report)

    service = CatalogSync(
        runtime.session_factory, runtime.settings.sync, connect or store_connector(runtime)
    )
    return await service.run(source_id, full=full, progress=progress, announce=announce)


async def due_syncs(runtime: Runtime, now: datetime) -> list[tuple[int, bool]]:
    """The stores to sync now, each with whether its run reads every item."""
    async with runtime.session_factory() as session:
        return await SyncSources(session).due(now, runtime.settings.sync)
