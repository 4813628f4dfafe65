"""Competitor commands for staff: /watch SKU URL (or a file with the caption /watch),
/unwatch, /watch_tier SKU TIER (how often its offers are checked), /competitor NAME
exclude|include|ours, and /competitors SKU (the table here, the price-history chart drawn
by a worker)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.competition_events import on_competition_changed
from souk.competition_texts import problem_text, seen_text, table_text
from souk.config import Settings
from souk.connectors.fetch import PageFetcher
from souk.handlers.seller.imports import read_document
from souk.handlers.seller.products import unknown_sku_text
from souk.notify import StaffNotifier
from souk.services.competition_changes import PictureChange
from souk.services.competition_table import offer_rows
from souk.services.competitor_files import CompetitorFile, FileRowError, RowProblem
from souk.services.competitors import (
    BadUrl,
    CompetitorFlag,
    Competitors,
    UnknownCompetitor,
    UnknownTier,
)
from souk.services.import_messages import refusal_text
from souk.services.import_reader import ImportRefused
from souk.services.offer_checks import OfferChecker
from souk.services.outbox import OutboxFactory
from souk.services.products import ProductAdmin, UnknownSku
from souk.services.shops import ChannelInfo
from souk.services.watching import NotWatched, Watched, watch
from souk.workers.kick import Jobs

router = Router(name=__name__)

_ROW_ERRORS_SHOWN = 20


async def _announce(
    session: AsyncSession,
    outbox: OutboxFactory,
    i18n: I18n,
    settings: Settings,
    shop: ChannelInfo,
    jobs: Jobs,
    changes: Sequence[PictureChange],
) -> None:
    """Tell the staff what the changes mean, and have them repriced once committed."""
    if changes:
        notifier = StaffNotifier(session, outbox(session), i18n)
        await on_competition_changed(session, notifier, settings, shop.shop_id, changes)
        jobs.reprice_after_commit(session, shop.shop_id, {c.product_id for c in changes})


def _watched_text(watched: Watched, language: str) -> str:
    sku = escape(watched.product.sku)
    if not watched.new:
        head = _("{sku} already watches this address:").format(sku=sku)
    elif watched.marketplace is not None:
        head = _("{sku} now watches every seller of this {marketplace} list:").format(
            sku=sku, marketplace=escape(watched.marketplace)
        )
    else:
        head = _("{sku} now watches this page. First check:").format(sku=sku)
    lines = [head]
    lines += [f"{escape(name)}: {seen_text(seen, language)}" for name, seen in watched.seen]
    if watched.new and watched.marketplace is not None and not watched.seen:
        lines.append(_("The list has no sellers yet."))
    return "\n".join(lines)


@router.message(Command("watch"))
async def watch_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    jobs: Jobs,
) -> None:
    assert message.from_user is not None
    if message.document is not None:
        await _watch_file(message, bot, session, shop, settings, outbox, i18n, jobs)
        return
    parts = (command.args or "").split()
    if len(parts) != 2:
        await message.answer(
            _(
                "Write the SKU and the competitor's page: /watch PH-1 https://shop.example/p/1 "
                "— or send a .csv/.xlsx file with the caption /watch and the columns "
                "sku, competitor, url (or sku, competitor, price)."
            )
        )
        return
    fetcher = PageFetcher(settings.monitor)
    try:
        watched = await watch(
            session,
            shop.shop_id,
            settings.monitor,
            OfferChecker(fetcher, settings.monitor),
            parts[0],
            parts[1],
            actor=message.from_user.id,
            now=datetime.now(UTC),
        )
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    except BadUrl:
        await message.answer(
            _("“{url}” is not a web address (http:// or https://).").format(url=escape(parts[1]))
        )
        return
    except NotWatched as refused:
        await message.answer(
            _("Not watched: {problem}.").format(problem=problem_text(refused.problem))
        )
        return
    finally:
        await fetcher.close()
    await _announce(session, outbox, i18n, settings, shop, jobs, watched.changes)
    await message.answer(_watched_text(watched, i18n.current_locale))


def _row_error_text(error: FileRowError) -> str:
    value = escape(error.value)
    reasons = {
        RowProblem.REQUIRED: _("empty; a value is needed"),
        RowProblem.UNKNOWN_SKU: _("no product has the SKU “{value}”"),
        RowProblem.BAD_URL: _("“{value}” is not a web address"),
        RowProblem.BAD_PRICE: _("“{value}” is not a price with its currency"),
        RowProblem.BAD_STOCK: _("“{value}” is neither yes nor no"),
        RowProblem.DUPLICATE: _("the same as row {row}"),
    }
    reason = reasons[error.problem].format(value=value, row=error.detail)
    if error.column:
        return _("Row {row}, {column}: {reason}").format(
            row=error.row, column=escape(error.column), reason=reason
        )
    return _("Row {row}: {reason}").format(row=error.row, reason=reason)


async def _watch_file(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    jobs: Jobs,
) -> None:
    assert message.document is not None and message.from_user is not None
    reader = CompetitorFile(session, shop.shop_id, settings.monitor, message.from_user.id)
    try:
        rows, errors = await reader.read(await read_document(bot, message.document, settings))
    except ImportRefused as refused:
        await message.answer(refusal_text(refused, _))
        return
    if errors:
        lines = [_("Nothing was applied: {count} problems.").format(count=len(errors))]
        lines += [_row_error_text(error) for error in errors[:_ROW_ERRORS_SHOWN]]
        if len(errors) > _ROW_ERRORS_SHOWN:
            lines.append(_("…and {count} more.").format(count=len(errors) - _ROW_ERRORS_SHOWN))
        await message.answer("\n".join(lines))
        return
    outcome = await reader.apply(rows, now=datetime.now(UTC))
    await _announce(session, outbox, i18n, settings, shop, jobs, outcome.changes)
    await message.answer(
        _("Applied {rows} rows: {new} offers stored, {unchanged} already watched.").format(
            rows=len(rows), new=outcome.linked, unchanged=outcome.unchanged
        )
        + " "
        + _("The monitor checks new pages within minutes; /competitors SKU shows them.")
    )


@router.message(Command("unwatch"))
async def unwatch_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) != 2:
        await message.answer(_("Write the SKU and the page or competitor: /unwatch PH-1 URL"))
        return
    try:
        product = await ProductAdmin(session, shop.shop_id, None).by_sku(parts[0], lock=False)
        stopped = await Competitors(session, shop.shop_id, settings.monitor).unwatch(
            product, parts[1]
        )
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    except UnknownCompetitor:
        stopped = 0
    if not stopped:
        await message.answer(
            _("{sku} watches nothing at “{target}”.").format(
                sku=escape(parts[0]), target=escape(parts[1])
            )
        )
        return
    await message.answer(
        _("{sku}: offers no longer watched: {count} (their history is kept).").format(
            sku=escape(product.sku), count=stopped
        )
    )


@router.message(Command("watch_tier"))
async def watch_tier_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    tiers = ", ".join(
        _("{tier} (every {minutes} min)").format(tier=tier, minutes=minutes)
        for tier, minutes in settings.monitor.tier_minutes.items()
    )
    parts = (command.args or "").split()
    if len(parts) != 2:
        await message.answer(
            _(
                "Write the SKU and how often to check it: /watch_tier PH-1 TIER. Tiers: {tiers}."
            ).format(tiers=tiers)
        )
        return
    sku, tier = parts[0], parts[1].lower()
    try:
        product = await ProductAdmin(session, shop.shop_id, None).by_sku(sku, lock=False)
        count = await Competitors(session, shop.shop_id, settings.monitor).set_tier(
            product, tier, datetime.now(UTC)
        )
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    except UnknownTier:
        await message.answer(
            _("“{tier}” is not a tier. Tiers: {tiers}.").format(tier=escape(tier), tiers=tiers)
        )
        return
    if not count:
        await message.answer(
            _("{sku} watches no offer yet: /watch {sku} URL").format(sku=escape(product.sku))
        )
        return
    await message.answer(
        _("{sku}: its offers ({count}) are checked every {minutes} min from now on.").format(
            sku=escape(product.sku), count=count, minutes=settings.monitor.tier_minutes[tier]
        )
    )


@router.message(Command("competitor"))
async def competitor_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    name, _space, word = (command.args or "").strip().rpartition(" ")
    flags = {flag.value: flag for flag in CompetitorFlag}
    if not name.strip() or word.lower() not in flags:
        await message.answer(_("Write the competitor's name and exclude, include or ours."))
        return
    flag = flags[word.lower()]
    try:
        competitor = await Competitors(session, shop.shop_id, settings.monitor).flag(name, flag)
    except UnknownCompetitor:
        await message.answer(_("No competitor is named “{name}”.").format(name=escape(name)))
        return
    texts = {
        CompetitorFlag.EXCLUDE: _("{name} is excluded: its prices no longer count."),
        CompetitorFlag.INCLUDE: _("{name} counts as a competitor again."),
        CompetitorFlag.OURS: _("{name} is marked as our own store: its prices do not count."),
    }
    await message.answer(texts[flag].format(name=escape(competitor.name)))


@router.message(Command("competitors"))
async def competitors_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    shop: ChannelInfo,
    jobs: Jobs,
    i18n: I18n,
) -> None:
    sku = (command.args or "").strip()
    if not sku:
        await message.answer(_("Write the SKU: /competitors PH-1"))
        return
    try:
        product = await ProductAdmin(session, shop.shop_id, None).by_sku(sku, lock=False)
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    rows = await offer_rows(session, shop.shop_id, product.id)
    language = i18n.current_locale
    if any(row.checked_at is not None for row in rows):
        # Queued first: the chart follows the table in a moment.
        assert message.bot is not None
        await jobs.send_competitors_chart(
            shop_id=shop.shop_id,
            product_id=product.id,
            bot_id=message.bot.id,
            chat_id=message.chat.id,
            language=language,
        )
    await message.answer(
        table_text(product.sku, product.price, product.currency, rows, language, datetime.now(UTC))
    )
