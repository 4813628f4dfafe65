"""A new schedule, step by step: the file (CSV or XLSX of `sku,price[,stock]`), the time
to apply, the time to revert (or none), then a preview with the rows' errors as a report
and Confirm / Cancel. Times are typed and shown in the shop's time zone.

As with an import, only the file's id, the times and the preview's counts sit in the FSM
state: Confirm downloads and checks the file again under the shop's schedule lock, and
creates the schedule only if the counts are still those previewed."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import UTC, datetime
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Document, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import Settings
from souk.handlers.filters import PLAIN_TEXT, Matches
from souk.handlers.screens import replace_screen
from souk.handlers.seller.imports import previewed, read_document, send_error_report
from souk.handlers.seller.schedules import schedules_of
from souk.keyboards.callbacks import ScheduleButton, ScheduleCD
from souk.keyboards.schedules import confirm_schedule_keyboard, no_revert_keyboard
from souk.schedule_texts import preview_text, time_examples, time_problem, window_text
from souk.services.import_messages import refusal_text
from souk.services.import_reader import ImportRefused
from souk.services.schedule_times import (
    BadTime,
    Window,
    check_time,
    check_window,
    local_text,
    parse_time,
)
from souk.services.schedules import SchedulePlan
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


class NewSchedule(StatesGroup):
    file = State()
    apply_at = State()
    revert_at = State()
    preview = State()


def _window(data: dict[str, Any]) -> Window:
    revert = data.get("revert_at")
    return Window(
        datetime.fromisoformat(data["apply_at"]), datetime.fromisoformat(revert) if revert else None
    )


def _counts(plan: SchedulePlan) -> dict[str, Any]:
    """The plan's counts as they read back from the FSM storage (JSON)."""
    return {**asdict(plan.summary), "ignored": list(plan.summary.ignored)}


@router.callback_query(ScheduleCD.filter(F.action == ScheduleButton.NEW))
async def new_schedule(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(NewSchedule.file)
    await state.set_data({})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Send the file as a .csv or .xlsx document. The first row names the columns: "
                "sku, price and, if the stock changes too, stock. /cancel stops."
            )
        )


@router.message(StateFilter(NewSchedule), Command("cancel"))
async def cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("All right, nothing was scheduled."))


async def _plan(
    bot: Bot,
    session: AsyncSession,
    shop: ChannelInfo,
    actor: int,
    document: Document,
    settings: Settings,
    window: Window | None,
    *,
    lock: bool = False,
) -> SchedulePlan:
    table = await read_document(bot, document, settings)
    return await schedules_of(session, shop, actor).check(table, window, lock=lock)


async def _nothing_to_schedule(message: Message, plan: SchedulePlan, name: str) -> None:
    if not plan.rows:
        await message.answer(_("The file has no rows under its first row: nothing to schedule."))
        return
    await message.answer(
        _("None of the {rows} rows of “{file}” can be scheduled; see the report.").format(
            rows=plan.rows, file=escape(name)
        )
    )
    await send_error_report(message, plan.errors, name)


