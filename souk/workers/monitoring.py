"""Competitor monitoring in workers: beat's run over the offers due for a check (changes
handed to `souk.competition_events`, then, once stored, to the repricer), and the
price-history chart of /competitors, drawn here because the chart library stays out of
web processes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.charts import price_history_chart
from souk.competition_events import on_competition_changed
from souk.connectors.fetch import PageFetcher
from souk.db.models import Product
from souk.notify import StaffNotifier
from souk.runtime import Runtime
from souk.services.competition_changes import PictureChange
from souk.services.competition_table import HISTORY_DAYS, price_history
from souk.services.monitoring import MonitorService, OnChanged, OnCommitted, RunReport
from souk.services.offer_checks import OfferChecker
from souk.workers.repricing import reprice_in


def announcer(runtime: Runtime) -> OnChanged:
    """What a monitoring pass calls with each shop's changes: `on_competition_changed`."""

    async def changed(
        session: AsyncSession, shop_id: int, changes: Sequence[PictureChange]
    ) -> None:
        notifier = StaffNotifier(session, runtime.outbox(session), runtime.i18n)
        await on_competition_changed(session, notifier, runtime.settings, shop_id, changes)

    return changed


def repricer(runtime: Runtime, now: Callable[[], datetime]) -> OnCommitted:
    """The repricing rules of the products whose competitor picture changed, run here and
    now (their staff pushes queued in the outbox): what the repricing task does with the
    products a monitoring pass hands it, and what tests and the bench call directly."""

    async def reprice(shop_id: int, product_ids: set[int]) -> None:
        await reprice_in(runtime, shop_id, sorted(product_ids), clock=now)

    return reprice


def monitor_service(
    runtime: Runtime,
    fetcher: PageFetcher,
    now: Callable[[], datetime],
    reprice: OnCommitted,
) -> MonitorService:
    """Monitoring as a worker runs it; `reprice` gets each pass's changed products once
    the pass is stored (the worker queues them for the repricing task, so a pass of many
    changes does not hold up the checks)."""
    return MonitorService(
        runtime.session_factory,
        runtime.settings.monitor,
        OfferChecker(fetcher, runtime.settings.monitor),
        announcer(runtime),
        now=now,
        on_committed=reprice,
    )


# One run at a time across worker processes: each process paces hosts and keeps breakers
# in its own fetcher, so two overlapping runs would give a host twice its slots.
RUN_LOCK = "souk:monitor:run"


async def run_monitoring(
    runtime: Runtime,
    now: Callable[[], datetime],
    reprice: OnCommitted,
    stop: Callable[[], bool] | None = None,
) -> RunReport:
    """Check the offers due (beat) with the process's fetcher, unless a run is under way
    in another process, until `stop()` if given; see `MonitorService`."""
    settings = runtime.settings.monitor
    # Held at most as long as the claims of a run that died: then both lapse together.
    lock = runtime.redis.lock(RUN_LOCK, timeout=settings.run_seconds + settings.claim_seconds)
    if not await lock.acquire(blocking=False):
        return RunReport()
    try:
        return await monitor_service(runtime, runtime.page_fetcher(), now, reprice).run(stop=stop)
    finally:
        await lock.release()


async def send_competitors_chart(
    runtime: Runtime,
    *,
    shop_id: int,
    product_id: int,
    bot_id: int,
    chat_id: int,
    language: str,
    now: datetime,
) -> bool:
    """The product's competitor prices over the last days as a PNG; False when there is
    nothing to draw or the bot is gone."""
    entry = await runtime.registry.get(bot_id)
    if entry is None:
        return False
    async with runtime.session_factory() as session:
        product = await session.get(Product, product_id)
        if product is None or product.shop_id != shop_id:
            return False
        series = await price_history(session, shop_id, product_id, since=now - HISTORY_DAYS)
    if not series:
        return False
    with runtime.i18n.context(), runtime.i18n.use_locale(language):
        chart = price_history_chart(
            series,
            ours=product.price,
            ours_label=_("Our price"),
            title=_("Competitor prices of {sku}").format(sku=product.sku),
        )
    await entry.bot.send_photo(chat_id, BufferedInputFile(chart, filename="competitors.png"))
    return True
