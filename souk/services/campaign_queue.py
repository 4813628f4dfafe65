"""Hands sending campaigns to the outbox, one batch per transaction, and settles them.

A batch locks the campaign's row, takes its next pending recipients in customer order,
checks right then that each has not opted out or blocked the bot, queues their pushes at
bulk priority and marks them queued with their outbox row, all in the caller's one
transaction: a worker killed mid-way leaves its batch as it was, and the next run starts
exactly there (the pushes' idempotency keys name campaign and customer, so nobody is
queued twice). No more is queued while `max_ahead` pushes of the campaign still wait in
the outbox, so a large campaign follows the delivery rate instead of filling the queue.

WhatsApp customers get the campaign as a message while their 24-hour window is open
(they wrote within 24 hours, less CAMPAIGN_WHATSAPP_WINDOW_MARGIN_MINUTES so it is still
open when the push is delivered); outside it, as the approved template
WHATSAPP_TEMPLATES["campaign"] (sent as one at once: no message tried first), or, with
no such template, not at all: they are skipped and counted apart
(`Campaign.skipped_no_template`), so staff see why.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import CampaignSettings
from souk.db.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    ChannelKind,
    Customer,
    OutboxMessage,
    OutboxPriority,
    OutboxStatus,
    RecipientState,
    Shop,
    ShopChannel,
)
from souk.services.campaigns import CampaignContent
from souk.services.outbox import TEMPLATE_KEY, OutboxService, Push
from souk.services.shops import shop_bot

# WhatsApp's customer service window: a business may message a customer freely for this
# long after the customer's last message, and only with approved templates after.
WHATSAPP_WINDOW = timedelta(hours=24)

# The message in one language: the platform method and its parameters but the chat.
Render = Callable[[CampaignContent, str], tuple[str, dict[str, object]]]


class BatchResult(enum.StrEnum):
    QUEUED = "queued"  # a batch went to the outbox
    AHEAD = "ahead"  # enough of the campaign waits in the outbox: more later
    ALL_QUEUED = "all_queued"  # nobody is pending: only delivery is left
    NOT_SENDING = "not_sending"  # done, stopped, or gone


@dataclass(frozen=True)
class Batch:
    result: BatchResult
    queued: int = 0
    skipped: int = 0  # every one skipped, those below included
    skipped_no_template: int = 0  # WhatsApp customers outside the window, no template set


# A pending recipient: customer id, channel, external id, language, still reachable, and
# when they last wrote.
Recipient = Row[int, ChannelKind, str, str, bool, datetime | None]


@dataclass(frozen=True)
class ShopSenders:
    """Through what a shop's campaign reaches its customers, and their default language."""

    bot: str | None  # the Telegram bot id
    number: str | None  # the WhatsApp phone_number_id
    language: str


@dataclass
class _Sorted:
    """One batch's recipients: their pushes, and who is skipped."""

    pushes: dict[int, Push]
    skipped: list[int]
    no_template: int = 0


