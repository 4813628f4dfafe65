"""Texts staff read about a campaign: its segment and its live figures (HTML, translated)."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from souk.db.models import CampaignStatus
from souk.services.campaign_segments import (
    SegmentKind,
    SegmentView,
)
from souk.services.campaigns import (
    CampaignStats,
)


def segment_text(view: SegmentView, language: str) -> str:
    segment = view.segment
    if segment.kind is SegmentKind.CATEGORY:
        return _("customers who bought in “{category}”").format(
            category=escape(view.category_title(language))
        )
    if segment.kind is SegmentKind.INACTIVE:
        return _("customers inactive for {days} days").format(days=segment.days)
    return _("all subscribed customers")


def stats_text(stats: CampaignStats, language: str) -> str:
    segment = segment_text(stats.segment, language)
    if stats.status is CampaignStatus.SENDING:
        head = _("Campaign #{id} is being sent to {count} customers: {segment}.")
    elif stats.status is CampaignStatus.DONE:
        head = _("Campaign #{id} is sent to {count} customers: {segment}.")
    else:
        head = _("Campaign #{id} to {count} customers was stopped: {segment}.")
    lines = [
        head.format(id=stats.campaign_id, count=stats.recipients, segment=segment),
        _("Waiting for their turn: {count}").format(count=stats.waiting),
        _("Queued: {count}").format(count=stats.queued),
        _("Sent: {count}").format(count=stats.sent),
        _("Failed: {count}").format(count=stats.failed),
        _("Blocked the bot: {count}").format(count=stats.blocked),
    ]
    if stats.skipped > stats.skipped_no_template:
        lines.append(
            _("Skipped (unsubscribed or blocked before their turn): {count}").format(
                count=stats.skipped - stats.skipped_no_template
            )
        )
    if stats.skipped_no_template:
        lines.append(
            _(
                "Skipped on WhatsApp (silent for 24 hours, and no campaign template is set "
                "in WHATSAPP_TEMPLATES): {count}"
            ).format(count=stats.skipped_no_template)
        )
    if stats.dropped:
        lines.append(_("Not sent because it was stopped: {count}").format(count=stats.dropped))
    return "\n".join(lines)
