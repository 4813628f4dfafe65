"""Celery tasks: thin wrappers that run async services on the worker's loop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import Task, shared_task

from souk.db.models import DecisionStatus
from souk.logs import get_logger
from souk.runtime import Runtime
from souk.services.feeds import FeedStatus
from souk.services.inbox import InboxService
from souk.services.outbox import OutboxService
from souk.services.reports import PeriodKind
from souk.services.sync import SyncBusy
from souk.workers.app import (
    CAMPAIGN_TASK,
    COMPETITORS_CHART_TASK,
    DELIVER_TASK,
    DIGEST_TASK,
    EMBED_TASK,
    EXPIRE_TASK,
    FEED_TASK,
    LOG_PURGE_TASK,
    MONITOR_TASK,
    PURGE_TASK,
    REMIND_TASK,
    REPORT_TASK,
    REPRICE_TASK,
    RESUME_TASK,
    SCHEDULE_TASK,
    SWEEP_TASK,
    SYNC_DUE_TASK,
    SYNC_RUN_TASK,
)
from souk.workers.campaigns import advance_campaigns
from souk.workers.context import context_for
from souk.workers.conversations import purge_message_log, resume_silent_conversations
from souk.workers.embeddings import refresh_embeddings as refresh_embeddings_in
from souk.workers.feeds import refresh_feeds
from souk.workers.monitoring import run_monitoring, send_competitors_chart
from souk.workers.reports import send_digests, send_report
from souk.workers.repricing import reprice_in
from souk.workers.schedules import run_price_schedules
from souk.workers.shopping import expire_unpaid_orders, remind_abandoned_carts
from souk.workers.stopping import stopping
from souk.workers.sync import due_syncs, sync_store

log = get_logger("souk.workers")

# A delivery run stops after this long (or after its batch when the worker is stopping,
# see `souk.workers.stopping`) and, if work remains, queues its successor, so one long
# queue never pins a worker process and deploys stay quick.
DELIVERY_TIME_BUDGET = 50.0


@shared_task(name=DELIVER_TASK, bind=True)
def deliver_outbox(self: Task) -> dict[str, int]:  # type: ignore[type-arg]
    """Deliver due pushes until none are left or the time budget is spent."""

    async def work(runtime: Runtime) -> dict[str, int]:
        deliverer = runtime.deliverer()
        report = await deliverer.run(time_budget=DELIVERY_TIME_BUDGET, stop=stopping)
        async with runtime.session_factory() as session:
            more = await OutboxService(session, runtime.settings.outbox).has_due()
        if report.sent or report.failed or report.retried:
            log.info(
                "outbox delivered",
                sent=report.sent,
                retried=report.retried,
                failed=report.failed,
                seconds=round(report.seconds, 2),
                errors=report.errors,
            )
        if more:
            self.app.send_task(DELIVER_TASK)
        return {"sent": report.sent, "retried": report.retried, "failed": report.failed}

    return context_for(self.app).run(work)


@shared_task(name=SWEEP_TASK, bind=True)
def sweep_outbox(self: Task) -> bool:  # type: ignore[type-arg]
    """Beat: start a delivery when pushes are due (retries, missed kicks, dead workers)."""

    async def work(runtime: Runtime) -> bool:
        async with runtime.session_factory() as session:
            return await OutboxService(session, runtime.settings.outbox).has_due()

    due = context_for(self.app).run(work)
    if due:
        self.app.send_task(DELIVER_TASK)
    return due


@shared_task(name=PURGE_TASK, bind=True)
def purge_inbox(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: forget processed updates past retention."""

    async def work(runtime: Runtime) -> int:
        async with runtime.session_factory() as session, session.begin():
            days = runtime.settings.inbox.retention_days
            return await InboxService.purge(session, older_than=timedelta(days=days))

    return context_for(self.app).run(work)


# One embedding run stays short for the same reason as a delivery run.
EMBEDDING_TIME_BUDGET = 50.0


