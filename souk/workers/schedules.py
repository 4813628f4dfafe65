"""Beat job of scheduled changes: revert what is due, then apply what is due (at one moment
a revert goes first, so a schedule may start when another ends), and tell the staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from souk.logs import get_logger
from souk.notify import StaffNotifier
from souk.pushes import push_schedule_outcome
from souk.runtime import Runtime
from souk.services.schedule_runs import ScheduleOutcome, ScheduleRunner

log = get_logger("souk.workers")


async def run_price_schedules(runtime: Runtime, now: datetime) -> int:
    """Revert and apply the schedules due at `now`; returns how many were run."""

    async def announce(session: AsyncSession, outcome: ScheduleOutcome) -> None:
        notifier = StaffNotifier(session, runtime.outbox(session), runtime.i18n)
        await push_schedule_outcome(notifier, outcome)

    runner = ScheduleRunner(runtime.session_factory)
    reverted = await runner.revert_due(now, announce)
    applied = await runner.apply_due(now, announce)
    if reverted or applied:
        log.info("schedules run", applied=len(applied), reverted=len(reverted))
    return len(reverted) + len(applied)
