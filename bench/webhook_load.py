"""The webhook load: updates from distinct users, posted concurrently, and their replies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

import aiohttp

from bench.webhook_channels import Update
from bench.webhook_targets import Target


@dataclass
class Load:
    """What the client saw while posting."""

    sent_at: dict[int, float]  # user -> time.monotonic() when its POST started
    ack_ms: list[float]
    failed: int
    first_post: float


async def post_all(
    http: aiohttp.ClientSession, target: Target, updates: list[Update], concurrency: int
) -> Load:
    """POST every update with `concurrency` requests in flight."""
    load = Load(sent_at={}, ack_ms=[], failed=0, first_post=time.monotonic())
    pending = iter(updates)

    async def poster() -> None:
        for update in pending:  # one shared iterator: each update is posted once
            started = time.monotonic()
            load.sent_at[update.user] = started
            try:
                async with http.post(
                    target.webhook_url, data=update.body, headers=update.headers
                ) as response:
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


async def wait_replies(
    target: Target, users: Iterable[int], *, deadline: float
) -> dict[int, float]:
    """Poll (every 100 ms) until every user got a reply or the deadline passes."""
    users = list(users)
    while True:
        replies = target.channel.replies(users)
        if len(replies) >= len(users) or time.monotonic() > deadline:
            return replies
        if not target.child.alive():
            raise RuntimeError(f"{target.name} died:\n{target.child.log_tail()}")
        await asyncio.sleep(0.1)


async def run_load(
    target: Target, updates: list[Update], *, concurrency: int, within: float
) -> tuple[Load, dict[int, float]]:
    """Post `updates` over keep-alive connections, then wait up to `within` seconds (from
    the first POST) for their replies."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as http:
        load = await post_all(http, target, updates, concurrency)
    replies = await wait_replies(target, load.sent_at, deadline=load.first_post + within)
    return load, replies
