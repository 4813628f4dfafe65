"""The repricing entry point monitoring calls after each check run: the rules of the
products run, every decision logged, and staff pushed (through the outbox, in the
decision's transaction) an applied price with Revert, or a price to approve with Yes/No."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.config import Settings
from souk.db.models import DecisionStatus
from souk.i18n import build_i18n
from souk.keyboards.repricing import approval_keyboard, revert_keyboard
from souk.notify import Render, StaffNotifier
from souk.reprice_texts import decision_push
from souk.runtime import Runtime
from souk.services.outbox import OutboxFactory
from souk.services.repricing.runs import Clock, Decision, Repricer

PUSH_KIND = "reprice"


def push_renderer(decision: Decision) -> Render:
    """The push of an applied decision (with Revert) or of one to approve (Yes/No)."""

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        if decision.status is DecisionStatus.PENDING:
            return decision_push(decision, language), approval_keyboard(decision.id)
        return decision_push(decision, language), revert_keyboard([decision.id])

    return render


async def reprice_products(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    shop_id: int,
    product_ids: Sequence[int],
    *,
    clock: Clock,
    i18n: I18n | None = None,
    outbox: OutboxFactory | None = None,
) -> list[Decision]:
    """Reprice the shop's products (those with a rule); staff hear of applied prices
    and prices to approve. `i18n` and `outbox` default to new ones (a worker passes its
    runtime's, whose outbox wakes the notifier)."""
    translator = i18n or build_i18n()
    outboxes = outbox or OutboxFactory(settings.outbox)

    async def announce(session: AsyncSession, decision: Decision) -> None:
        notifier = StaffNotifier(session, outboxes(session), translator)
        await notifier.send(
            decision.shop_id,
            push_renderer(decision),
            kind=PUSH_KIND,
            key=f"reprice:{decision.id}",
        )

    repricer = Repricer(session_factory, settings.reprice, announce=announce)
    return await repricer.reprice_products(shop_id, product_ids, clock=clock)


async def reprice_in(
    runtime: Runtime, shop_id: int, product_ids: Sequence[int], *, clock: Clock
) -> list[Decision]:
    """`reprice_products` with a worker runtime's sessions, translations and outbox: what
    the repricing task runs, and what monitoring hands each stored pass's changes to."""
    return await reprice_products(
        runtime.session_factory,
        runtime.settings,
        shop_id,
        product_ids,
        clock=clock,
        i18n=runtime.i18n,
        outbox=runtime.outbox,
    )
