"""The Celery application: Redis broker, RedBeat schedule, souk's tasks.

Tasks are thin: each runs an async service on the worker process's own event loop
(see `souk.workers.context`). Nothing here opens a connection at import time.
"""

from __future__ import annotations

from datetime import timedelta

from celery import Celery

from souk.config import Settings
from souk.embedded import ServiceURLs

DELIVER_TASK = "souk.outbox.deliver"
SWEEP_TASK = "souk.outbox.sweep"
PURGE_TASK = "souk.inbox.purge"
EMBED_TASK = "souk.embeddings.refresh"
REMIND_TASK = "souk.carts.remind"
EXPIRE_TASK = "souk.orders.expire_unpaid"
REPORT_TASK = "souk.reports.send"
DIGEST_TASK = "souk.reports.digest"
SCHEDULE_TASK = "souk.schedules.run"
CAMPAIGN_TASK = "souk.campaigns.advance"
RESUME_TASK = "souk.conversations.resume"
LOG_PURGE_TASK = "souk.conversations.purge_log"


def broker_url(redis_url: str) -> str:
    """Kombu spells a unix-socket Redis as redis+socket://PATH?virtual_host=DB."""
    if redis_url.startswith("unix://"):
        path, _, query = redis_url.removeprefix("unix://").partition("?")
        db = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("db", "0")
        return f"redis+socket://{path}?virtual_host={db}"
    return redis_url


def create_celery(settings: Settings, urls: ServiceURLs) -> Celery:
    """The Celery app of this deployment; `urls` travel in its config to forked workers."""
    app = Celery("souk", broker=broker_url(urls.redis_url), include=["souk.workers.tasks"])
    app.conf.update(
        souk_urls=urls,
        souk_settings=settings,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_scheduler="redbeat.RedBeatScheduler",
        redbeat_redis_url=urls.redis_url,
        redbeat_key_prefix="souk:redbeat:",
        beat_max_loop_interval=max(1.0, settings.outbox.sweep_seconds),
        beat_schedule={
            "outbox-sweep": {
                "task": SWEEP_TASK,
                "schedule": timedelta(seconds=settings.outbox.sweep_seconds),
                "options": {"expires": settings.outbox.sweep_seconds * 5},
            },
            "inbox-purge": {"task": PURGE_TASK, "schedule": timedelta(hours=1)},
            "embeddings-refresh": {
                "task": EMBED_TASK,
                "schedule": timedelta(seconds=settings.ai.embeddings_refresh_seconds),
                "options": {"expires": settings.ai.embeddings_refresh_seconds},
            },
            "takeover-resume": {
                "task": RESUME_TASK,
                "schedule": timedelta(seconds=settings.takeover.check_seconds),
                "options": {"expires": settings.takeover.check_seconds},
            },
            "message-log-purge": {"task": LOG_PURGE_TASK, "schedule": timedelta(hours=1)},
            "cart-reminders": {
                "task": REMIND_TASK,
                "schedule": timedelta(seconds=settings.cart.reminder_check_seconds),
                "options": {"expires": settings.cart.reminder_check_seconds},
            },
            "daily-digest": {
                "task": DIGEST_TASK,
                "schedule": timedelta(minutes=10),
                "options": {"expires": 600},
            },
            "price-schedules": {
                "task": SCHEDULE_TASK,
                "schedule": timedelta(seconds=settings.schedules.check_seconds),
                "options": {"expires": settings.schedules.check_seconds},
            },
            "campaigns": {
                "task": CAMPAIGN_TASK,
                "schedule": timedelta(seconds=settings.campaign.tick_seconds),
                "options": {"expires": settings.campaign.tick_seconds},
            },
            "unpaid-orders": {
                "task": EXPIRE_TASK,
                "schedule": timedelta(minutes=1),
                "options": {"expires": 60},
            },
        },
    )
    return app
