"""THE place where a change of competitors' prices is acted on.

`on_competition_changed` is called once per shop with the products whose competitor
picture changed (a monitoring pass, a /watch, a price file), inside the transaction that
stored the change: what it queues or writes commits with the observations or not at all.
It tells the staff (one push per event, keyed by the observation that caused it). The
repricer runs in a worker once the change is committed: the repricing task queued per
monitoring pass (`souk.workers.monitoring`), or by /watch and price files
(`Jobs.reprice_after_commit`).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from souk.competition_texts import event_text
from souk.config import Settings
from souk.notify import StaffNotifier
from souk.services.competition_changes import CompetitionEvent, PictureChange, events


async def on_competition_changed(
    session: AsyncSession,
    notifier: StaffNotifier,
    settings: Settings,
    shop_id: int,
    changes: Sequence[PictureChange],
) -> int:
    """Act on one shop's changed competitor pictures; how many pushes were queued."""
    queued = 0
    for change in changes:
        for event in events(change):
            queued += await _push(notifier, shop_id, event)
    return queued


async def _push(notifier: StaffNotifier, shop_id: int, event: CompetitionEvent) -> int:
    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return event_text(event, language), None

    return await notifier.send(shop_id, render, kind="competition", key=event.key)
