"""Catalog import for staff: a CSV or XLSX sent to the bot is checked and previewed
("2 new, 5 changed, 3 rows with errors", the errors as a CSV report), then applied in one
transaction with Apply, or dropped with Cancel.

Between the preview and Apply only the file's id and the preview's counts are kept (in
the FSM state): Apply downloads and checks the file again, under the import lock, and
applies only if the counts are still those previewed. Up to 50,000 rows need not sit in
Redis, and a catalog changed meanwhile (a sale, another import) is noticed."""

from __future__ import annotations

import io
import secrets
from dataclasses import asdict
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Document, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import Settings
from souk.handlers.filters import Matches
from souk.handlers.screens import replace_screen
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import ImportAction, ImportCD
from souk.services.catalog_files import COLUMNS
from souk.services.import_messages import error_report, refusal_text
from souk.services.import_reader import (
    TEXT_SUFFIXES,
    XLSX_SUFFIXES,
    FileProblem,
    ImportLimits,
    ImportRefused,
    Table,
    check_size,
    read_table,
)
from souk.services.import_rows import RowError
from souk.services.imports import CatalogImport, ImportPlan, ImportSummary
from souk.services.shops import ChannelInfo

router = Router(name=__name__)

_SUFFIXES = TEXT_SUFFIXES | XLSX_SUFFIXES | {"xls", "ods", "numbers"}


class CatalogImportFlow(StatesGroup):
    preview = State()


def _is_table(document: Document | None) -> bool:
    """A document named like a table (every other message passes None here)."""
    if document is None:
        return False
    name = (document.file_name or "").lower()
    return "." in name and name.rsplit(".", 1)[1] in _SUFFIXES


def _summary_text(summary: ImportSummary, file_name: str) -> str:
    lines = [
        _("Checked {rows} rows of “{file}”:").format(rows=summary.rows, file=escape(file_name)),
        _("new products: {count}").format(count=summary.new),
        _("changed: {count}").format(count=summary.changed),
        _("unchanged: {count}").format(count=summary.unchanged),
        _("rows with errors: {count}").format(count=summary.rejected),
    ]
    if summary.new_categories:
        names = ", ".join(escape(name) for name in summary.new_categories)
        lines.append(_("New categories to create: {names}.").format(names=names))
    return "\n".join(lines)


def _preview(
    summary: ImportSummary, file_name: str, ticket: str
) -> tuple[str, InlineKeyboardMarkup]:
    count = summary.new + summary.changed
    text = _summary_text(summary, file_name) + "\n\n"
    if summary.rejected:
        text += _(
            "Apply writes {count} products; the rows with errors are left out (see the report)."
        ).format(count=count)
    else:
        text += _("Apply writes {count} products in one go.").format(count=count)
    builder = KeyboardBuilder()
    builder.button(
        text=_("Apply ({count})").format(count=count),
        callback_data=ImportCD(action=ImportAction.APPLY, ticket=ticket),
    )
    builder.button(
        text=_("Cancel"), callback_data=ImportCD(action=ImportAction.CANCEL, ticket=ticket)
    )
    return text, builder.as_markup()


def _counts(summary: ImportSummary) -> dict[str, object]:
    """The summary as it reads back from the FSM storage (JSON)."""
    return {**asdict(summary), "new_categories": list(summary.new_categories)}


async def read_document(bot: Bot, document: Document, settings: Settings) -> Table:
    """The table of a file sent to the bot, within IMPORT_MAX_BYTES and IMPORT_MAX_ROWS
    (ImportRefused otherwise, a file too big before a byte is downloaded)."""
    limits = ImportLimits(settings.imports.max_bytes, settings.imports.max_rows)
    check_size(document.file_size or 0, limits)
    buffer = io.BytesIO()
    try:
        await bot.download(document, destination=buffer)
    except TelegramBadRequest as error:
        if "too big" in error.message:
            raise ImportRefused(FileProblem.TOO_LARGE, "> 20", limit=limits.max_bytes) from None
        raise
    return read_table(buffer.getvalue(), document.file_name or "", limits)