@shared_task(name=EMBED_TASK, bind=True)
def refresh_embeddings(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: embed FAQ entries saved without an embedding and products whose content
    changed, batch by batch (never on a request); returns how many products."""
    entries, products = context_for(self.app).run(
        lambda runtime: refresh_embeddings_in(
            runtime, budget_seconds=EMBEDDING_TIME_BUDGET, stop=stopping
        )
    )
    if entries or products:
        log.info("embeddings refreshed", faq_entries=entries, products=products)
    return products


@shared_task(name=REMIND_TASK, bind=True)
def remind_carts(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: remind customers of carts they left (outside the shops' quiet hours)."""
    return context_for(self.app).run(lambda runtime: remind_abandoned_carts(runtime, _now()))


@shared_task(name=RESUME_TASK, bind=True)
def resume_conversations(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: the bot answers again customers the staff left silent for long enough."""
    return context_for(self.app).run(lambda runtime: resume_silent_conversations(runtime, _now()))


@shared_task(name=LOG_PURGE_TASK, bind=True)
def purge_conversation_log(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: delete logged messages older than MESSAGE_RETENTION_DAYS."""
    return context_for(self.app).run(lambda runtime: purge_message_log(runtime, _now()))


@shared_task(name=EXPIRE_TASK, bind=True)
def expire_unpaid(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: release the stock of orders whose online payment did not come in time."""
    return context_for(self.app).run(lambda runtime: expire_unpaid_orders(runtime, _now()))


@shared_task(name=SCHEDULE_TASK, bind=True)
def run_schedules(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: apply and revert the scheduled price and stock changes that are due."""
    return context_for(self.app).run(lambda runtime: run_price_schedules(runtime, _now()))


@shared_task(name=REPORT_TASK, bind=True)
def report(
    self: Task,  # type: ignore[type-arg]
    *,
    shop_id: int,
    bot_id: int,
    chat_id: int,
    kind: str,
    language: str,
) -> bool:
    """A sales report asked for by a staff member (/report), with its chart."""
    return context_for(self.app).run(
        lambda runtime: send_report(
            runtime,
            shop_id=shop_id,
            bot_id=bot_id,
            chat_id=chat_id,
            kind=PeriodKind(kind),
            language=language,
            now=_now(),
        )
    )


@shared_task(name=DIGEST_TASK, bind=True)
def daily_digest(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: yesterday's report to the owners of shops whose digest hour it is."""
    return context_for(self.app).run(lambda runtime: send_digests(runtime, _now()))


@shared_task(name=CAMPAIGN_TASK, bind=True)
def advance(self: Task, campaign_id: int | None = None) -> int:  # type: ignore[type-arg]
    """Beat, and Send of a campaign: queue the next batches of the campaigns being sent,
    settle the finished ones, refresh their live figures; then start a delivery."""
    queued = context_for(self.app).run(
        lambda runtime: advance_campaigns(runtime, _now(), campaign_id=campaign_id)
    )
    if queued:
        self.app.send_task(DELIVER_TASK)
    return queued


@shared_task(name=REPRICE_TASK, bind=True)
def reprice(self: Task, *, shop_id: int, product_ids: list[int]) -> int:  # type: ignore[type-arg]
    """Monitoring, after each stored pass: run the repricing rules of the products whose
    competitors changed; then start a delivery of the pushes to staff it queued."""
    decisions = context_for(self.app).run(
        lambda runtime: reprice_in(runtime, shop_id, product_ids, clock=_now)
    )
    told = (DecisionStatus.APPLIED, DecisionStatus.PENDING)
    if any(decision.status in told for decision in decisions):
        self.app.send_task(DELIVER_TASK)
    return len(decisions)


@shared_task(name=FEED_TASK, bind=True)
def refresh_kaspi_feeds(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: regenerate and publish the marketplace feeds whose offers changed (changes
    between two ticks make one regeneration); returns how many were published."""
    outcomes = context_for(self.app).run(lambda runtime: refresh_feeds(runtime, _now()))
    return sum(outcome.status is FeedStatus.PUBLISHED for outcome in outcomes)


@shared_task(name=MONITOR_TASK, bind=True)
def monitor_competitors(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: check the competitor offers that are due; tell staff what changed, and queue
    the repricing of the products whose competitors changed, pass by pass."""

    async def queue_repricing(shop_id: int, product_ids: set[int]) -> None:
        self.app.send_task(
            REPRICE_TASK, kwargs={"shop_id": shop_id, "product_ids": sorted(product_ids)}
        )

    report = context_for(self.app).run(
        lambda runtime: run_monitoring(runtime, _now, queue_repricing, stopping)
    )
    if report.changed:
        self.app.send_task(DELIVER_TASK)
    return report.checked


@shared_task(name=COMPETITORS_CHART_TASK, bind=True)
def competitors_chart(
    self: Task,  # type: ignore[type-arg]
    *,
    shop_id: int,
    product_id: int,
    bot_id: int,
    chat_id: int,
    language: str,
) -> bool:
    """The price-history chart asked for by /competitors."""
    return context_for(self.app).run(
        lambda runtime: send_competitors_chart(
            runtime,
            shop_id=shop_id,
            product_id=product_id,
            bot_id=bot_id,
            chat_id=chat_id,
            language=language,
            now=_now(),
        )
    )


@shared_task(name=SYNC_DUE_TASK, bind=True)
def start_due_syncs(self: Task) -> int:  # type: ignore[type-arg]
    """Beat: start a run of each store whose interval has passed (one task each)."""
    due = context_for(self.app).run(lambda runtime: due_syncs(runtime, _now()))
    for source_id, full in due:
        self.app.send_task(SYNC_RUN_TASK, kwargs={"source_id": source_id, "full": full})
    return len(due)


@shared_task(name=SYNC_RUN_TASK, bind=True)
def sync_catalog(self: Task, *, source_id: int, full: bool = False) -> bool:  # type: ignore[type-arg]
    """One sync run of one store; False when it failed (the next run resumes it) or
    another run holds the store."""

    async def work(runtime: Runtime) -> bool:
        try:
            report = await sync_store(runtime, source_id, full=full)
        except SyncBusy:
            log.info("sync skipped: another run holds the store", source=source_id)
            return False
        if report.needs_staff:
            self.app.send_task(DELIVER_TASK)
        return report.error is None

    return context_for(self.app).run(work)


def _now() -> datetime:
    return datetime.now(UTC)
