"""What the assistant remembers of a conversation: the last few questions and answers.

Kept in Redis per (shop, customer): a short list, trimmed on every write and forgotten
after ASSISTANT_HISTORY_HOURS of silence. Only the texts are kept, not the tool calls
or their results: a price from an earlier turn is stale, and the model is told to ask
the tools again. (The conversation log in the `messages` table is the takeover and
staff's record; this is the assistant's working memory, cheap to read on every turn.)

What is sent with a question is the most recent part that fits ASSISTANT_CONTEXT_TOKENS,
estimated at 4 characters a token (no tokenizer: every provider counts differently).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Said:
    """One message of the conversation: the customer's (`user`) or the assistant's."""

    role: Literal["user", "assistant"]
    text: str


def estimated_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def within_budget(history: Sequence[Said], tokens: int) -> list[Said]:
    """The latest messages of `history` (oldest first) whose estimate fits `tokens`."""
    kept: list[Said] = []
    for said in reversed(history):
        tokens -= estimated_tokens(said.text)
        if tokens < 0:
            break
        kept.append(said)
    return kept[::-1]


class ConversationMemory:
    """The last `keep` messages of each conversation, for `ttl_seconds` after the last."""

    def __init__(self, redis: Redis, *, keep: int, ttl_seconds: float) -> None:
        self._redis = redis
        self._keep = keep
        self._ttl = max(int(ttl_seconds), 1)

    @staticmethod
    def _key(shop_id: int, customer_id: int) -> str:
        return f"souk:assistant:history:{shop_id}:{customer_id}"

    async def recent(self, shop_id: int, customer_id: int) -> list[Said]:
        """Oldest first."""
        if not self._keep:
            return []
        raw = await self._redis.lrange(self._key(shop_id, customer_id), 0, -1)
        found = []
        for item in raw:
            entry = json.loads(item)
            if entry.get("role") in ("user", "assistant") and isinstance(entry.get("text"), str):
                found.append(Said(entry["role"], entry["text"]))
        return found

    async def add(self, shop_id: int, customer_id: int, *said: Said) -> None:
        if not self._keep or not said:
            return
        key = self._key(shop_id, customer_id)
        values = [json.dumps({"role": s.role, "text": s.text}, ensure_ascii=False) for s in said]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *values)
            pipe.ltrim(key, -self._keep, -1)
            pipe.expire(key, self._ttl)
            await pipe.execute()
