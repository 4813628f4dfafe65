"""Token accounting: what each shop's assistant asked of the LLM provider, per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import LlmUsage


@dataclass(frozen=True)
class Usage:
    """Requests and tokens (prompt: in, completion: out) of one shop on one day."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


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
        table = LlmUsage.__table__
        await self._session.execute(
            insert(LlmUsage)
            .values(
                shop_id=shop_id,
                day=day,
                requests=requests,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
            .on_conflict_do_update(
                index_elements=[LlmUsage.shop_id, LlmUsage.day],
                set_={
                    "requests": table.c.requests + requests,
                    "prompt_tokens": table.c.prompt_tokens + prompt_tokens,
                    "completion_tokens": table.c.completion_tokens + completion_tokens,
                },
            )
        )

    async def of_day(self, shop_id: int, day: date) -> Usage:
        row = await self._session.scalar(
            select(LlmUsage).where(LlmUsage.shop_id == shop_id, LlmUsage.day == day)
        )
        if row is None:
            return Usage()
        return Usage(row.requests, row.prompt_tokens, row.completion_tokens)
