"""TakeoverService against real Postgres and the outbox: the staff push with the last
messages, idempotence, staff messages, release and the silence timeout (injected clock),
and shops kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import (
    ChannelKind,
    Conversation,
    ConversationMode,
    Customer,
    Direction,
    MessageLog,
    OutboxMessage,
    StaffRole,
)
from souk.errors import NotFoundError
from souk.handoff import takeover_service
from souk.runtime import Runtime
from souk.services.takeover import asks_for_human
from tests.conftest import MakeShop

STAFF = 730001


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


async def _customer(session: AsyncSession, shop_id: int, name: str = "Amal") -> int:
    customer = Customer(
        shop_id=shop_id,
        channel=ChannelKind.TELEGRAM,
        external_id=str(abs(hash(name)) % 10**9),
        name=name,
    )
    session.add(customer)
    await session.flush()
    return customer.id


async def _pushes(session: AsyncSession, shop_id: int, kind: str) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.shop_id == shop_id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
    )


async def test_request_human_alerts_staff_once_with_the_last_messages(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], runtime: Runtime
) -> None:
    shop = await make_shop(staff={STAFF: StaffRole.OWNER})
    clock = Clock()
    async with session_factory() as session, session.begin():
        customer_id = await _customer(session, shop.shop_id)
        takeover = takeover_service(
            session, runtime.settings, runtime.outbox, runtime.i18n, now=clock
        )
        conversation = Conversation(shop_id=shop.shop_id, customer_id=customer_id)
        session.add(conversation)
        await session.flush()
        for direction, text in [
            (Direction.IN, "is the <b>kettle</b> in stock?"),
            (Direction.OUT, "Yes, 8 left."),
        ]:
            session.add(
                MessageLog(
                    shop_id=shop.shop_id,
                    conversation_id=conversation.id,
                    channel=ChannelKind.TELEGRAM,
                    direction=direction,
                    kind="text",
                    body=text,
                )
            )
        first = await takeover.request_human(
            shop_id=shop.shop_id, customer_id=customer_id, reason="wants a discount"
        )
        again = await takeover.request_human(
            shop_id=shop.shop_id, customer_id=customer_id, reason="again"
        )
        assert first.started and first.staff_notified == 1
        assert first.human_until == clock.at + timedelta(minutes=30)
        assert not again.started and again.staff_notified == 0
        assert again.conversation_id == first.conversation_id
        (push,) = await _pushes(session, shop.shop_id, "handoff")
        assert push.chat_id == STAFF
        text = str(push.payload["text"])
        assert f"Amal (C{customer_id}, telegram)" in text
        assert "wants a discount" in text
        assert "is the &lt;b&gt;kettle&lt;/b&gt; in stock?" in text and "Yes, 8 left." in text
        buttons = push.payload["reply_markup"]["inline_keyboard"][0]  # type: ignore[index]
        assert [b["callback_data"] for b in buttons] == [
            f"human:reply:{customer_id}",
            f"human:release:{customer_id}",
        ]
        assert await takeover.is_human(shop.shop_id, customer_id)


async def test_timeout_and_release_give_the_conversation_back_and_tell_the_customer(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], runtime: Runtime
) -> None:
    shop = await make_shop(staff={STAFF: StaffRole.OWNER})
    clock = Clock()
    async with session_factory() as session, session.begin():
        quiet, answered = (
            await _customer(session, shop.shop_id, "A"),
            await _customer(session, shop.shop_id, "B"),
        )
        takeover = takeover_service(
            session, runtime.settings, runtime.outbox, runtime.i18n, now=clock
        )
        await takeover.request_human(shop_id=shop.shop_id, customer_id=quiet, reason="")
        await takeover.request_human(shop_id=shop.shop_id, customer_id=answered, reason="")
        clock.at += timedelta(minutes=20)
        # A staff message moves the silence on: 30 minutes from now.
        await takeover.staff_wrote(
            shop_id=shop.shop_id, customer_id=answered, staff_telegram_id=STAFF
        )
        clock.at += timedelta(minutes=10)
        resumed = [r for r in await takeover.resume_due() if r.shop_id == shop.shop_id]
        assert [r.customer_id for r in resumed] == [quiet]
        assert not await takeover.is_human(shop.shop_id, quiet)
        assert await takeover.is_human(shop.shop_id, answered)
        assert await takeover.release(shop_id=shop.shop_id, customer_id=answered)
        assert not await takeover.release(shop_id=shop.shop_id, customer_id=answered)
        notices = await _pushes(session, shop.shop_id, "takeover")
        assert [p.customer_id for p in notices] == [quiet, answered]
        assert "answering you again" in str(notices[0].payload["text"])
        # A staff message pauses the bot even if the customer never asked.
        await takeover.staff_wrote(shop_id=shop.shop_id, customer_id=quiet, staff_telegram_id=STAFF)
        conversation = await session.scalar(
            select(Conversation).where(Conversation.customer_id == quiet)
        )
        assert conversation is not None and conversation.mode is ConversationMode.HUMAN
        assert conversation.staff_telegram_id == STAFF
        assert len(await _pushes(session, shop.shop_id, "handoff")) == 2  # no new alert


async def test_another_shops_customer_is_not_found(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], runtime: Runtime
) -> None:
    shop, other = await make_shop(), await make_shop()
    async with session_factory() as session, session.begin():
        customer_id = await _customer(session, other.shop_id)
        takeover = takeover_service(session, runtime.settings, runtime.outbox, runtime.i18n)
        with pytest.raises(NotFoundError):
            await takeover.request_human(shop_id=shop.shop_id, customer_id=customer_id, reason="")
        with pytest.raises(NotFoundError):
            await takeover.staff_wrote(
                shop_id=shop.shop_id, customer_id=customer_id, staff_telegram_id=1
            )
        assert not await takeover.release(shop_id=shop.shop_id, customer_id=customer_id)


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("can I talk to a human please", True),
        ("OPERATOR!", True),
        ("Позовите оператора", True),  # inflected forms count
        ("дайте живой человек", True),
        ("أريد التحدث مع موظف", True),
        ("human hair wig", True),
        ("inhuman prices", False),
        ("набор на 6 человек", False),
    ],
)
def test_asking_for_a_person_is_told_by_the_start_of_words(text: str, asks: bool) -> None:
    keywords = ["operator", "human", "оператор", "живой человек", "موظف"]
    assert asks_for_human(text, keywords) is asks
