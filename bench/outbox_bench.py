"""The outbox benchmark's phases and the state they share: database, fake, Celery, workers."""

from __future__ import annotations

import argparse
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.celery_client import CeleryClient
from bench.processes import PYTHON, Child, souk_env, spawn
from souk.config import Settings
from souk.db.models import ChannelKind
from souk.embedded import ServiceURLs
from souk.services.outbox import OutboxService, Push
from souk.services.shops import ShopService
from tests.fakes.telegram_api import FakeBotAPI

LEASE_SECONDS = 5.0
WORKER_CONCURRENCY = 2
ENQUEUE_CHUNK = 500


@dataclass(frozen=True)
class Phase:
    """A batch of pushes, one per chat from `first_chat`, keyed `key_prefix<index>`."""

    name: str
    pushes: int
    first_chat: int
    key_prefix: str
    kill: bool

    @property
    def chats(self) -> range:
        return range(self.first_chat, self.first_chat + self.pushes)


@dataclass
class Bench:
    """What every phase uses."""

    args: argparse.Namespace
    workdir: Path
    data_dir: Path
    urls: ServiceURLs
    api: FakeBotAPI
    celery: CeleryClient
    session_factory: async_sessionmaker[AsyncSession]
    settings: Settings
    shop_id: int
    bot_id: int
    children: list[Child] = field(default_factory=list)

    async def enqueue(self, phase: Phase) -> float:
        """Enqueue the phase's pushes in chunks of ENQUEUE_CHUNK; seconds it took."""
        started = time.monotonic()
        for start in range(0, phase.pushes, ENQUEUE_CHUNK):
            async with self.session_factory() as session, session.begin():
                outbox = OutboxService(session, self.settings.outbox)
                for index in range(start, min(start + ENQUEUE_CHUNK, phase.pushes)):
                    chat_id = phase.first_chat + index
                    await outbox.enqueue(
                        Push(
                            channel=ChannelKind.TELEGRAM,
                            receiver=str(self.bot_id),
                            chat_id=chat_id,
                            method="sendMessage",
                            payload={
                                "chat_id": chat_id,
                                "text": f"Your order #{index} has shipped",
                            },
                            kind="bench",
                            idempotency_key=f"{phase.key_prefix}{index}",
                            shop_id=self.shop_id,
                        )
                    )
        return time.monotonic() - started

    async def statuses(self, phase: Phase) -> dict[str, int]:
        """Outbox rows of the phase per status."""
        async with self.session_factory() as session:
            rows = await session.execute(
                text(
                    "SELECT status, count(*) FROM outbox WHERE idempotency_key LIKE :prefix "
                    "GROUP BY status"
                ),
                {"prefix": phase.key_prefix + "%"},
            )
            return {str(status): int(count) for status, count in rows}

    def deliveries(self, phase: Phase) -> Counter[int]:
        """Successful sendMessage calls per chat of the phase."""
        chats = phase.chats
        counts: Counter[int] = Counter()
        for call in self.api.calls("sendMessage"):
            chat_id = call.params.get("chat_id")
            if call.bot_id == self.bot_id and isinstance(chat_id, int) and chat_id in chats:
                counts[chat_id] += 1
        return counts

    async def start_worker(self, name: str) -> Child:
        """Start `souk worker` and wait (up to 90 s) until a worker answers a ping."""
        env = souk_env(
            data_dir=self.data_dir,
            urls=self.urls,
            api_base=self.api.base_url,
            extra={
                "WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
                "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
                "LOG_LEVEL": self.args.log_level,
            },
        )
        child = spawn(name, [PYTHON, "-m", "souk", "worker"], env=env, workdir=self.workdir)
        self.children.append(child)
        deadline = time.monotonic() + 90
        while await self.celery.workers_answering() == 0:
            if not child.alive():
                raise RuntimeError(
                    f"{name} exited ({child.process.returncode}):\n{child.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not answer a ping in 90s:\n{child.log_tail()}")
        return child


async def create_shop(
    session_factory: async_sessionmaker[AsyncSession], token: str
) -> tuple[int, int]:
    """A fresh shop with `token` connected; (shop id, bot id)."""
    async with session_factory() as session, session.begin():
        shops = ShopService(session)
        shop = await shops.create(slug=f"bench-{secrets.token_hex(4)}", name="Bench shop")
        channel = await shops.connect_telegram(shop, token)
        return shop.id, int(channel.external_id)
