"""Schedule times as staff type them, read in the shop's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from souk.services.schedule_times import (
    BadTime,
    TimeProblem,
    Window,
    check_window,
    local_text,
    parse_time,
)

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5
NOW = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # already the 28th, 01:00, in Almaty


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-28 09:00", datetime(2026, 11, 28, 4, 0, tzinfo=UTC)),
        ("2026-11-28T09:00", datetime(2026, 11, 28, 4, 0, tzinfo=UTC)),
        (" 28.11.2026   9:00 ", datetime(2026, 11, 28, 4, 0, tzinfo=UTC)),
        ("today 18:30", datetime(2026, 11, 28, 13, 30, tzinfo=UTC)),
        ("tomorrow 9:00", datetime(2026, 11, 29, 4, 0, tzinfo=UTC)),  # the shop's tomorrow
        ("Завтра в 9", datetime(2026, 11, 29, 4, 0, tzinfo=UTC)),
        ("сегодня 23.15", datetime(2026, 11, 28, 18, 15, tzinfo=UTC)),
    ],
)
def test_times_are_read_in_the_shops_zone(typed: str, expected: datetime) -> None:
    assert parse_time(typed, ALMATY, NOW) == expected


@pytest.mark.parametrize(
    "typed",
    ["soon", "2026-11-28", "2026-02-30 09:00", "28.11.2026 24:00", "tomorrow 9:75", "9:00"],
)
def test_other_text_is_not_a_time(typed: str) -> None:
    with pytest.raises(BadTime) as error:
        parse_time(typed, ALMATY, NOW)
    assert error.value.problem is TimeProblem.FORMAT


def test_a_window_applies_in_the_future_reverts_later_and_not_too_far() -> None:
    hour = timedelta(hours=1)
    assert check_window(Window(NOW + hour, None), NOW, 30) == Window(NOW + hour, None)
    refused = {
        Window(NOW, None): TimeProblem.PAST,
        Window(NOW + hour, NOW + hour): TimeProblem.NOT_AFTER_APPLY,
        Window(NOW + hour, NOW): TimeProblem.NOT_AFTER_APPLY,
        Window(NOW + timedelta(days=31), None): TimeProblem.TOO_FAR,
        Window(NOW + hour, NOW + timedelta(days=31)): TimeProblem.TOO_FAR,
    }
    for window, problem in refused.items():
        with pytest.raises(BadTime) as error:
            check_window(window, NOW, 30)
        assert error.value.problem is problem, window
    assert local_text(NOW, ALMATY) == "2026-11-28 01:00"
