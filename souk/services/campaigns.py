"""Campaigns of one shop as staff handle them: the content, drafts, starting, stopping and
the live figures. Recipients are chosen when a campaign is sent (`start`, from its segment:
`campaign_segments`); `CampaignQueue` then hands them to the outbox.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    OutboxMessage,
    OutboxStatus,
    RecipientState,
)
from souk.errors import ConflictError, InvalidInput, NotFoundError, SoukError
from souk.services.campaign_segments import Segment, SegmentView, audience, describe
from souk.services.outbox import BLOCKED_ERROR_PREFIX

BUTTON_LABEL_LIMIT = 64
_URL_LIMIT = 2048
_CAMPAIGN_LOCK = 0xCA3  # with the shop id: starts of a shop's campaigns one at a time


class ButtonKind(enum.StrEnum):
    URL = "url"
    CATALOG = "catalog"


@dataclass(frozen=True)
class CampaignButton:
    """The one button staff may add: a web link, or the shop's catalog."""

    kind: ButtonKind
    label: str = ""
    url: str = ""

    def as_json(self) -> dict[str, object]:
        if self.kind is ButtonKind.CATALOG:
            return {"kind": self.kind.value}
        return {"kind": self.kind.value, "label": self.label, "url": self.url}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CampaignButton:
        return cls(
            ButtonKind(str(data["kind"])),
            label=str(data.get("label", "")),
            url=str(data.get("url", "")),
        )


@dataclass(frozen=True)
class CampaignContent:
    """What customers receive: the text (HTML), a photo (a Telegram file id of the shop's
    bot) and a button."""

    text: str
    photo_file_id: str | None = None
    button: CampaignButton | None = None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignContent:
        button = CampaignButton.from_json(campaign.button) if campaign.button else None
        return cls(campaign.text, campaign.photo_file_id, button)


class ButtonProblem(enum.StrEnum):
    FORMAT = "format"  # not "Label | link"
    LABEL = "label"  # empty or too long
    URL = "url"  # not an http(s) link


class BadButton(InvalidInput):
    def __init__(self, problem: ButtonProblem, value: str = "") -> None:
        super().__init__(f"bad button ({problem}): {value!r}")
        self.problem = problem
        self.value = value


def parse_button(raw: str) -> CampaignButton:
    """'Sale | https://example.com/sale' -> a link button; `BadButton` says what is wrong."""
    label, bar, url = raw.partition("|")
    label, url = label.strip(), url.strip()
    if not bar or not url:
        raise BadButton(ButtonProblem.FORMAT, raw.strip())
    if not label or len(label) > BUTTON_LABEL_LIMIT:
        raise BadButton(ButtonProblem.LABEL, label)
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or any(char.isspace() for char in url)
        or len(url) > _URL_LIMIT
    ):
        raise BadButton(ButtonProblem.URL, url)
    return CampaignButton(ButtonKind.URL, label=label, url=url)


class EmptySegment(SoukError):
    """No customer is in the segment: there is nobody to send to."""


class CampaignBusy(ConflictError):
    """Another campaign of the shop is sending (one at a time)."""

    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"campaign {campaign_id} is sending")
        self.campaign_id = campaign_id


class CampaignClosed(ConflictError):
    """The campaign is no longer in the state the request needs (sent, stopped...)."""


@dataclass(frozen=True)
class CampaignStats:
    """A campaign's figures now: recipients by where their push is."""

    campaign_id: int
    status: CampaignStatus
    segment: SegmentView
    recipients: int
    waiting: int  # not handed to the outbox yet
    queued: int  # in the outbox, not delivered yet
    sent: int
    failed: int
    blocked: int  # the customer had blocked the bot (403)
    skipped: int  # opted out or blocked before their turn (or below)
    skipped_no_template: int  # WhatsApp customers outside their window, no template set
    dropped: int  # not sent: the campaign was stopped