@router.message(StateFilter(NewSchedule.file), Matches(F.document))
async def file_sent(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    assert message.document is not None and message.from_user is not None
    document, name = message.document, message.document.file_name or "schedule"
    try:
        plan = await _plan(bot, session, shop, message.from_user.id, document, settings, None)
    except ImportRefused as refused:
        await message.answer(refusal_text(refused, _) + " " + _("Send another file, or /cancel."))
        return
    if not plan.lines:
        await _nothing_to_schedule(message, plan, name)
        return
    await state.set_state(NewSchedule.apply_at)
    await state.set_data({"document": document.model_dump(), "name": name})
    zone = await schedules_of(session, shop, message.from_user.id).zone()
    await message.answer(
        _(
            "Read {rows} rows of “{file}”. When should the changes apply? Shop time ({zone})."
        ).format(rows=plan.rows, file=escape(name), zone=zone.key)
        + " "
        + time_examples()
    )


@router.message(StateFilter(NewSchedule.file), PLAIN_TEXT)
async def file_expected(message: Message) -> None:
    await message.answer(_("Send the file as a document (.csv or .xlsx), or /cancel."))


@router.message(StateFilter(NewSchedule.apply_at), PLAIN_TEXT)
async def apply_time_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    assert message.text is not None and message.from_user is not None
    zone = await schedules_of(session, shop, message.from_user.id).zone()
    now = datetime.now(UTC)
    try:
        apply_at = check_time(
            parse_time(message.text, zone, now), now, settings.schedules.max_days_ahead
        )
    except BadTime as error:
        await message.answer(
            time_problem(error, settings.schedules.max_days_ahead, local_text(now, zone), None)
        )
        return
    await state.set_state(NewSchedule.revert_at)
    await state.update_data(apply_at=apply_at.isoformat())
    await message.answer(
        _("It applies {apply}. When should it revert? A later time, or press “No revert”.").format(
            apply=local_text(apply_at, zone)
        ),
        reply_markup=no_revert_keyboard(),
    )


@router.message(StateFilter(NewSchedule.revert_at), PLAIN_TEXT)
async def revert_time_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    assert message.text is not None and message.from_user is not None
    zone = await schedules_of(session, shop, message.from_user.id).zone()
    now, data = datetime.now(UTC), await state.get_data()
    apply_at = datetime.fromisoformat(data["apply_at"])
    try:
        window = check_window(
            Window(apply_at, parse_time(message.text, zone, now)),
            now,
            settings.schedules.max_days_ahead,
        )
    except BadTime as error:
        text = time_problem(
            error,
            settings.schedules.max_days_ahead,
            local_text(now, zone),
            local_text(apply_at, zone),
        )
        await message.answer(text, reply_markup=no_revert_keyboard())
        return
    await _preview(message, message.from_user.id, bot, state, session, shop, settings, window)


@router.callback_query(
    StateFilter(NewSchedule.revert_at), ScheduleCD.filter(F.action == ScheduleButton.NO_REVERT)
)
async def no_revert(
    query: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    await query.answer()
    data = await state.get_data()
    window = Window(datetime.fromisoformat(data["apply_at"]), None)
    if isinstance(query.message, Message):
        await _preview(
            query.message, query.from_user.id, bot, state, session, shop, settings, window
        )


async def _preview(
    message: Message,
    actor: int,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
    window: Window,
) -> None:
    data = await state.get_data()
    document, name = Document.model_validate(data["document"]), str(data["name"])
    try:
        plan = await _plan(bot, session, shop, actor, document, settings, window)
    except ImportRefused as refused:  # the file cannot be fetched again as it was
        await state.clear()
        await message.answer(refusal_text(refused, _))
        return
    if not plan.lines:
        await state.clear()
        await _nothing_to_schedule(message, plan, name)
        return
    ticket = secrets.token_hex(4)
    await state.set_state(NewSchedule.preview)
    await state.update_data(
        ticket=ticket,
        apply_at=window.apply_at.isoformat(),
        revert_at=window.revert_at.isoformat() if window.revert_at else None,
        counts=_counts(plan),
    )
    zone = await schedules_of(session, shop, actor).zone()
    await message.answer(
        preview_text(plan.summary, name, window, zone),
        reply_markup=confirm_schedule_keyboard(plan.summary.valid, ticket),
    )
    if plan.errors:
        await send_error_report(message, plan.errors, name)


@router.callback_query(
    ScheduleCD.filter(F.action.in_({ScheduleButton.CONFIRM, ScheduleButton.DROP}))
)
async def schedule_decision(
    query: CallbackQuery,
    callback_data: ScheduleCD,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> None:
    data = await previewed(query, state, NewSchedule.preview, callback_data.ticket)
    if data is None:
        await query.answer(_("This schedule is already confirmed or cancelled."), show_alert=True)
        return
    await query.answer()
    await state.clear()
    if callback_data.action is ScheduleButton.DROP:
        await replace_screen(query, _("All right, nothing was scheduled."), None)
        return
    await replace_screen(query, await _confirm(query, data, bot, session, shop, settings), None)


async def _confirm(
    query: CallbackQuery,
    data: dict[str, Any],
    bot: Bot,
    session: AsyncSession,
    shop: ChannelInfo,
    settings: Settings,
) -> str:
    """Check the file again under the lock and create the schedule; what happened."""
    window, document = _window(data), Document.model_validate(data["document"])
    schedules = schedules_of(session, shop, query.from_user.id)
    zone = await schedules.zone()
    now = datetime.now(UTC)
    if window.apply_at <= now:
        return (
            _("The apply time ({apply}) has passed meanwhile; nothing was scheduled.").format(
                apply=local_text(window.apply_at, zone)
            )
            + " "
            + _("Start again with /schedule.")
        )
    try:
        plan = await _plan(
            bot, session, shop, query.from_user.id, document, settings, window, lock=True
        )
    except ImportRefused as refused:
        return refusal_text(refused, _)
    if _counts(plan) != data["counts"]:
        return (
            _("The catalog or the schedules changed since the preview; nothing was scheduled.")
            + " "
            + _("Start again with /schedule.")
        )
    created = await schedules.create(plan, window, str(data["name"]))
    return "\n".join(
        [
            _("Schedule #{id} is set: {count} rows.").format(id=created.id, count=len(plan.lines)),
            window_text(window, zone),
            _("/schedule lists it; /unschedule {id} cancels it.").format(id=created.id),
        ]
    )
