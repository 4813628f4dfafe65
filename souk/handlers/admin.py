"""Platform admins (ADMIN_TELEGRAM_IDS), in any shop's bot: /shops and /stats."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.formatting import money
from souk.services.outbox import OutboxFactory
from souk.services.platform import PlatformService

router = Router(name=__name__)


@router.message(Command("shops"))
async def shops_command(message: Message, session: AsyncSession) -> None:
    shops = await PlatformService(session).shops(datetime.now(UTC))
    lines = [_("Shops (newest first):")]
    for shop in shops:
        state = "" if shop.active else " " + _("(off)")
        lines.append(
            _(
                "<b>{slug}</b>{state} — {name}: {products} products, {customers} customers, "
                "{staff} staff, {orders} orders in 24 h"
            ).format(
                slug=escape(shop.slug),
                state=state,
                name=escape(shop.name),
                products=shop.products,
                customers=shop.customers,
                staff=shop.staff,
                orders=shop.orders_today,
            )
        )
    await message.answer("\n".join(lines))


@router.message(Command("stats"))
async def stats_command(
    message: Message, session: AsyncSession, outbox: OutboxFactory, i18n: I18n
) -> None:
    figures = await PlatformService(session).figures(datetime.now(UTC))
    queue = await outbox(session).stats()
    revenue = ", ".join(
        money(amount, currency, i18n.current_locale)
        for currency, amount in figures.revenue_day.items()
    )
    await message.answer(
        "\n".join(
            [
                _("Shops: {count}").format(count=figures.shops),
                _("Customers: {count} ({blocked} blocked the bot)").format(
                    count=figures.customers, blocked=figures.blocked
                ),
                _("Orders in 24 h: {count}").format(count=figures.orders_day),
                _("Their value: {revenue}").format(revenue=revenue or "—"),
                _("Pushes waiting: {depth} (oldest {age} s); sent {sent}, failed {failed}").format(
                    depth=queue.depth,
                    age=round(queue.oldest_age_seconds),
                    sent=queue.sent,
                    failed=queue.failed,
                ),
            ]
        )
    )
