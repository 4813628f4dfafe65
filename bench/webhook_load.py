"""The webhook load: updates from distinct users, posted concurrently, and their replies."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass

import aiohttp

from bench.webhook_targets import Target
from souk.web import SECRET_HEADER
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import message

Update = tuple[int, bytes]  # (user/chat id, JSON body)


@dataclass
class Load:
    """What the client saw while posting."""

    sent_at: dict[int, float]  # chat id -> time.monotonic() when its POST started
    ack_ms: list[float]
    failed: int
    first_post: float


def build_updates(count: int, *, first_user: int, first_update_id: int, text: str) -> list[Update]:
    """One message from each of `count` distinct users, in the Bot API's own format."""
    return [
        (
            user_id,
            json.dumps(
                message(user_id, f"{text} {index}", update_id=first_update_id + index)
            ).encode(),
        )
        for index, user_id in enumerate(range(first_user, first_user + count))
    ]


async def post_all(
    http: aiohttp.ClientSession, target: Target, updates: list[Update], concurrency: int
) -> Load:
    """POST every update with `concurrency` requests in flight."""
    load = Load(sent_at={}, ack_ms=[], failed=0, first_post=time.monotonic())
    headers = {SECRET_HEADER: target.secret, "Content-Type": "application/json"}
    pending = iter(updates)

    async def poster() -> None:
        for chat_id, body in pending:  # one shared iterator: each update is posted once
            started = time.monotonic()
            load.sent_at[chat_id] = started
            try:
                async with http.post(target.webhook_url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                load.ack_ms.append((time.monotonic() - started) * 1000.0)
            else:
                load.failed += 1

    await asyncio.gather(*(poster() for _ in range(concurrency)))
    return load


def first_replies(api: FakeBotAPI, chats: Iterable[int]) -> dict[int, float]:
    """chat id -> when the fake recorded the first successful sendMessage to it."""
    wanted = set(chats)
    seen: dict[int, float] = {}
    for call in api.calls("sendMessage"):
        chat_id = call.params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in wanted and chat_id not in seen:
            seen[chat_id] = call.at
    return seen


async def wait_replies(
    api: FakeBotAPI, chats: Iterable[int], *, deadline: float, target: Target
) -> dict[int, float]:
    """Poll (every 100 ms) until every chat got its reply or the deadline passes."""
    chats = list(chats)
    while True:
        replies = first_replies(api, chats)
        if len(replies) >= len(chats) or time.monotonic() > deadline:
            return replies
        if not target.child.alive():
            raise RuntimeError(f"{target.name} died:\n{target.child.log_tail()}")
        await asyncio.sleep(0.1)


async def run_load(
    api: FakeBotAPI, target: Target, updates: list[Update], *, concurrency: int, within: float
) -> tuple[Load, dict[int, float]]:
    """Post `updates` over keep-alive connections, then wait up to `within` seconds (from
    the first POST) for their replies."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as http:
        load = await post_all(http, target, updates, concurrency)
    replies = await wait_replies(
        api, load.sent_at, deadline=load.first_post + within, target=target
    )
    return load, replies
