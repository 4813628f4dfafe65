"""Token accounting: what each shop's assistant asked of the LLM provider, per day."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import LlmUsage

_COUNTERS = ("requests", "prompt_tokens", "completion_tokens")
_NEW = insert(LlmUsage).values({name: bindparam(name) for name in ("shop_id", "day", *_COUNTERS)})
# Built once: building it for each turn cost half a millisecond.
_ADD = _NEW.on_conflict_do_update(
    index_elements=[LlmUsage.shop_id, LlmUsage.day],
    set_={name: LlmUsage.__table__.c[name] + _NEW.excluded[name] for name in _COUNTERS},
)


@dataclass(frozen=True)
class Usage:
    """Requests and tokens (prompt: in, completion: out) of one shop on one day."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Period(enum.Enum):
    """Days counted back from today (UTC): (the first day's distance, the last day's)."""

    TODAY = (0, 0)
    YESTERDAY = (1, 1)
    WEEK = (6, 0)  # the last 7 days, today included
    MONTH = (29, 0)  # the last 30 days, today included

    def days(self, today: date) -> tuple[date, date]:
        first, last = self.value
        return today - timedelta(days=first), today - timedelta(days=last)


class UsageService:
    """Adds to and reads the per-shop, per-day counters (one upsert per assistant turn)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self,
        shop_id: int,
        day: date,
        *,
        requests: int = 1,
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None:
        await self._session.execute(
            _ADD,
            {
                "shop_id": shop_id,
                "day": day,
                "requests": requests,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
            },
        )

    async def periods(self, shop_id: int, today: date) -> dict[Period, Usage]:
        """The shop's usage in each period up to `today`, in one statement."""
        sums = []
        for period in Period:
            first, last = period.days(today)
            within = LlmUsage.day.between(first, last)
            sums += [
                func.coalesce(func.sum(LlmUsage.__table__.c[name]).filter(within), 0)
                for name in _COUNTERS
            ]
        earliest = min(period.days(today)[0] for period in Period)
        row = (
            await self._session.execute(
                select(*sums).where(LlmUsage.shop_id == shop_id, LlmUsage.day >= earliest)
            )
        ).one()
        counters = len(_COUNTERS)
        return {
            period: Usage(*(int(value) for value in row[i * counters : (i + 1) * counters]))
            for i, period in enumerate(Period)
        }

    async def of_day(self, shop_id: int, day: date) -> Usage:
        row = await self._session.scalar(
            select(LlmUsage).where(LlmUsage.shop_id == shop_id, LlmUsage.day == day)
        )
        if row is None:
            return Usage()
        return Usage(row.requests, row.prompt_tokens, row.completion_tokens)
