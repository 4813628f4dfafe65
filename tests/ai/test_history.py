"""The assistant's memory: the last messages per conversation in Redis, and the part of
them that fits the token budget."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from souk.ai.history import ConversationMemory, Said, estimated_tokens, within_budget


def test_the_latest_messages_that_fit_are_kept_in_order() -> None:
    history = [Said("user", "a" * 400), Said("assistant", "b" * 40), Said("user", "c" * 40)]
    assert estimated_tokens("c" * 40) == 11
    assert within_budget(history, 22) == history[1:]
    assert within_budget(history, 21) == history[2:]
    assert within_budget(history, 1000) == history
    assert within_budget(history, 5) == []


async def test_the_memory_keeps_the_last_messages_of_each_conversation(redis: Redis) -> None:
    memory = ConversationMemory(redis, keep=3, ttl_seconds=60)
    shop = secrets.randbelow(10**9)
    for n in range(4):
        await memory.add(shop, 1, Said("user", f"q{n}"))
    await memory.add(shop, 2, Said("user", "other"), Said("assistant", "answer"))
    assert await memory.recent(shop, 1) == [Said("user", f"q{n}") for n in (1, 2, 3)]
    assert await memory.recent(shop, 2) == [Said("user", "other"), Said("assistant", "answer")]
    assert 0 < await redis.ttl(f"souk:assistant:history:{shop}:1") <= 60


async def test_a_memory_of_nothing_keeps_nothing(redis: Redis) -> None:
    memory = ConversationMemory(redis, keep=0, ttl_seconds=60)
    await memory.add(5, 5, Said("user", "q"))
    assert await memory.recent(5, 5) == []
