"""`souk sync --shop SLUG`: every store of the shop synced now, one after another, each
with a progress bar, then what each run did (and its conflicts) printed."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, TaskID

from souk.config import Settings
from souk.embedded import ServiceURLs
from souk.errors import NotFoundError
from souk.runtime import Runtime
from souk.services.shops import ShopService
from souk.services.sync_report import SyncReport
from souk.services.sync_sources import SyncSources
from souk.sync_texts import sync_report_text
from souk.workers.sync import sync_store


def counts_line(report: SyncReport) -> str:
    return (
        f"{report.kind.value} {report.store}: {report.read} read "
        f"({'every item' if report.full else 'updated since the last run'}"
        f"{', resumed' if report.resumed else ''}): {report.created} new, "
        f"{report.updated} changed, {report.unchanged} unchanged; from the store "
        f"{report.prices_in} prices and {report.stock_in} stocks, to the store "
        f"{report.prices_out} prices and {report.stock_out} stocks; "
        f"{len(report.conflicts)} conflicts"
    )


async def run_shop_syncs(
    settings: Settings, urls: ServiceURLs, slug: str, *, full: bool, console: Console
) -> bool:
    """Sync each store of the shop; True if any run failed."""
    runtime = Runtime.create(settings, urls, handle_updates=False, pool_size=2)
    try:
        async with runtime.session_factory() as session:
            shop = await ShopService(session).get_by_slug(slug)
            sources = await SyncSources(session).of_shop(shop.id)
        if not sources:
            raise NotFoundError(f"{slug} has no store to sync with: connect one (souk sync add)")
        reports: list[SyncReport] = []
        with Progress(console=console) as bars:
            for source in sources:
                bar = bars.add_task(f"{source.kind.value} {source.base_url}", total=None)

                def advance(done: int, total: int | None, bar: TaskID = bar) -> None:
                    if total is not None:
                        bars.update(bar, total=total)
                    bars.advance(bar, done)

                reports.append(await sync_store(runtime, source.id, full=full, progress=advance))
        with runtime.i18n.context(), runtime.i18n.use_locale("en"):
            for report in reports:
                console.print(counts_line(report), markup=False)
                if report.needs_staff:
                    console.print(sync_report_text(report), markup=False)
        return any(report.error for report in reports)
    finally:
        await runtime.close()
