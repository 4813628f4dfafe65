"""Beat jobs of conversations: the bot takes back those the staff left silent for
HUMAN_TAKEOVER_MINUTES (and tells the customers), and the log is kept only for
MESSAGE_RETENTION_DAYS. `now` is given, so tests choose the time."""

from __future__ import annotations

from datetime import datetime, timedelta

from souk.handoff import takeover_service
from souk.logs import get_logger
from souk.runtime import Runtime
from souk.services.message_log import MessageLogService

log = get_logger("souk.workers")


async def resume_silent_conversations(runtime: Runtime, now: datetime) -> int:
    """Give back to the bot the conversations whose human mode ran out; how many."""
    async with runtime.session_factory() as session, session.begin():
        takeover = takeover_service(
            session, runtime.settings, runtime.outbox, runtime.i18n, now=lambda: now
        )
        resumed = await takeover.resume_due()
    if resumed:
        log.info("conversations resumed by the bot", count=len(resumed))
    return len(resumed)


async def purge_message_log(runtime: Runtime, now: datetime) -> int:
    """Delete logged messages older than MESSAGE_RETENTION_DAYS, a batch per transaction."""
    retention = timedelta(days=runtime.settings.messages.retention_days)
    total = 0
    while True:
        async with runtime.session_factory() as session, session.begin():
            deleted = await MessageLogService(session).purge(now, retention)
        total += deleted
        if not deleted:
            break
    if total:
        log.info("message log purged", count=total)
    return total