class CampaignQueue:
    """The sender's side of campaigns (any shop)."""

    def __init__(
        self,
        session: AsyncSession,
        settings: CampaignSettings,
        outbox: OutboxService,
        *,
        whatsapp_template: str | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._outbox = outbox
        self._template = whatsapp_template

    async def sending(self) -> list[int]:
        """Every campaign being sent, oldest first."""
        return list(
            await self._session.scalars(
                select(Campaign.id)
                .where(Campaign.status == CampaignStatus.SENDING)
                .order_by(Campaign.id)
            )
        )

    async def _sending(self, campaign_id: int) -> Campaign | None:
        campaign = await self._session.scalar(
            select(Campaign).where(Campaign.id == campaign_id).with_for_update()
        )
        if campaign is None or campaign.status is not CampaignStatus.SENDING:
            return None
        return campaign

    async def outstanding(self, campaign_id: int) -> int:
        """Pushes of the campaign in the outbox that are not delivered or given up yet."""
        return int(
            await self._session.scalar(
                select(func.count())
                .select_from(CampaignRecipient)
                .join(OutboxMessage, OutboxMessage.id == CampaignRecipient.outbox_id)
                .where(
                    CampaignRecipient.campaign_id == campaign_id,
                    CampaignRecipient.state == RecipientState.QUEUED,
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                )
            )
            or 0
        )

    async def _senders(self, shop_id: int) -> ShopSenders:
        number = (
            select(ShopChannel.external_id)
            .where(
                ShopChannel.shop_id == shop_id,
                ShopChannel.kind == ChannelKind.WHATSAPP,
                ShopChannel.is_active.is_(True),
            )
            .order_by(ShopChannel.id)
            .limit(1)
            .scalar_subquery()
        )
        row = (
            await self._session.execute(
                select(shop_bot(shop_id), number, Shop.default_language).where(Shop.id == shop_id)
            )
        ).one()
        return ShopSenders(row[0], row[1], row[2])

    async def enqueue_batch(self, campaign_id: int, render: Render, *, now: datetime) -> Batch:
        """Queue the campaign's next batch of recipients (see the module's docstring)."""
        campaign = await self._sending(campaign_id)
        if campaign is None:
            return Batch(BatchResult.NOT_SENDING)
        room = self._settings.max_ahead - await self.outstanding(campaign_id)
        if room <= 0:
            return Batch(BatchResult.AHEAD)
        rows = (
            await self._session.execute(
                select(
                    CampaignRecipient.customer_id,
                    Customer.channel,
                    Customer.external_id,
                    func.coalesce(Customer.language, Customer.client_language),
                    Customer.campaigns_opted_out_at.is_(None) & Customer.blocked.is_(False),
                    Customer.last_seen_at,
                )
                .join(Customer, Customer.id == CampaignRecipient.customer_id)
                .where(
                    CampaignRecipient.campaign_id == campaign_id,
                    CampaignRecipient.state == RecipientState.PENDING,
                )
                .order_by(CampaignRecipient.customer_id)
                .limit(min(room, self._settings.batch_size))
            )
        ).all()
        if not rows:
            return Batch(BatchResult.ALL_QUEUED)
        senders = await self._senders(campaign.shop_id)
        batch = self._sort(campaign, rows, senders, render, now)
        await self._settle(campaign, batch)
        return Batch(
            BatchResult.QUEUED,
            queued=len(batch.pushes),
            skipped=len(batch.skipped),
            skipped_no_template=batch.no_template,
        )

    def _sort(
        self,
        campaign: Campaign,
        rows: Sequence[Recipient],
        senders: ShopSenders,
        render: Render,
        now: datetime,
    ) -> _Sorted:
        """Each recipient's push (a message, or the WhatsApp template), or a skip."""
        content = CampaignContent.of(campaign)
        rendered: dict[str, tuple[str, dict[str, object]]] = {}
        # Who wrote since then still has an open window when the push is delivered.
        window_from = (
            now - WHATSAPP_WINDOW + timedelta(minutes=self._settings.whatsapp_window_margin_minutes)
        )
        batch = _Sorted({}, [])
        for customer_id, channel, external_id, language, reachable, last_seen in rows:
            address = self._address(senders, channel, external_id, customer_id)
            if not reachable or address is None:
                batch.skipped.append(customer_id)
                continue
            language = language or senders.language
            if language not in rendered:
                rendered[language] = render(content, language)
            method, payload = rendered[language]
            receiver, chat_id = address
            payload = {**payload, "chat_id": chat_id}
            if channel is ChannelKind.WHATSAPP and (last_seen is None or last_seen < window_from):
                if self._template is None:
                    batch.skipped.append(customer_id)
                    batch.no_template += 1
                    continue
                payload[TEMPLATE_KEY] = self._template
            batch.pushes[customer_id] = Push(
                channel=channel,
                receiver=receiver,
                chat_id=chat_id,
                method=method,
                payload=payload,
                kind="campaign",
                idempotency_key=f"campaign:{campaign.id}:{customer_id}",
                shop_id=campaign.shop_id,
                customer_id=customer_id,
                priority=OutboxPriority.BULK,
            )
        return batch

    @staticmethod
    def _address(
        senders: ShopSenders, channel: ChannelKind, external_id: str, customer_id: int
    ) -> tuple[str, int] | None:
        """The receiver and chat of a customer's push; None if the shop no longer has
        the bot or number they talk to."""
        if channel is ChannelKind.TELEGRAM and senders.bot is not None:
            return senders.bot, int(external_id)
        if channel is ChannelKind.WHATSAPP and senders.number is not None:
            return senders.number, customer_id  # WhatsApp chats are the customer's id
        return None

    async def _settle(self, campaign: Campaign, batch: _Sorted) -> None:
        """Queue the pushes and record, in the same transaction, who is queued or skipped."""
        pushes, skipped = batch.pushes, batch.skipped
        ids = await self._outbox.enqueue_many(list(pushes.values()))
        if pushes:
            await self._session.execute(
                update(CampaignRecipient),
                [
                    {
                        "campaign_id": campaign.id,
                        "customer_id": customer_id,
                        "state": RecipientState.QUEUED,
                        "outbox_id": ids[push.idempotency_key],
                    }
                    for customer_id, push in pushes.items()
                ],
            )
        if skipped:
            await self._session.execute(
                update(CampaignRecipient)
                .where(
                    CampaignRecipient.campaign_id == campaign.id,
                    CampaignRecipient.customer_id.in_(skipped),
                )
                .values(state=RecipientState.SKIPPED)
            )
        campaign.queued += len(pushes)
        campaign.skipped += len(skipped)
        campaign.skipped_no_template += batch.no_template
        await self._session.flush()

    async def finish_if_delivered(self, campaign_id: int, *, now: datetime) -> bool:
        """Mark the campaign done once everyone is queued and every push is settled."""
        campaign = await self._sending(campaign_id)
        if campaign is None:
            return False
        pending = await self._session.scalar(
            select(CampaignRecipient.customer_id)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.state == RecipientState.PENDING,
            )
            .limit(1)
        )
        if pending is not None or await self.outstanding(campaign_id):
            return False
        campaign.status, campaign.finished_at = CampaignStatus.DONE, now
        await self._session.flush()
        return True

    async def stats_turn(self, campaign_id: int, *, now: datetime, force: bool) -> Campaign | None:
        """The campaign if its live figures are due for an edit (at most every
        CAMPAIGN_STATS_SECONDS, or `force`d), marked as shown now; else None."""
        campaign = await self._session.scalar(
            select(Campaign).where(Campaign.id == campaign_id).with_for_update()
        )
        if campaign is None or campaign.stats_message_id is None:
            return None
        due = campaign.stats_at is None or now - campaign.stats_at >= timedelta(
            seconds=self._settings.stats_seconds
        )
        if not (force or (due and campaign.status is CampaignStatus.SENDING)):
            return None
        campaign.stats_at = now
        await self._session.flush()
        return campaign
