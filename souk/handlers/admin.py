"""Platform admins (ADMIN_TELEGRAM_IDS), in any shop's bot: /shops and /stats."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.formatting import money, short_title
from souk.handlers.screens import replace_screen
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import AdminShopsCD
from souk.keyboards.paging import add_page_buttons
from souk.services.outbox import OutboxFactory
from souk.services.platform import PlatformService

router = Router(name=__name__)


# Shops on one page of /shops: a line is up to ~240 characters (a 64-character slug, the
# name cut at NAME_SHOWN), a message 4096.
SHOPS_PAGE_SIZE = 15
NAME_SHOWN = 60


@router.message(Command("shops"))
async def shops_command(message: Message, session: AsyncSession) -> None:
    text, keyboard = await _shops_page(session, 0)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(AdminShopsCD.filter())
async def shops_page(
    query: CallbackQuery, callback_data: AdminShopsCD, session: AsyncSession
) -> None:
    text, keyboard = await _shops_page(session, callback_data.page)
    await query.answer()
    await replace_screen(query, text, keyboard)


async def _shops_page(
    session: AsyncSession, number: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Page `number` of the shops, the newest first (a page past the end: the last)."""
    platform = PlatformService(session)
    pages = max(1, math.ceil(await platform.shop_count() / SHOPS_PAGE_SIZE))
    number = min(max(number, 0), pages - 1)
    shops = await platform.shops(
        datetime.now(UTC), limit=SHOPS_PAGE_SIZE, offset=number * SHOPS_PAGE_SIZE
    )
    lines = [_("Shops (newest first):")]
    if pages > 1:
        lines[0] += " " + _("page {page} of {pages}").format(page=number + 1, pages=pages)
    for shop in shops:
        state = "" if shop.active else " " + _("(off)")
        lines.append(
            _(
                "<b>{slug}</b>{state} — {name}: {products} products, {customers} customers, "
                "{staff} staff, {orders} orders in 24 h"
            ).format(
                slug=escape(shop.slug),
                state=state,
                name=escape(short_title(shop.name, NAME_SHOWN)),
                products=shop.products,
                customers=shop.customers,
                staff=shop.staff,
                orders=shop.orders_today,
            )
        )
    builder = KeyboardBuilder()
    added = add_page_buttons(builder, number, pages, lambda page: AdminShopsCD(page=page))
    return "\n".join(lines), builder.as_markup() if added else None


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