async def send_error_report(message: Message, errors: list[RowError], file_name: str) -> None:
    """The rejected rows of a file as a CSV document (row, column, reason)."""
    await message.answer_document(
        BufferedInputFile(error_report(errors, _), filename=f"{file_name}.errors.csv"),
        caption=_("The rows left out: row, column and reason."),
    )


async def _plan(
    bot: Bot,
    session: AsyncSession,
    shop: ChannelInfo,
    actor: int,
    document: Document,
    settings: Settings,
    *,
    lock: bool,
) -> tuple[CatalogImport, ImportPlan]:
    table = await read_document(bot, document, settings)
    importer = CatalogImport(session, shop.shop_id, actor_telegram_id=actor)
    return importer, await importer.plan(table, lock=lock)


@router.message(Command("import"))
async def import_command(message: Message) -> None:
    await message.answer(
        _(
            "Send me the catalog as a .csv or .xlsx file. The first row names the columns, "
            "in any order: {columns}. Only sku is required; other columns become attributes. "
            "You will see what changes before anything is applied."
        ).format(columns=", ".join(COLUMNS))
    )


@router.message(Matches(F.document.func(_is_table)))
async def import_file(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    assert message.document is not None and message.from_user is not None
    document = message.document
    try:
        _importer, plan = await _plan(
            bot, session, shop, message.from_user.id, document, settings, lock=False
        )
    except ImportRefused as refused:
        await message.answer(refusal_text(refused, _))
        return
    await _show_preview(message, state, document, plan)


async def _show_preview(
    message: Message, state: FSMContext, document: Document, plan: ImportPlan
) -> None:
    summary, name = plan.summary, document.file_name or "catalog"
    if summary.new + summary.changed == 0:
        await state.clear()
        await message.answer(_summary_text(summary, name) + "\n\n" + _("Nothing to change."))
    else:
        ticket = secrets.token_hex(4)
        await state.set_state(CatalogImportFlow.preview)
        await state.set_data(
            {"ticket": ticket, "document": document.model_dump(), "summary": _counts(summary)}
        )
        text, keyboard = _preview(summary, name, ticket)
        await message.answer(text, reply_markup=keyboard)
    if plan.errors:
        await send_error_report(message, plan.errors, name)


async def previewed(
    query: CallbackQuery, state: FSMContext, preview: State, ticket: str
) -> dict[str, Any] | None:
    """The FSM data of the preview whose button was pressed; None if that preview is
    stale (applied, cancelled, or replaced by a newer one)."""
    data = await state.get_data()
    if await state.get_state() != preview.state or data.get("ticket") != ticket:
        return None
    return data


@router.callback_query(ImportCD.filter())
async def import_decision(
    query: CallbackQuery,
    callback_data: ImportCD,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    data = await previewed(query, state, CatalogImportFlow.preview, callback_data.ticket)
    if data is None:
        await query.answer(_("This import is already applied or cancelled."), show_alert=True)
        return
    await query.answer()
    if callback_data.action is ImportAction.CANCEL:
        await state.clear()
        await replace_screen(query, _("Import cancelled; nothing was changed."), None)
        return
    document = Document.model_validate(data["document"])
    try:
        importer, plan = await _plan(
            bot, session, shop, query.from_user.id, document, settings, lock=True
        )
    except ImportRefused as refused:  # the file cannot be fetched again as it was
        await state.clear()
        await replace_screen(query, refusal_text(refused, _), None)
        return
    if _counts(plan.summary) != data["summary"]:
        # The catalog changed since the preview: show what the file does now.
        await replace_screen(query, _("The catalog has changed since the preview."), None)
        if isinstance(query.message, Message):
            await _show_preview(query.message, state, document, plan)
        return
    summary = await importer.apply(plan)
    await state.clear()
    await replace_screen(
        query,
        _("Imported: {new} new products, {changed} changed.").format(
            new=summary.new, changed=summary.changed
        )
        + (
            " " + _("{count} rows with errors were left out.").format(count=summary.rejected)
            if summary.rejected
            else ""
        ),
        None,
    )