class CampaignService:
    """A shop's campaigns as its staff handle them."""

    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self._session = session
        self._shop_id = shop_id

    async def count(self, segment: Segment, now: datetime) -> int:
        """How many customers the segment holds now."""
        inner = audience(self._shop_id, segment, now).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(inner)) or 0)

    async def draft(
        self, *, author: int, segment: Segment, content: CampaignContent, now: datetime
    ) -> tuple[Campaign, int]:
        """Keep a previewed campaign as a draft; with the count of its segment now.
        `EmptySegment` when there is nobody to send it to."""
        count = await self.count(segment, now)
        if count == 0:
            raise EmptySegment(f"segment {segment} of shop {self._shop_id} is empty")
        campaign = Campaign(
            shop_id=self._shop_id,
            author_telegram_id=author,
            segment=segment.as_json(),
            text=content.text,
            photo_file_id=content.photo_file_id,
            button=content.button.as_json() if content.button else None,
        )
        self._session.add(campaign)
        await self._session.flush()
        return campaign, count

    async def describe(self, segment: Segment) -> SegmentView:
        return await describe(self._session, self._shop_id, segment)

    async def get(self, campaign_id: int, *, lock: bool = False) -> Campaign:
        statement = select(Campaign).where(
            Campaign.id == campaign_id, Campaign.shop_id == self._shop_id
        )
        found = await self._session.scalar(statement.with_for_update() if lock else statement)
        if found is None:
            raise NotFoundError(f"no campaign {campaign_id} in shop {self._shop_id}")
        return found

    async def sending(self) -> Campaign | None:
        """The shop's campaign being sent, if one is."""
        return await self._session.scalar(
            select(Campaign).where(
                Campaign.shop_id == self._shop_id, Campaign.status == CampaignStatus.SENDING
            )
        )

    async def start(
        self, campaign_id: int, *, now: datetime, stats_message_id: int | None
    ) -> Campaign:
        """Send a draft: its recipients are chosen now and it becomes the shop's sending
        campaign. `CampaignClosed` if it is no draft, `CampaignBusy` if another one is
        sending, `EmptySegment` if nobody is left to send to (the draft is then dropped)."""
        await self._session.execute(
            select(func.pg_advisory_xact_lock(_CAMPAIGN_LOCK, self._shop_id))
        )
        campaign = await self.get(campaign_id, lock=True)
        if campaign.status is not CampaignStatus.DRAFT:
            raise CampaignClosed(f"campaign {campaign_id} is {campaign.status}")
        busy = await self.sending()
        if busy is not None:
            raise CampaignBusy(busy.id)
        chosen = audience(self._shop_id, Segment.from_json(campaign.segment), now).add_columns(
            literal(campaign.id)
        )
        inserted = await self._session.execute(
            insert(CampaignRecipient)
            .from_select(["customer_id", "campaign_id"], chosen)
            .returning(CampaignRecipient.customer_id)
        )
        recipients = len(inserted.all())
        if recipients == 0:
            campaign.status, campaign.finished_at = CampaignStatus.CANCELLED, now
            raise EmptySegment(f"campaign {campaign_id} has nobody left to send to")
        campaign.status = CampaignStatus.SENDING
        campaign.recipients = recipients
        campaign.started_at = now
        campaign.stats_message_id = stats_message_id
        campaign.stats_at = now
        await self._session.flush()
        return campaign

    async def cancel(self, campaign_id: int, *, now: datetime) -> Campaign:
        """Drop a draft (`CampaignClosed` if it was sent or dropped already)."""
        campaign = await self.get(campaign_id, lock=True)
        if campaign.status is not CampaignStatus.DRAFT:
            raise CampaignClosed(f"campaign {campaign_id} is {campaign.status}")
        campaign.status, campaign.finished_at = CampaignStatus.CANCELLED, now
        await self._session.flush()
        return campaign

    async def stop(self, campaign_id: int, *, now: datetime) -> Campaign:
        """Stop a sending campaign: recipients not handed to the outbox yet are dropped
        (those already queued may still get it). `CampaignClosed` if it is not sending."""
        campaign = await self.get(campaign_id, lock=True)
        if campaign.status is not CampaignStatus.SENDING:
            raise CampaignClosed(f"campaign {campaign_id} is {campaign.status}")
        dropped = await self._session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.state == RecipientState.PENDING,
            )
            .values(state=RecipientState.DROPPED)
            .returning(CampaignRecipient.customer_id)
        )
        campaign.dropped += len(dropped.all())
        campaign.status, campaign.finished_at = CampaignStatus.CANCELLED, now
        await self._session.flush()
        return campaign

    async def stats(self, campaign_id: int) -> CampaignStats:
        return await campaign_stats(self._session, await self.get(campaign_id))


async def campaign_stats(session: AsyncSession, campaign: Campaign) -> CampaignStats:
    """The campaign's figures, its deliveries counted from the outbox rows of its pushes."""
    failed = OutboxMessage.status == OutboxStatus.FAILED
    blocked = OutboxMessage.last_error.startswith(BLOCKED_ERROR_PREFIX, autoescape=True)
    row = (
        await session.execute(
            select(
                func.count().filter(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
                ),
                func.count().filter(OutboxMessage.status == OutboxStatus.SENT),
                func.count().filter(failed & ~blocked),
                func.count().filter(failed & blocked),
            )
            .select_from(CampaignRecipient)
            .join(OutboxMessage, OutboxMessage.id == CampaignRecipient.outbox_id)
            .where(
                CampaignRecipient.campaign_id == campaign.id,
                CampaignRecipient.state == RecipientState.QUEUED,
            )
        )
    ).one()
    queued, sent, failed_count, blocked_count = (int(value) for value in row)
    return CampaignStats(
        campaign_id=campaign.id,
        status=campaign.status,
        segment=await describe(session, campaign.shop_id, Segment.from_json(campaign.segment)),
        recipients=campaign.recipients,
        waiting=campaign.recipients - campaign.queued - campaign.skipped - campaign.dropped,
        queued=queued,
        sent=sent,
        failed=failed_count,
        blocked=blocked_count,
        skipped=campaign.skipped,
        skipped_no_template=campaign.skipped_no_template,
        dropped=campaign.dropped,
    )
