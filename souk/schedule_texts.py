"""Texts about scheduled changes shown to staff (HTML, translated): the list of schedules,
a schedule's times, and what applying, reverting or cancelling one did."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from souk.db.models import RowResult, ScheduleState
from souk.formatting import MESSAGE_LIMIT, money, short_title, shorten
from souk.services.schedule_changes import ChangedBy, ChangeKind
from souk.services.schedule_runs import ScheduleAction, ScheduleOutcome, Skipped
from souk.services.schedule_times import BadTime, TimeProblem, Window, local_text
from souk.services.schedules import PlanSummary, ScheduleInfo
from souk.services.shops import shop_zone

_MORE_ROOM = 60  # kept free for the "…and N more." line
_NAMES_LIMIT = 300  # of the unread columns' names in a preview


def state_name(state: ScheduleState) -> str:
    names = {
        ScheduleState.PENDING: _("waiting to apply"),
        ScheduleState.ACTIVE: _("applied, waiting to revert"),
        ScheduleState.APPLIED: _("applied for good"),
        ScheduleState.REVERTED: _("reverted"),
        ScheduleState.CANCELLED: _("cancelled"),
    }
    return names[state]


def window_text(window: Window, zone: ZoneInfo) -> str:
    """The times as the shop's clock shows them ("Applies 2026-11-28 09:00, ...")."""
    applies = local_text(window.apply_at, zone)
    if window.revert_at is None:
        return _("Applies {apply}; no revert.").format(apply=applies)
    return _("Applies {apply}, reverts {revert}.").format(
        apply=applies, revert=local_text(window.revert_at, zone)
    )


def time_examples() -> str:
    return _("For example: 2026-11-28 09:00, 28.11.2026 09:00 or tomorrow 9:00.")


def time_problem(error: BadTime, max_days: int, now: str, apply: str | None) -> str:
    """Why a typed time is refused; `now` and `apply` as the shop's clock shows them."""
    if error.problem is TimeProblem.PAST:
        return _("That time has passed: it is {now} in the shop now.").format(now=now)
    if error.problem is TimeProblem.TOO_FAR:
        return _("That is too far ahead: a schedule reaches {days} days at most.").format(
            days=max_days
        )
    if error.problem is TimeProblem.NOT_AFTER_APPLY and apply is not None:
        return _("The revert must come after the apply ({apply}).").format(apply=apply)
    return _("I cannot read that time.") + " " + time_examples()


def preview_text(summary: PlanSummary, file_name: str, window: Window, zone: ZoneInfo) -> str:
    """What a file schedules, before it is confirmed."""
    lines = [
        _("Schedule from “{file}”: {rows} rows, {valid} to change, {rejected} with errors.").format(
            file=escape(file_name),
            rows=summary.rows,
            valid=summary.valid,
            rejected=summary.rejected,
        ),
        window_text(window, zone),
    ]
    if summary.ignored:
        names = escape(shorten(", ".join(summary.ignored), _NAMES_LIMIT))
        lines.append(_("Columns left unread: {names}.").format(names=names))
    return "\n".join(lines)


def schedule_list(schedules: list[ScheduleInfo], zone: ZoneInfo) -> str:
    if not schedules:
        return _("No scheduled changes. New schedule: send a file of SKUs and prices.")
    lines = [_("Scheduled changes (times in {zone}):").format(zone=zone.key)]
    for schedule in schedules:
        revert = local_text(schedule.revert_at, zone) if schedule.revert_at else _("no revert")
        rows = _("{count} rows").format(count=schedule.rows)
        lines.append(
            f"#{schedule.id} · {escape(short_title(schedule.file_name))} · {rows} · "
            f"{local_text(schedule.apply_at, zone)} → {revert} · {state_name(schedule.state)}"
        )
    return "\n".join(lines)


def _value(value: Decimal | int | None, currency: str, language: str) -> str:
    if isinstance(value, Decimal) and currency:
        return money(value, currency, language)
    return str(value)


def _changer(changed_by: ChangedBy | None, zone: ZoneInfo) -> str:
    if changed_by is None:
        return _("changed by someone")
    at = local_text(changed_by.at, zone)
    if changed_by.kind is ChangeKind.STAFF:
        return _("changed by {name} at {time}").format(name=escape(changed_by.who), time=at)
    if changed_by.kind is ChangeKind.ORDER:
        return _("order #{number} at {time}").format(number=changed_by.who, time=at)
    if changed_by.kind is ChangeKind.IMPORT:
        return _("an import at {time}").format(time=at)
    if changed_by.kind is ChangeKind.SCHEDULE:
        return _("another schedule at {time}").format(time=at)
    return _("changed at {time}").format(time=at)


def skipped_line(skipped: Skipped, zone: ZoneInfo, language: str) -> str:
    sku, row = escape(skipped.sku), skipped.row
    if skipped.result is RowResult.GONE:
        return _("{sku} (row {row}): the product was deleted.").format(sku=sku, row=row)
    if skipped.result is RowResult.INACTIVE:
        return _("{sku} (row {row}): the product is off sale.").format(sku=sku, row=row)
    if skipped.result is RowResult.BELOW_FLOOR:
        return _("{sku} (row {row}): {price} is below its cost, {cost}.").format(
            sku=sku,
            row=row,
            price=_value(skipped.wanted, skipped.currency, language),
            cost=_value(skipped.now, skipped.currency, language),
        )
    line = (
        _("{sku}: the price is {now}, not {set} ({who}).")
        if skipped.field == "price"
        else _("{sku}: the stock is {now}, not {set} ({who}).")
    )
    return line.format(
        sku=sku,
        now=_value(skipped.now, skipped.currency, language),
        set=_value(skipped.wanted, skipped.currency, language),
        who=_changer(skipped.changed_by, zone),
    )


def _heading(outcome: ScheduleOutcome, zone: ZoneInfo) -> str:
    number, rows, done = outcome.schedule_id, outcome.rows, outcome.done
    if outcome.action is ScheduleAction.CANCELLED:
        return _("Schedule #{id} is cancelled; nothing was changed.").format(id=number)
    if outcome.action is ScheduleAction.REVERTED:
        return _("Schedule #{id} reverted: {done} of {rows} rows restored.").format(
            id=number, done=done, rows=rows
        )
    heading = _("Schedule #{id} applied: {done} of {rows} rows changed.").format(
        id=number, done=done, rows=rows
    )
    if outcome.revert_at is None:
        return heading + " " + _("It does not revert.")
    return (
        heading + " " + _("It reverts at {time}.").format(time=local_text(outcome.revert_at, zone))
    )


def outcome_text(outcome: ScheduleOutcome, language: str) -> str:
    """What a run did, with the rows or values it left out, within one message."""
    zone = shop_zone(outcome.timezone)
    lines = [_heading(outcome, zone)]
    if outcome.skipped:
        lines.append(
            _("Left as they are, changed since the schedule:")
            if outcome.action is ScheduleAction.REVERTED
            else _("Skipped:")
        )
    size = sum(len(line) + 1 for line in lines)
    for shown, skipped in enumerate(outcome.skipped):
        line = "• " + skipped_line(skipped, zone, language)
        if size + len(line) + 1 > MESSAGE_LIMIT - _MORE_ROOM:
            left = len(outcome.skipped) - shown
            lines.append(_("…and {count} more.").format(count=left))
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)
