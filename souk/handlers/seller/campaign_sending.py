"""A campaign's preview with its buttons (Send, Cancel), and a sending one's (Refresh, Stop).

Send chooses the recipients and turns the preview's control message into the live
figures, which the worker edits as the campaign goes out; one campaign of a shop sends
at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.campaign_texts import segment_text, stats_text
from souk.channels.delivery import TELEGRAM_METHODS
from souk.db.models import CampaignStatus
from souk.db.session import after_commit
from souk.errors import NotFoundError
from souk.handlers.screens import replace_screen
from souk.keyboards.callbacks import CampaignAction, CampaignCD
from souk.keyboards.campaigns import preview_keyboard, stats_keyboard
from souk.pushes import campaign_message
from souk.services.campaign_segments import Segment
from souk.services.campaigns import (
    CampaignBusy,
    CampaignClosed,
    CampaignContent,
    CampaignService,
    CampaignStats,
    EmptySegment,
)
from souk.services.shops import ChannelInfo
from souk.workers.kick import Jobs

router = Router(name=__name__)


async def show_preview(
    bot: Bot,
    session: AsyncSession,
    shop: ChannelInfo,
    author: int,
    segment: Segment,
    content: CampaignContent,
    language: str,
) -> None:
    """Keep the campaign as a draft and show it to its author: the message as customers get
    it (the very method and parameters the outbox will send), then who it goes to with Send
    and Cancel. An empty segment is refused instead."""
    campaigns = CampaignService(session, shop.shop_id)
    described = segment_text(await campaigns.describe(segment), language)
    try:
        campaign, count = await campaigns.draft(
            author=author, segment=segment, content=content, now=datetime.now(UTC)
        )
    except EmptySegment:
        await bot.send_message(
            author,
            _(
                "Nobody is in this segment ({segment}), so there is no one to send to. "
                "/broadcast starts again."
            ).format(segment=described),
        )
        return
    method, payload = campaign_message(content)
    await bot(TELEGRAM_METHODS[method].model_validate({**payload, "chat_id": author}))
    await bot.send_message(
        author,
        _(
            "Above is the message as customers will get it. It goes to {count} customers: "
            "{segment}."
        ).format(count=count, segment=described),
        reply_markup=preview_keyboard(campaign.id, count),
    )


def _action(action: CampaignAction) -> CallbackQueryFilter:
    return CampaignCD.filter(F.action == action)


async def _show_stats(query: CallbackQuery, stats: CampaignStats, language: str) -> None:
    sending = stats.status is CampaignStatus.SENDING
    await replace_screen(
        query, stats_text(stats, language), stats_keyboard(stats.campaign_id, sending=sending)
    )


@router.callback_query(_action(CampaignAction.SEND))
async def send_campaign(
    query: CallbackQuery,
    callback_data: CampaignCD,
    session: AsyncSession,
    shop: ChannelInfo,
    jobs: Jobs,
    i18n: I18n,
) -> None:
    campaigns = CampaignService(session, shop.shop_id)
    message_id = query.message.message_id if isinstance(query.message, Message) else None
    try:
        campaign = await campaigns.start(
            callback_data.campaign_id, now=datetime.now(UTC), stats_message_id=message_id
        )
    except CampaignBusy:
        await query.answer(
            _("Another campaign is being sent, and one goes at a time. /broadcast shows it."),
            show_alert=True,
        )
        return
    except EmptySegment:
        await query.answer()
        await replace_screen(query, _("Nobody is left in this segment; nothing was sent."), None)
        return
    except (CampaignClosed, NotFoundError):
        await query.answer(_("This campaign was already sent or cancelled."), show_alert=True)
        return
    campaign_id = campaign.id
    after_commit(session, lambda: jobs.advance_campaign(campaign_id))
    await query.answer(_("Sending has started."))
    await _show_stats(query, await campaigns.stats(campaign_id), i18n.current_locale)


@router.callback_query(_action(CampaignAction.CANCEL))
async def cancel_campaign(
    query: CallbackQuery, callback_data: CampaignCD, session: AsyncSession, shop: ChannelInfo
) -> None:
    try:
        await CampaignService(session, shop.shop_id).cancel(
            callback_data.campaign_id, now=datetime.now(UTC)
        )
    except (CampaignClosed, NotFoundError):
        await query.answer(_("This campaign was already sent or cancelled."), show_alert=True)
        return
    await query.answer()
    await replace_screen(query, _("The campaign is cancelled; nothing was sent."), None)


@router.callback_query(_action(CampaignAction.REFRESH))
async def refresh_stats(
    query: CallbackQuery,
    callback_data: CampaignCD,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    try:
        stats = await CampaignService(session, shop.shop_id).stats(callback_data.campaign_id)
    except NotFoundError:
        await query.answer(_("This campaign no longer exists."), show_alert=True)
        return
    await query.answer()
    await _show_stats(query, stats, i18n.current_locale)


@router.callback_query(_action(CampaignAction.STOP))
async def stop_campaign(
    query: CallbackQuery,
    callback_data: CampaignCD,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    campaigns = CampaignService(session, shop.shop_id)
    try:
        await campaigns.stop(callback_data.campaign_id, now=datetime.now(UTC))
    except (CampaignClosed, NotFoundError):
        await query.answer(_("This campaign is no longer being sent."), show_alert=True)
        return
    await query.answer(
        _("Stopped: customers whose message was not queued yet will not get it."), show_alert=True
    )
    await _show_stats(query, await campaigns.stats(callback_data.campaign_id), i18n.current_locale)
