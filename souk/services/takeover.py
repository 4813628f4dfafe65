"""Human takeover: a person of the shop answers a customer and the bot keeps quiet.

A conversation is in human mode until `human_until`; every staff message to the customer
moves it HUMAN_TAKEOVER_MINUTES on, so the bot comes back after that much silence of
the staff (the beat's `resume_due`) or when staff /release it. Entering human mode
because the customer asked alerts the staff; a staff message entering it does not.
What staff and customers are told is rendered outside services (`souk.handoff`), behind
`TakeoverPushes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import TakeoverSettings
from souk.db.models import ChannelKind, Conversation, ConversationMode, Customer, Order
from souk.errors import NotFoundError
from souk.services.message_log import LoggedMessage, MessageLogService

Now = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Handoff:
    """A customer waiting for a person: what the staff push shows."""

    shop_id: int
    customer_id: int
    conversation_id: int
    customer_name: str
    channel: ChannelKind
    reason: str
    recent: list[LoggedMessage]
    started_at: datetime

    @property
    def key(self) -> str:
        """One staff push per time the conversation enters human mode."""
        return f"handoff:{self.conversation_id}:{self.started_at.timestamp():.0f}"


@dataclass(frozen=True)
class HandoffResult:
    conversation_id: int
    started: bool  # False: it was in human mode already (nothing sent again)
    staff_notified: int  # staff members a push was queued for
    human_until: datetime


@dataclass(frozen=True)
class Resumed:
    """A conversation the bot answers again; the customer is told."""

    shop_id: int
    customer_id: int
    conversation_id: int
    started_at: datetime  # when it left human mode (keys the customer's push)


class TakeoverPushes(Protocol):
    async def handoff(self, handoff: Handoff) -> int:
        """Queue the staff push; how many staff members it was queued for."""

    async def resumed(self, resumed: Resumed) -> bool:
        """Queue the customer's notice that the bot answers again."""


class TakeoverService:
    def __init__(
        self,
        session: AsyncSession,
        settings: TakeoverSettings,
        *,
        pause: timedelta,
        pushes: TakeoverPushes,
        now: Now = utc_now,
    ) -> None:
        self._session = session
        self._settings = settings
        self._pause = pause
        self._pushes = pushes
        self._now = now

    async def _customer(self, shop_id: int, customer_id: int) -> Customer:
        customer = await self._session.scalar(
            select(Customer).where(Customer.id == customer_id, Customer.shop_id == shop_id)
        )
        if customer is None:
            raise NotFoundError(f"no customer {customer_id} in shop {shop_id}")
        return customer

    async def _conversation(self, shop_id: int, customer_id: int) -> Conversation:
        """The customer's conversation, created if new, locked for this transaction."""
        await self._session.execute(
            insert(Conversation)
            .values(shop_id=shop_id, customer_id=customer_id)
            .on_conflict_do_nothing(index_elements=[Conversation.customer_id])
        )
        conversation = await self._session.scalar(
            select(Conversation)
            .where(Conversation.customer_id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert conversation is not None
        return conversation

    async def request_human(self, *, shop_id: int, customer_id: int, reason: str) -> HandoffResult:
        """Put the customer's conversation in human mode and alert the staff with its last
        messages; nothing more while it is in human mode already. NotFoundError for a
        customer of another shop."""
        customer = await self._customer(shop_id, customer_id)
        conversation = await self._conversation(shop_id, customer_id)
        now = self._now()
        # Human mode lasts until the beat or staff end it (and the customer is told so).
        if conversation.mode is ConversationMode.HUMAN and conversation.human_until is not None:
            return HandoffResult(conversation.id, False, 0, conversation.human_until)
        conversation.mode = ConversationMode.HUMAN
        conversation.human_until = now + self._pause
        conversation.staff_telegram_id = None
        await self._session.flush()
        recent = await MessageLogService(self._session).recent(
            conversation.id, self._settings.recent_messages
        )
        handoff = Handoff(
            shop_id=shop_id,
            customer_id=customer_id,
            conversation_id=conversation.id,
            customer_name=customer.name or customer.username or customer.phone or "",
            channel=customer.channel,
            reason=reason,
            recent=recent,
            started_at=now,
        )
        notified = await self._pushes.handoff(handoff)
        return HandoffResult(conversation.id, True, notified, conversation.human_until)

    async def staff_wrote(self, *, shop_id: int, customer_id: int, staff_telegram_id: int) -> None:
        """A staff member wrote to the customer: human mode (again) for another pause,
        answered by them."""
        await self._customer(shop_id, customer_id)
        conversation = await self._conversation(shop_id, customer_id)
        conversation.mode = ConversationMode.HUMAN
        conversation.human_until = self._now() + self._pause
        conversation.staff_telegram_id = staff_telegram_id
        await self._session.flush()

    async def is_human(self, shop_id: int, customer_id: int) -> bool:
        mode = await self._session.scalar(
            select(Conversation.mode).where(
                Conversation.shop_id == shop_id, Conversation.customer_id == customer_id
            )
        )
        return mode is ConversationMode.HUMAN

    async def release(self, *, shop_id: int, customer_id: int) -> bool:
        """Give the conversation back to the bot and tell the customer; False if it was
        not in human mode."""
        released = await self._session.execute(
            update(Conversation)
            .where(
                Conversation.shop_id == shop_id,
                Conversation.customer_id == customer_id,
                Conversation.mode == ConversationMode.HUMAN,
            )
            .values(mode=ConversationMode.BOT, human_until=None, staff_telegram_id=None)
            .returning(Conversation.id)
        )
        conversation_id = released.scalar_one_or_none()
        if conversation_id is None:
            return False
        await self._pushes.resumed(Resumed(shop_id, customer_id, conversation_id, self._now()))
        return True

    async def resume_due(self, *, limit: int = 500) -> list[Resumed]:
        """Give back to the bot every conversation whose staff were silent for the pause,
        telling each customer."""
        now = self._now()
        rows = await self._session.execute(
            update(Conversation)
            .where(
                Conversation.id.in_(
                    select(Conversation.id)
                    .where(
                        Conversation.mode == ConversationMode.HUMAN,
                        Conversation.human_until <= now,
                    )
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
            )
            .values(mode=ConversationMode.BOT, human_until=None, staff_telegram_id=None)
            .returning(Conversation.shop_id, Conversation.customer_id, Conversation.id)
        )
        resumed = [Resumed(shop_id, customer_id, cid, now) for shop_id, customer_id, cid in rows]
        for each in resumed:
            await self._pushes.resumed(each)
        return resumed


_CUSTOMER_REF = re.compile(r"^[Cc](\d{1,18})$")


async def find_customer(session: AsyncSession, shop_id: int, ref: str) -> int | None:
    """The shop's customer `ref` names: "C12" (a customer id, as pushes show it) or an
    order number ("1005", "#1005"); None if the shop has no such customer or order."""
    ref = ref.strip()
    if match := _CUSTOMER_REF.match(ref):
        return await session.scalar(
            select(Customer.id).where(Customer.id == int(match[1]), Customer.shop_id == shop_id)
        )
    number = ref.removeprefix("#")
    if not number:
        return None
    return await session.scalar(
        select(Order.customer_id).where(Order.shop_id == shop_id, Order.number == number)
    )


def asks_for_human(text: str, keywords: Iterable[str]) -> bool:
    """Whether a word of `text` starts with one of `keywords`, ignoring case: inflected
    forms count ("оператора", "operators"), words merely containing one do not."""
    folded = text.casefold()
    return any(re.search(rf"(?<!\w){re.escape(word.casefold())}", folded) for word in keywords)
