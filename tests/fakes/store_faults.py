"""What the fake online stores (Shopify, WooCommerce) share: failures injected after a
number of good answers, and a wall clock for `updated_at` that tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class Faults:
    """``inject(500, times=3, after=2)``: after 2 more good answers, answer 500 three
    times (with ``Retry-After`` when given), then answer normally again."""

    planned: list[tuple[int, int, int, str | None]] = field(default_factory=list)
    answered: dict[int, int] = field(default_factory=dict)  # status -> times

    def inject(
        self, status: int, *, times: int = 1, after: int = 0, retry_after: str | None = None
    ) -> None:
        self.planned.append((after, status, times, retry_after))

    def next(self) -> tuple[int, str | None] | None:
        """The failure to answer now, or None (then the answer counts as a good one)."""
        if not self.planned:
            return None
        after, status, times, retry_after = self.planned[0]
        if after > 0:
            self.planned[0] = (after - 1, status, times, retry_after)
            return None
        if times <= 1:
            self.planned.pop(0)
        else:
            self.planned[0] = (0, status, times - 1, retry_after)
        self.answered[status] = self.answered.get(status, 0) + 1
        return status, retry_after


class WallClock:
    """The store's idea of now: moves only when told to (``tick``)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 60.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
