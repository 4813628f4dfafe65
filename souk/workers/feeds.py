"""Beat job of the marketplace price feeds: regenerate the feeds whose offers changed,
publish those that pass, and tell the staff (once) about one that is refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Shop
from souk.notify import StaffNotifier
from souk.pushes import push_feed_refused
from souk.runtime import Runtime
from souk.services.feeds import FeedOutcome, FeedPublisher


async def refresh_feeds(runtime: Runtime, now: datetime) -> list[FeedOutcome]:
    """An attempt at every enabled feed at `now`; returns what each did."""

    async def refused(session: AsyncSession, outcome: FeedOutcome) -> None:
        notifier = StaffNotifier(session, runtime.outbox(session), runtime.i18n)
        await push_feed_refused(notifier, outcome, await session.get_one(Shop, outcome.shop_id))

    publisher = FeedPublisher(runtime.session_factory, runtime.settings.feed)
    return await publisher.refresh_all(now, refused)
