"""Campaigns advanced by workers: the next batches of each sending campaign go to the
outbox (as far as its pace allows, see `CampaignQueue`), campaigns whose pushes are all
settled are marked done, and the author's live figures are edited at most every
CAMPAIGN_STATS_SECONDS. `now` is given, so tests choose the time."""

from __future__ import annotations

from datetime import datetime

from aiogram.exceptions import TelegramAPIError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.campaign_texts import stats_text
from souk.db.models import Campaign, CampaignStatus, Shop, Staff
from souk.keyboards.campaigns import stats_keyboard
from souk.logs import get_logger
from souk.pushes import campaign_message
from souk.runtime import Runtime
from souk.services.campaign_queue import BatchResult, CampaignQueue
from souk.services.campaigns import CampaignContent, CampaignStats, campaign_stats
from souk.services.shops import shop_bot

log = get_logger("souk.campaigns")


async def advance_campaigns(
    runtime: Runtime, now: datetime, *, campaign_id: int | None = None
) -> int:
    """Advance one campaign (just sent) or every sending one (beat); returns how many
    pushes were queued."""
    ids = [campaign_id] if campaign_id is not None else []
    if campaign_id is None:
        async with runtime.session_factory() as session:
            ids = await _queue(runtime, session).sending()
    queued = 0
    for each in ids:
        queued += await advance_campaign(runtime, each, now)
    return queued


def _queue(runtime: Runtime, session: AsyncSession) -> CampaignQueue:
    return CampaignQueue(
        session,
        runtime.settings.campaign,
        runtime.outbox(session),
        whatsapp_template=runtime.settings.whatsapp.templates.get("campaign"),
    )


async def advance_campaign(runtime: Runtime, campaign_id: int, now: datetime) -> int:
    """Queue batches of the campaign until it is paced or everyone is queued (one
    transaction each), then settle it and show its figures if they are due."""

    def render(content: CampaignContent, language: str) -> tuple[str, dict[str, object]]:
        with runtime.i18n.context(), runtime.i18n.use_locale(language):
            return campaign_message(content)

    queued = 0
    while True:
        async with runtime.session_factory() as session, session.begin():
            batch = await _queue(runtime, session).enqueue_batch(campaign_id, render, now=now)
        queued += batch.queued
        if batch.result is not BatchResult.QUEUED:
            break
    async with runtime.session_factory() as session, session.begin():
        queue = _queue(runtime, session)
        finished = await queue.finish_if_delivered(campaign_id, now=now)
        campaign = await queue.stats_turn(campaign_id, now=now, force=finished)
        stats = await campaign_stats(session, campaign) if campaign is not None else None
    if queued:
        log.info("campaign pushes queued", campaign_id=campaign_id, count=queued)
    if finished:
        log.info("campaign sent", campaign_id=campaign_id)
    if campaign is not None and stats is not None:
        await show_stats(runtime, campaign, stats)
    return queued


async def show_stats(runtime: Runtime, campaign: Campaign, stats: CampaignStats) -> None:
    """Edit the author's figures message, in their language (a failure is only logged:
    the figures are shown again at the next turn, and Refresh shows them any time)."""
    async with runtime.session_factory() as session:
        row = (
            await session.execute(
                select(shop_bot(campaign.shop_id), Staff.language, Shop.default_language)
                .select_from(Shop)
                .outerjoin(
                    Staff,
                    (Staff.shop_id == Shop.id)
                    & (Staff.telegram_user_id == campaign.author_telegram_id),
                )
                .where(Shop.id == campaign.shop_id)
            )
        ).one()
    entry = await runtime.registry.get(int(row[0])) if row[0] is not None else None
    if entry is None or campaign.stats_message_id is None:
        return
    language = row[1] or row[2]
    with runtime.i18n.context(), runtime.i18n.use_locale(language):
        text = stats_text(stats, language)
        keyboard = stats_keyboard(campaign.id, sending=stats.status is CampaignStatus.SENDING)
    try:
        await entry.bot.edit_message_text(
            text,
            chat_id=campaign.author_telegram_id,
            message_id=campaign.stats_message_id,
            reply_markup=keyboard,
        )
    except TelegramAPIError as error:  # not modified, deleted by its author, blocked...
        log.info("campaign figures not shown", campaign_id=campaign.id, error=str(error)[:200])
