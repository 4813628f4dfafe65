"""Campaigns on the real database: who each segment holds, queuing batch by batch (and
resuming after a crash), pacing, the outbox's priority and the live figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import CampaignSettings, OutboxSettings
from souk.db.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    ChannelKind,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    OutboxMessage,
    OutboxPriority,
    OutboxStatus,
    RecipientState,
    StaffRole,
)
from souk.runtime import Runtime
from souk.services.campaign_queue import Batch, BatchResult, CampaignQueue
from souk.services.campaign_segments import (
    Segment,
    SegmentKind,
    audience,
)
from souk.services.campaigns import (
    CampaignContent,
    CampaignService,
)
from souk.services.outbox import OutboxService, Push
from souk.workers.campaigns import advance_campaign, advance_campaigns
from tests.channels.test_catalog import stock_shop
from tests.conftest import MakeShop, TestShop

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
ANCIENT = datetime(2000, 1, 1, tzinfo=UTC)
STAFF = 7400
EVERYONE = Segment(SegmentKind.ALL)
SPRING_SALE = CampaignContent("Spring sale!")


async def add_customer(
    session: AsyncSession, shop: TestShop, user_id: int, *, seen: datetime = NOW, **fields: Any
) -> int:
    customer = Customer(
        shop_id=shop.shop_id,
        channel=fields.pop("channel", ChannelKind.TELEGRAM),
        external_id=str(user_id),
        last_seen_at=seen,
        created_at=seen,
        **fields,
    )
    session.add(customer)
    await session.flush()
    return customer.id


async def add_order(
    session: AsyncSession,
    shop: TestShop,
    customer_id: int,
    product_id: int,
    status: OrderStatus,
    at: datetime,
) -> None:
    number = await session.scalar(select(func.count()).select_from(Order)) or 0
    order = Order(
        shop_id=shop.shop_id,
        customer_id=customer_id,
        number=str(5000 + number),
        status=status,
        currency="USD",
        subtotal=Decimal("10.00"),
        shipping_price=Decimal("0.00"),
        total=Decimal("10.00"),
        created_at=at,
    )
    session.add(order)
    await session.flush()
    session.add(
        OrderItem(
            order_id=order.id,
            product_id=product_id,
            sku="X",
            title="X",
            quantity=1,
            unit_price=Decimal("10.00"),
        )
    )


async def start_campaign(
    session_factory: async_sessionmaker[AsyncSession],
    shop: TestShop,
    segment: Segment = EVERYONE,
    content: CampaignContent = SPRING_SALE,
) -> int:
    """A campaign drafted and sent (its recipients chosen) at NOW."""
    async with session_factory() as session, session.begin():
        campaigns = CampaignService(session, shop.shop_id)
        campaign, _ = await campaigns.draft(author=STAFF, segment=segment, content=content, now=NOW)
        await campaigns.start(campaign.id, now=NOW, stats_message_id=None)
        return campaign.id


def plain(content: CampaignContent, language: str) -> tuple[str, dict[str, object]]:
    return "sendMessage", {"text": f"{content.text} ({language})"}


def queue(session: AsyncSession, **settings: int) -> CampaignQueue:
    return CampaignQueue(
        session, CampaignSettings(**settings), OutboxService(session, OutboxSettings())
    )


async def recipient_states(
    session_factory: async_sessionmaker[AsyncSession], campaign_id: int
) -> dict[int, tuple[RecipientState, int | None]]:
    async with session_factory() as session:
        rows = await session.execute(
            select(
                CampaignRecipient.customer_id, CampaignRecipient.state, CampaignRecipient.outbox_id
            ).where(CampaignRecipient.campaign_id == campaign_id)
        )
        return {customer: (state, outbox_id) for customer, state, outbox_id in rows}


async def campaign_pushes(
    session_factory: async_sessionmaker[AsyncSession], campaign_id: int
) -> list[OutboxMessage]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.idempotency_key.startswith(f"campaign:{campaign_id}:"))
                .order_by(OutboxMessage.customer_id)
            )
        )


async def forget_pushes(
    session_factory: async_sessionmaker[AsyncSession], campaign_id: int
) -> None:
    """Take a test campaign's undelivered pushes out of the shared outbox (other tests
    deliver whatever is due)."""
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.idempotency_key.startswith(f"campaign:{campaign_id}:"),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
        )


async def test_segments_hold_the_right_customers_of_the_shop_only(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={STAFF: StaffRole.OWNER})
    other, other_ids = await stock_shop(make_shop, session_factory)
    days = timedelta(days=1)
    async with session_factory() as session, session.begin():
        fresh = await add_customer(session, shop, 7401, seen=NOW - days)
        await add_customer(session, shop, 7402, campaigns_opted_out_at=NOW - 3 * days)
        await add_customer(session, shop, 7403, blocked=True)
        await add_customer(session, shop, STAFF)  # staff chat with the bot too
        whatsapp = await add_customer(session, shop, 7409, channel=ChannelKind.WHATSAPP)
        await add_customer(session, shop, 7411, channel=ChannelKind.WEB)  # the demo chat
        phone_buyer = await add_customer(session, shop, 7404, seen=NOW - 50 * days)
        await add_order(
            session, shop, phone_buyer, ids["PH-1"], OrderStatus.CONFIRMED, NOW - 50 * days
        )
        cancelled = await add_customer(session, shop, 7405, seen=NOW - 50 * days)
        await add_order(
            session, shop, cancelled, ids["PH-2"], OrderStatus.CANCELLED, NOW - 50 * days
        )
        case_buyer = await add_customer(session, shop, 7406, seen=NOW - 2 * days)
        await add_order(
            session, shop, case_buyer, ids["CS-1"], OrderStatus.DELIVERED, NOW - 9 * days
        )
        idle = await add_customer(session, shop, 7407, seen=NOW - 40 * days)
        ordered_lately = await add_customer(session, shop, 7408, seen=NOW - 40 * days)
        await add_order(
            session, shop, ordered_lately, ids["CS-1"], OrderStatus.NEW, NOW - 10 * days
        )
        quiet_buyer = await add_customer(
            session, shop, 7410, campaigns_opted_out_at=NOW - days, seen=NOW - 60 * days
        )
        await add_order(session, shop, quiet_buyer, ids["PH-1"], OrderStatus.PAID, NOW - 60 * days)
        elsewhere = await add_customer(session, other, 7401, seen=NOW - 90 * days)
        await add_order(session, other, elsewhere, other_ids["PH-1"], OrderStatus.PAID, NOW)

    async with session_factory() as session:

        async def holds(segment: Segment, target: TestShop = shop) -> set[int]:
            return set(await session.scalars(audience(target.shop_id, segment, NOW)))

        everyone = {fresh, phone_buyer, cancelled, case_buyer, idle, ordered_lately, whatsapp}
        assert await holds(EVERYONE) == everyone
        assert await CampaignService(session, shop.shop_id).count(EVERYONE, NOW) == len(everyone)
        phones = Segment(SegmentKind.CATEGORY, category_id=ids["phones"])
        assert await holds(phones) == {phone_buyer}  # not the cancelled order, not opted out
        cases = Segment(SegmentKind.CATEGORY, category_id=ids["cases"])
        assert await holds(cases) == {case_buyer}  # a new (not accepted) order does not count
        assert await holds(Segment(SegmentKind.CATEGORY, category_id=other_ids["phones"])) == set()
        assert await holds(Segment(SegmentKind.INACTIVE, days=30)) == {
            phone_buyer,
            cancelled,
            idle,
        }  # 7408 has not written for 40 days but ordered 10 days ago
        assert await holds(Segment(SegmentKind.INACTIVE, days=45)) == {phone_buyer, cancelled}
        assert await holds(EVERYONE, other) == {elsewhere}
        assert await holds(
            Segment(SegmentKind.CATEGORY, category_id=other_ids["phones"]), other
        ) == {elsewhere}


async def test_a_campaign_resumes_exactly_where_a_crash_left_it(
    runtime: Runtime, make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop(staff={STAFF: StaffRole.OWNER})
    async with session_factory() as session, session.begin():
        customers = [
            await add_customer(session, shop, 7501 + n, language=("en", "ru", None)[n % 3])
            for n in range(5)
        ]
    campaign_id = await start_campaign(session_factory, shop)

    async with session_factory() as session, session.begin():
        first = await queue(session, batch_size=2).enqueue_batch(campaign_id, plain, now=NOW)
    assert first == Batch(BatchResult.QUEUED, queued=2)

    class WorkerKilled(Exception):
        pass

    with pytest.raises(WorkerKilled):  # killed after queuing, before the commit
        async with session_factory() as session, session.begin():
            await queue(session, batch_size=2).enqueue_batch(campaign_id, plain, now=NOW)
            raise WorkerKilled

    def broken(content: CampaignContent, language: str) -> tuple[str, dict[str, object]]:
        raise WorkerKilled

    with pytest.raises(WorkerKilled):  # killed half-way through a batch
        async with session_factory() as session, session.begin():
            await queue(session, batch_size=2).enqueue_batch(campaign_id, broken, now=NOW)

    states = await recipient_states(session_factory, campaign_id)
    assert [states[c][0] for c in customers] == [RecipientState.QUEUED] * 2 + [
        RecipientState.PENDING
    ] * 3
    assert len(await campaign_pushes(session_factory, campaign_id)) == 2

    # The beat's run picks up every campaign left sending, this one included.
    assert await advance_campaigns(runtime, NOW) >= 3
    pushes = await campaign_pushes(session_factory, campaign_id)
    assert [push.customer_id for push in pushes] == customers  # each once, nobody lost
    states = await recipient_states(session_factory, campaign_id)
    assert {c: states[c] for c in customers} == {
        push.customer_id: (RecipientState.QUEUED, push.id) for push in pushes if push.customer_id
    }
    assert all(push.priority == OutboxPriority.BULK for push in pushes)
    assert pushes[0].payload["text"] == "Spring sale! (en)"  # queued before the crash
    assert pushes[3].payload["text"] == "Spring sale!"  # by the worker, in English
    markup = pushes[3].payload["reply_markup"]
    assert markup == {"inline_keyboard": [[{"text": "Unsubscribe", "callback_data": "news:0"}]]}
    assert await advance_campaign(runtime, campaign_id, NOW) == 0  # nothing left to queue
    async with session_factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([push.id for push in pushes]))
            .values(status=OutboxStatus.SENT)
        )
    await advance_campaign(runtime, campaign_id, NOW)
    async with session_factory() as session:
        campaign = await session.get_one(Campaign, campaign_id)
    assert (campaign.status, campaign.queued, campaign.finished_at) == (
        CampaignStatus.DONE,
        5,
        NOW,
    )


async def test_queuing_keeps_pace_with_delivery(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        for n in range(6):
            await add_customer(session, shop, 7601 + n)
    campaign_id = await start_campaign(session_factory, shop)

    async def batch() -> Batch:
        async with session_factory() as session, session.begin():
            return await queue(session, batch_size=2, max_ahead=3).enqueue_batch(
                campaign_id, plain, now=NOW
            )

    assert await batch() == Batch(BatchResult.QUEUED, queued=2)
    assert await batch() == Batch(BatchResult.QUEUED, queued=1)  # room for one more
    assert await batch() == Batch(BatchResult.AHEAD)
    delivered = [push.id for push in await campaign_pushes(session_factory, campaign_id)][:2]
    async with session_factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(delivered))
            .values(status=OutboxStatus.SENT)
        )
    assert await batch() == Batch(BatchResult.QUEUED, queued=2)  # 1 + 2 wait again
    assert await batch() == Batch(BatchResult.AHEAD)
    async with session_factory() as session, session.begin():
        stopped = await CampaignService(session, shop.shop_id).stop(campaign_id, now=NOW)
    assert (stopped.queued, stopped.dropped) == (5, 1)
    await forget_pushes(session_factory, campaign_id)
    assert await batch() == Batch(BatchResult.NOT_SENDING)


async def test_an_order_push_is_claimed_before_a_big_campaign(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        for n in range(300):
            await add_customer(session, shop, 7700 + n)
    campaign_id = await start_campaign(session_factory, shop)
    async with session_factory() as session, session.begin():
        assert (await queue(session).enqueue_batch(campaign_id, plain, now=NOW)).queued == 300
        # The campaign waits since long ago; an order push comes after it.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key.startswith(f"campaign:{campaign_id}:"))
            .values(next_attempt_at=ANCIENT)
        )
        outbox = OutboxService(session, OutboxSettings())
        await outbox.enqueue(
            Push(
                channel=ChannelKind.TELEGRAM,
                receiver=str(shop.bot_id),
                chat_id=7700,
                method="sendMessage",
                payload={"chat_id": 7700, "text": "Your order is on its way"},
                kind="order_status",
                idempotency_key=f"order-status:test:{campaign_id}",
                shop_id=shop.shop_id,
                not_before=ANCIENT + timedelta(minutes=1),
            )
        )
        (first,) = await outbox.claim(1)
        assert first.payload["text"] == "Your order is on its way"
        # The rest of this shop's (other tests may have left pushes of theirs: the claim is
        # rolled back, so taking them all changes nothing).
        after = [push for push in await outbox.claim(10_000) if push.shop_id == shop.shop_id]
        assert [push.payload["text"] for push in after] == ["Spring sale! (en)"] * 300
        await session.rollback()
    async with session_factory() as session, session.begin():
        await CampaignService(session, shop.shop_id).stop(campaign_id, now=NOW)
    await forget_pushes(session_factory, campaign_id)


async def test_figures_count_the_outbox_rows_and_stop_drops_the_rest(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    shop = await make_shop()
    async with session_factory() as session, session.begin():
        customers = [await add_customer(session, shop, 7801 + n) for n in range(6)]
    campaign_id = await start_campaign(session_factory, shop)
    async with session_factory() as session, session.begin():
        # Opted out after the campaign was sent, before their turn: skipped.
        await session.execute(
            update(Customer).where(Customer.id == customers[2]).values(campaigns_opted_out_at=NOW)
        )
    async with session_factory() as session, session.begin():
        batch = await queue(session, batch_size=10, max_ahead=4).enqueue_batch(
            campaign_id, plain, now=NOW
        )
    assert batch == Batch(BatchResult.QUEUED, queued=3, skipped=1)
    pushes = {
        push.customer_id: push.id for push in await campaign_pushes(session_factory, campaign_id)
    }
    outcomes = {
        customers[0]: (OutboxStatus.SENT, None),
        customers[1]: (OutboxStatus.FAILED, "TelegramBadRequest: Bad Request: chat not found"),
        customers[3]: (OutboxStatus.FAILED, "TelegramForbiddenError: bot was blocked by the user"),
    }
    async with session_factory() as session, session.begin():
        for customer_id, (status, error) in outcomes.items():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == pushes[customer_id])
                .values(status=status, last_error=error)
            )
    async with session_factory() as session:
        stats = await CampaignService(session, shop.shop_id).stats(campaign_id)
    figures = (stats.recipients, stats.waiting, stats.queued, stats.sent, stats.failed)
    assert figures == (6, 2, 0, 1, 1)
    assert (stats.blocked, stats.skipped, stats.dropped) == (1, 1, 0)

    async with session_factory() as session, session.begin():
        await CampaignService(session, shop.shop_id).stop(campaign_id, now=NOW)
    async with session_factory() as session:
        stats = await CampaignService(session, shop.shop_id).stats(campaign_id)
    assert (stats.status, stats.waiting, stats.dropped) == (CampaignStatus.CANCELLED, 0, 2)
    states = await recipient_states(session_factory, campaign_id)
    assert [states[c][0] for c in customers[4:]] == [RecipientState.DROPPED] * 2
