"""The times of a schedule as staff type them, in the shop's time zone: `2026-11-28 09:00`,
`28.11.2026 09:00`, `tomorrow 9:00` / `завтра 9:00`; refused when past, too far ahead,
or a revert that is not after the apply."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from souk.errors import InvalidInput

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+|T)(\d{1,2})[:.](\d{2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2})[:.](\d{2})")
_RELATIVE = re.compile(
    r"(today|tomorrow|сегодня|завтра)\s+(?:at\s+|в\s+)?(\d{1,2})(?:[:.](\d{2}))?",
    re.IGNORECASE,
)
_DAYS_AHEAD = {"today": 0, "сегодня": 0, "tomorrow": 1, "завтра": 1}
TIME_FORMAT = "%Y-%m-%d %H:%M"


class TimeProblem(enum.StrEnum):
    FORMAT = "format"
    PAST = "past"
    TOO_FAR = "too_far"
    NOT_AFTER_APPLY = "not_after_apply"


class BadTime(InvalidInput):
    """A time that cannot be used, and why."""

    def __init__(self, problem: TimeProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Window:
    """When a schedule applies and when it reverts (None: never)."""

    apply_at: datetime
    revert_at: datetime | None


def _local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    try:
        return datetime.combine(day, time(hour, minute), tzinfo=zone)
    except ValueError:
        raise BadTime(TimeProblem.FORMAT) from None


def parse_time(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The moment `text` names in `zone` (as UTC), or BadTime(FORMAT)."""
    text = " ".join(text.split())
    if match := _ISO.fullmatch(text):
        year, month, day, hour, minute = (int(part) for part in match.groups())
    elif match := _DOTTED.fullmatch(text):
        day, month, year, hour, minute = (int(part) for part in match.groups())
    elif match := _RELATIVE.fullmatch(text):
        today = now.astimezone(zone).date()
        moment = today + timedelta(days=_DAYS_AHEAD[match.group(1).lower()])
        minutes = int(match.group(3) or 0)
        return _local(moment, int(match.group(2)), minutes, zone).astimezone(UTC)
    else:
        raise BadTime(TimeProblem.FORMAT)
    try:
        moment = date(year, month, day)
    except ValueError:
        raise BadTime(TimeProblem.FORMAT) from None
    return _local(moment, hour, minute, zone).astimezone(UTC)


def check_time(moment: datetime, now: datetime, max_days_ahead: int) -> datetime:
    """`moment` if it is in the future and not beyond `max_days_ahead`, else BadTime."""
    if moment <= now:
        raise BadTime(TimeProblem.PAST)
    if moment > now + timedelta(days=max_days_ahead):
        raise BadTime(TimeProblem.TOO_FAR)
    return moment


def check_window(window: Window, now: datetime, max_days_ahead: int) -> Window:
    """The window if both its times can be used (BadTime otherwise)."""
    check_time(window.apply_at, now, max_days_ahead)
    if window.revert_at is not None:
        if window.revert_at <= window.apply_at:
            raise BadTime(TimeProblem.NOT_AFTER_APPLY)
        check_time(window.revert_at, now, max_days_ahead)
    return window


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """`moment` as the shop's clock shows it: 2026-11-28 09:00."""
    return moment.astimezone(zone).strftime(TIME_FORMAT)
