"""The marketplace price feeds from beat and from `souk feed publish`: regenerate, publish
what passes, and tell the staff (once per streak of refusals) about one that is refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Shop
from souk.notify import StaffNotifier
from souk.pushes import push_feed_refused
from souk.runtime import Runtime
from souk.services.feeds import FeedOutcome, FeedPublisher, OnRefused


def _announcer(runtime: Runtime) -> OnRefused:
    async def refused(session: AsyncSession, outcome: FeedOutcome) -> None:
        notifier = StaffNotifier(session, runtime.outbox(session), runtime.i18n)
        await push_feed_refused(notifier, outcome, await session.get_one(Shop, outcome.shop_id))

    return refused


async def refresh_feeds(runtime: Runtime, now: datetime) -> list[FeedOutcome]:
    """Beat: an attempt at every enabled feed at `now` (regenerated only if what it offers
    changed); returns what each did."""
    publisher = FeedPublisher(runtime.session_factory, runtime.settings.feed)
    return await publisher.refresh_all(now, _announcer(runtime))


async def publish_feed(
    runtime: Runtime, shop_id: int, now: datetime, *, allow_shrink: bool
) -> FeedOutcome:
    """Staff: regenerate the shop's feed now and publish it if it passes (`allow_shrink`:
    also when it shrank sharply)."""
    publisher = FeedPublisher(runtime.session_factory, runtime.settings.feed)
    return await publisher.refresh(
        shop_id, now, regenerate=True, allow_shrink=allow_shrink, on_refused=_announcer(runtime)
    )
