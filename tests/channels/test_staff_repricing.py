"""Repricing through the webhook, as staff: rules set, refused and shown with /reprice,
the shop's kill switch, a proposed price approved once (a second tap and a tap after
expiry change nothing), rejected, reverted from /reprice_log; customers reach none of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import Settings
from souk.db.models import (
    Competitor,
    CompetitorOffer,
    DecisionStatus,
    OfferSource,
    OutboxMessage,
    PriceChange,
    PriceSource,
    Product,
    StaffRole,
)
from souk.keyboards.callbacks import RepriceAction, RepriceCD
from souk.services.repricing.runs import Decision
from souk.workers.repricing import PUSH_KIND, reprice_products
from tests.channels.test_catalog import Chat, stock_shop
from tests.channels.test_staff_import import StaffChat, buttons, products
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI

STAFF, CUSTOMER = 7101, 7102


def tap(action: RepriceAction, decision_id: int) -> str:
    return RepriceCD(action=action, decision_id=decision_id).pack()


async def run(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    shop: TestShop,
    product_id: int,
    at: datetime | None = None,
) -> Decision:
    (decision,) = await reprice_products(
        session_factory,
        settings,
        shop.shop_id,
        [product_id],
        clock=lambda: at or datetime.now(UTC),
    )
    return decision


async def pushes(
    session_factory: async_sessionmaker[AsyncSession], shop: TestShop
) -> list[OutboxMessage]:
    async with session_factory() as session:
        found = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.shop_id == shop.shop_id, OutboxMessage.kind == PUSH_KIND)
            .order_by(OutboxMessage.id)
        )
        return list(found)


async def test_rules_are_set_refused_and_shown_and_the_shop_switch_holds_them(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={STAFF: StaffRole.MANAGER})
    async with session_factory() as session, session.begin():
        await session.execute(update(Product).where(Product.id == ids["PH-1"]).values(cost=150))
    chat = StaffChat(http, server, shop, fake_api, user=STAFF)

    assert (
        (await chat.say("/reprice"))
        .params["text"]
        .startswith("Set a repricing rule for a SKU or a category")
    )
    refusals = {
        "/reprice PH-9 beat 1": "No product has the SKU “PH-9”.",
        "/reprice category:toys match": (
            "No category has the slug “toys”. The shop's: phones, cases, empty."
        ),
        "/reprice PH-1 beat -5": "“beat” cannot be negative (-5).",
        "/reprice PH-1 beat abc": "“abc” after “beat” is not a positive amount.",
        "/reprice PH-1 step 0": "“0” after “step” is not a positive amount.",
        "/reprice PH-1 beat 1 sometimes": "“sometimes” is not a rule setting.",
        "/reprice PH-1 beat 1 mode later": "“later” is not one of the choices of “mode”.",
        "/reprice PH-1 floor 100": "A new rule needs a strategy",
        "/reprice PH-1 beat 1% floor 300 ceiling 250": (
            "Refused: the floor $300.00 is above the ceiling $250.00. Nothing was saved."
        ),
        "/reprice PH-1 beat 1% margin 10% ceiling 160": (
            "Refused: the floor $165.00 (the cost of PH-1 plus the minimum margin) is above "
            "the ceiling $160.00. Nothing was saved."
        ),
    }
    for command, expected in refusals.items():
        assert (await chat.say(command)).params["text"].startswith(expected), command
    assert (
        (await chat.say("/reprice PH-1")).params["text"].startswith("PH-1 has no repricing rule.")
    )

    saved = await chat.say("/reprice PH-1 beat 1% floor 160 ceiling 400 maxchange 10% mode approve")
    assert saved.params["text"].splitlines() == [
        "Saved. Rule of PH-1:",
        "Strategy: beat the lowest by 1%",
        "Floor: $160.00; minimum margin over cost: none",
        "Ceiling: $400.00",
        "Max change per run: 10%; cooldown: 0 min",
        "Competitors: rated at least any; out-of-stock offers ignored",
        "No competitor: hold the price",
        "Mode: approve (Yes/No to staff)",
        "The rule is on.",
    ]
    await chat.say("/reprice category:phones match mode dry-run")
    shown = await chat.say("/reprice PH-2")
    assert shown.params["text"].splitlines()[:2] == [
        "<b>Rule of PH-2 (the rule of category:phones)</b>",
        "Strategy: match the lowest",
    ]
    off = await chat.say("/reprice off")
    assert off.params["text"].startswith("Repricing is off for the shop")
    await offer(session_factory, shop, ids["PH-1"], "Alpha", "199.00")
    await products(session_factory, chat)  # every command is processed (committed)
    held = await run(session_factory, settings, shop, ids["PH-1"])
    assert (held.status, held.trace[0]["code"]) == (DecisionStatus.HELD, "shop_paused")
    assert (await chat.say("/reprice on")).params["text"] == "Repricing is on again for the shop."
    deleted = await chat.say("/reprice category:phones delete")
    assert deleted.params["text"] == "The rule of category:phones is deleted."
    assert (await chat.say("/reprice PH-2")).params["text"].startswith("PH-2 has no repricing")

    customer = Chat(http, server, shop, fake_api, CUSTOMER)
    for command in ("/reprice PH-1 match", "/reprice off", "/reprice_log PH-1"):
        assert (await customer.say(command)).params["text"].startswith("Я не понял")


async def offer(
    session_factory: async_sessionmaker[AsyncSession],
    shop: TestShop,
    product_id: int,
    name: str,
    price: str,
) -> None:
    async with session_factory() as session, session.begin():
        competitor = Competitor(shop_id=shop.shop_id, name=name, host=f"{name.lower()}.example")
        session.add(competitor)
        await session.flush()
        session.add(
            CompetitorOffer(
                shop_id=shop.shop_id,
                product_id=product_id,
                competitor_id=competitor.id,
                source=OfferSource.PAGE,
                url=f"https://{competitor.host}/p",
                price=Decimal(price),
                currency="USD",
                in_stock=True,
            )
        )


async def test_a_proposal_is_approved_once_expires_is_rejected_and_reverted(
    http: ClientSession,
    server: TestServer,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={STAFF: StaffRole.MANAGER})
    phone = ids["PH-1"]  # $200.90
    chat = StaffChat(http, server, shop, fake_api, user=STAFF)
    await chat.say("/reprice PH-1 beat 1% floor 150 mode approve")
    await offer(session_factory, shop, phone, "Alpha", "199.00")
    await products(session_factory, chat)

    proposed = await run(session_factory, settings, shop, phone)
    assert (proposed.status, proposed.proposed_price) == (DecisionStatus.PENDING, Decimal("197.01"))
    (push,) = await pushes(session_factory, shop)
    text = str(push.payload["text"])
    assert push.chat_id == STAFF
    assert text.startswith("Reprice <code>PH-1</code> Phone 1: $200.90 → $197.01?\n1. ")
    assert "3. Beat the lowest, $199.00 (Alpha), by 1%: $197.01." in text
    assert "The buttons expire at " in text
    yes, no = tap(RepriceAction.YES, proposed.id), tap(RepriceAction.NO, proposed.id)
    markup = push.payload["reply_markup"]
    assert isinstance(markup, dict)
    assert [b["callback_data"] for b in markup["inline_keyboard"][0]] == [yes, no]

    applied = await chat.press(yes, message_id=chat.sent())
    assert applied.params["text"] == "Applied: PH-1 costs $197.01 now."
    again = await chat.press(yes, message_id=chat.sent())
    assert again.params["text"] == (
        f"Decision #{proposed.id} was answered already (applied); nothing changed."
    )
    assert again.params["show_alert"] is True
    late_no = await chat.press(no, message_id=chat.sent())
    assert late_no.params["text"].startswith(f"Decision #{proposed.id} was answered already")

    log = await chat.say("/reprice_log PH-1")
    lines = log.params["text"].splitlines()
    assert lines[0] == "Latest repricing decisions for PH-1, newest first:"
    assert lines[2].startswith(f"<b>#{proposed.id} · ") and lines[2].endswith(
        " · applied</b>: $200.90 → $197.01"
    )
    assert "5. Floor $150.00: not reached." in lines
    revert = tap(RepriceAction.REVERT, proposed.id)
    assert buttons(log) == [(f"↩ Revert #{proposed.id}", revert)]
    reverted = await chat.press(revert, message_id=chat.sent())
    assert reverted.params["text"] == "Reverted: PH-1 costs $200.90 again."
    twice = await chat.press(revert, message_id=chat.sent())
    assert twice.params["text"].startswith(f"Decision #{proposed.id} was answered already")

    # A proposal made two hours ago expired after REPRICE_APPROVAL_MINUTES (60).
    old = await run(
        session_factory, settings, shop, phone, at=datetime.now(UTC) - timedelta(hours=2)
    )
    late = await chat.press(tap(RepriceAction.YES, old.id), message_id=chat.sent())
    assert late.params["text"] == (
        "This proposal expired unanswered; nothing changed. PH-1 costs $200.90."
    )
    fresh = await run(session_factory, settings, shop, phone)
    refused = await chat.press(tap(RepriceAction.NO, fresh.id), message_id=chat.sent())
    assert refused.params["text"] == "Rejected: PH-1 stays at $200.90."
    missing = await chat.press(tap(RepriceAction.YES, 10**12), message_id=chat.sent())
    assert missing.params["text"] == "This decision was not found."

    await products(session_factory, chat)
    async with session_factory() as session:
        audit = [
            (c.source, c.old_price, c.new_price, c.actor_telegram_id)
            for c in await session.scalars(
                select(PriceChange).where(PriceChange.product_id == phone).order_by(PriceChange.id)
            )
        ]
    assert audit == [
        (PriceSource.REPRICER, Decimal("200.90"), Decimal("197.01"), STAFF),
        (PriceSource.UNDO, Decimal("197.01"), Decimal("200.90"), STAFF),
    ]
