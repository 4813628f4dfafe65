"""Wakes the notifier right after pushes are committed, without blocking the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from celery import Celery
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.session import after_commit
from souk.logs import get_logger
from souk.workers.app import (
    CAMPAIGN_TASK,
    COMPETITORS_CHART_TASK,
    DELIVER_TASK,
    REPORT_TASK,
    REPRICE_TASK,
)

log = get_logger("souk.outbox")


class NotifierKick:
    """Queues one delivery task; while one is being queued, further kicks are folded into it.

    Publishing to the broker is a blocking call, so it runs in the default executor.
    A lost kick costs only latency: beat's outbox sweep finds every due push anyway.
    """

    def __init__(self, celery: Celery) -> None:
        self._celery = celery
        self._busy = threading.Lock()

    def __call__(self) -> None:
        if not self._busy.acquire(blocking=False):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._publish()
            return
        loop.run_in_executor(None, self._publish)

    def _publish(self) -> None:
        try:
            self._celery.send_task(DELIVER_TASK)
        except Exception as error:
            log.warning("notifier kick failed; the sweep will deliver", error=type(error).__name__)
        finally:
            self._busy.release()


class Jobs:
    """Work handlers hand to the workers (a report with its chart, a campaign to send, a
    repricing).
    Publishing blocks, so it runs in the default executor; False when the broker could not
    take it."""

    def __init__(self, celery: Celery) -> None:
        self._celery = celery

    def advance_campaign(self, campaign_id: int) -> None:
        """Start sending a campaign now (call it once the campaign is committed); if the
        kick is lost, beat's campaign tick starts it within CAMPAIGN_TICK_SECONDS."""
        self._fire(CAMPAIGN_TASK, {"campaign_id": campaign_id}, "beat will advance it")

    def reprice_after_commit(
        self, session: AsyncSession, shop_id: int, product_ids: Iterable[int]
    ) -> None:
        """Run the repricing rules of these products (their competitors changed: a
        /watch, a price file) once `session` commits what changed; nothing if it rolls
        back. A lost kick waits for the products' next monitoring change."""
        kwargs = {"shop_id": shop_id, "product_ids": sorted(set(product_ids))}
        after_commit(session, lambda: self._fire(REPRICE_TASK, kwargs, "not repriced now"))

    def _fire(self, task: str, kwargs: dict[str, object], if_lost: str) -> None:
        """Publish without waiting (in the default executor, or here outside a loop)."""

        def publish() -> None:
            try:
                self._celery.send_task(task, kwargs=kwargs)
            except Exception as error:
                log.warning("job not queued", task=task, lost=if_lost, error=type(error).__name__)

        try:
            asyncio.get_running_loop().run_in_executor(None, publish)
        except RuntimeError:
            publish()

    async def send_report(
        self, *, shop_id: int, bot_id: int, chat_id: int, kind: str, language: str
    ) -> bool:
        kwargs = {
            "shop_id": shop_id,
            "bot_id": bot_id,
            "chat_id": chat_id,
            "kind": kind,
            "language": language,
        }
        return await self._queue(REPORT_TASK, kwargs)

    async def send_competitors_chart(
        self, *, shop_id: int, product_id: int, bot_id: int, chat_id: int, language: str
    ) -> bool:
        kwargs = {
            "shop_id": shop_id,
            "product_id": product_id,
            "bot_id": bot_id,
            "chat_id": chat_id,
            "language": language,
        }
        return await self._queue(COMPETITORS_CHART_TASK, kwargs)

    async def _queue(self, task: str, kwargs: dict[str, object]) -> bool:
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: self._celery.send_task(task, kwargs=kwargs)
            )
        except Exception as error:
            log.warning("job not queued", task=task, error=type(error).__name__)
            return False
        return True
