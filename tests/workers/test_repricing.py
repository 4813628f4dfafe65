"""The repricing task monitoring queues, and the entry point it runs: an applied price is
pushed to staff through the outbox as a short note with a Revert button."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import Settings
from souk.db.models import DecisionStatus, OutboxMessage, StaffRole
from souk.embedded import ServiceURLs
from souk.keyboards.callbacks import RepriceAction, RepriceCD
from souk.runtime import Runtime
from souk.services.repricing.rules import RuleBook
from souk.services.repricing.syntax import parse_rule_words
from souk.workers.app import REPRICE_TASK, create_celery
from souk.workers.repricing import PUSH_KIND, reprice_products
from tests.channels.test_catalog import stock_shop
from tests.channels.test_staff_repricing import offer
from tests.conftest import MakeShop
from tests.services.test_repricing import STAFF, Clock

OWNER = 7501


def test_the_task_is_registered_under_its_name(runtime: Runtime, urls: ServiceURLs) -> None:
    app = create_celery(runtime.settings, urls)
    import souk.workers.tasks  # noqa: F401  (the worker imports it: it registers the tasks)

    assert REPRICE_TASK == "souk.reprice_products"
    assert REPRICE_TASK in app.tasks


async def test_an_applied_price_is_pushed_to_staff_with_revert(
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    shop, ids = await stock_shop(make_shop, session_factory, staff={OWNER: StaffRole.OWNER})
    async with session_factory() as session, session.begin():
        book = RuleBook(session, shop.shop_id, STAFF)
        words = ["match", "mode", "auto", "ceiling", "300"]
        await book.save(await book.target("PH-1"), parse_rule_words(words))
    await offer(session_factory, shop, ids["PH-1"], "Alpha", "195.50")
    clock = Clock(datetime(2031, 1, 1, tzinfo=UTC))
    (decision,) = await reprice_products(
        session_factory, settings, shop.shop_id, [ids["PH-1"], ids["CS-1"]], clock=clock
    )
    assert (decision.status, decision.proposed_price) == (DecisionStatus.APPLIED, Decimal("195.50"))
    async with session_factory() as session:
        (push,) = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.shop_id == shop.shop_id, OutboxMessage.kind == PUSH_KIND
            )
        )
    assert push.chat_id == OWNER and push.idempotency_key == f"reprice:{decision.id}:{OWNER}"
    assert push.payload["text"] == (
        "Repriced <code>PH-1</code> Phone 1: $200.90 → $195.50.\nMatch the lowest, $195.50 (Alpha)."
    )
    revert = RepriceCD(action=RepriceAction.REVERT, decision_id=decision.id).pack()
    assert push.payload["reply_markup"] == {
        "inline_keyboard": [[{"text": f"↩ Revert #{decision.id}", "callback_data": revert}]]
    }
