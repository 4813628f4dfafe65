"""Processes stored inbound updates: exactly once, one user at a time, in order.

`submit(chat)` is called once per stored update (by the webhook right after the
INSERT, or by the sweep for updates nobody picked up). Each call processes the
oldest pending update of that user, so the number of calls matches the number of
updates without the caller knowing which update it will get. Inside one process a
lock per user keeps waiting tasks off the connection pool; across processes the
database advisory lock in `InboxService.claim_next` does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from souk.channels.rendered import ANSWERING, Answering
from souk.config import InboxSettings
from souk.db.models import Direction
from souk.logs import get_logger
from souk.metrics import HANDLER_SECONDS
from souk.services.inbox import ChatRef, InboxService, StoredUpdate, UpdateOutcome
from souk.services.shops import ChannelInfo

log = get_logger("souk.inbox")


@dataclass(frozen=True)
class Resolved:
    """A stored update as the dispatcher takes it: the bot that received it, its channel,
    the aiogram Update, and what else handlers get (e.g. the customer's platform id)."""

    bot: Bot
    channel: ChannelInfo
    update: Update
    data: dict[str, object] = field(default_factory=dict)
    answering: Answering | None = None  # the message answered, on a rendered channel


#: Turns a stored update into what the dispatcher needs; None if its receiver is gone.
UpdateResolver = Callable[[StoredUpdate], Awaitable[Resolved | None]]


class _KeyedLocks:
    """asyncio locks per key, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[ChatRef, tuple[asyncio.Lock, int]] = {}

    def __contains__(self, key: ChatRef) -> bool:
        """Whether work for `key` is running or waiting in this process."""
        return key in self._locks

    @contextlib.asynccontextmanager
    async def hold(self, key: ChatRef) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class UpdateProcessor:
    """Feeds stored updates to the dispatcher and marks them done in the same transaction."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        session_factory: async_sessionmaker[AsyncSession],
        autocommit_engine: AsyncEngine,
        resolvers: dict[str, UpdateResolver],
        settings: InboxSettings,
    ) -> None:
        self._dispatcher = dispatcher
        self._session_factory = session_factory
        self._autocommit_engine = autocommit_engine
        self._resolvers = resolvers
        self._settings = settings
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._locks = _KeyedLocks()
        self._tasks: set[asyncio.Task[object]] = set()
        self._room = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None

    def submit(self, chat: ChatRef, *, drain: bool = False) -> None:
        """Process the oldest pending update of `chat` (or all of them) in the background."""
        work = self.drain(chat) if drain else self.process_next(chat)
        task: asyncio.Task[object] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if len(self._tasks) < self._settings.max_backlog:
            self._room.set()

    async def wait_for_room(self) -> None:
        """Backpressure: return once this process's backlog is under INBOX_MAX_BACKLOG.

        Called after an update is stored and before it is acknowledged, so a sender that
        outpaces processing is slowed down (Telegram keeps what it has not delivered)
        instead of the backlog, and with it memory and reply latency, growing unbounded.
        """
        while len(self._tasks) >= self._settings.max_backlog:
            self._room.clear()
            await self._room.wait()

    async def drain(self, chat: ChatRef) -> int:
        """Process every pending update of `chat`, oldest first; returns how many."""
        count = 0
        while await self.process_next(chat):
            count += 1
        return count

    async def process_next(self, chat: ChatRef) -> bool:
        """Process one pending update of `chat`; False if there was none."""
        async with self._locks.hold(chat), self._slots:
            try:
                return await self._process_next(chat)
            except Exception:
                # The transaction rolled back: the update stays pending for the sweep.
                log.exception(
                    "update processing failed", receiver=chat.receiver, chat_key=chat.chat_key
                )
                return False

    async def _process_next(self, chat: ChatRef) -> bool:
        async with self._session_factory() as session:
            transaction = await session.begin()
            connection = await session.connection()
            stored = await InboxService.claim_next(connection, chat)
            if stored is None:
                await transaction.commit()
                return False
            started = time.perf_counter()
            outcome = UpdateOutcome()
            try:
                await self._feed(session, stored, outcome)
            except Exception as error:
                # Handlers' errors are answered by the error router and land in `outcome`;
                # what gets here broke the pipeline itself.
                log.exception(
                    "update failed",
                    update_id=stored.external_id,
                    receiver=stored.receiver,
                    kind=stored.kind,
                )
                outcome.error = type(error).__name__
            if outcome.error is None:
                await InboxService.complete(connection, stored.id, messages=outcome.messages)
                await transaction.commit()
            else:
                # Recorded on a connection of its own while this transaction still holds the
                # user's lock (nobody can pick the update up again), then the handler's
                # writes are undone. No savepoint per update: failures pay, not successes.
                # What the customer wrote stays in the log; the replies were not sent.
                inbound = [row for row in outcome.messages if row.direction is Direction.IN]
                async with self._autocommit_engine.connect() as own:
                    await InboxService.complete(
                        own, stored.id, error=outcome.error, messages=inbound
                    )
                await transaction.rollback()
        HANDLER_SECONDS.labels(stored.channel.value, stored.kind).observe(
            time.perf_counter() - started
        )
        return True

    async def _feed(
        self, session: AsyncSession, stored: StoredUpdate, outcome: UpdateOutcome
    ) -> None:
        resolver = self._resolvers.get(stored.channel.value)
        resolved = await resolver(stored) if resolver else None
        if resolved is None:
            raise LookupError(f"no active receiver {stored.receiver} for a stored update")
        answering = ANSWERING.set(resolved.answering)
        try:
            await self._dispatcher.feed_update(
                resolved.bot,
                resolved.update,
                session=session,
                shop=resolved.channel,
                shop_id=resolved.channel.shop_id,
                channel=stored.channel,
                received_at=stored.received_at.timestamp(),
                outcome=outcome,
                **resolved.data,
            )
        finally:
            ANSWERING.reset(answering)

    async def sweep(self, *, older_than: timedelta) -> int:
        """Submit every user with unprocessed updates older than `older_than`."""
        async with self._session_factory() as session:
            chats = await InboxService.pending_chats(session, older_than=older_than)
        # A backlog this process is already working through is not lost: resubmitting it
        # would only add empty claims when the process is busiest.
        chats = [chat for chat in chats if chat not in self._locks]
        for chat in chats:
            self.submit(chat, drain=True)
        return len(chats)

    def start_sweeping(self) -> None:
        """Pick up what a crash left at once, then keep looking for stragglers."""
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        await self.sweep(older_than=timedelta(0))
        stale = timedelta(seconds=self._settings.stale_seconds)
        while True:
            await asyncio.sleep(self._settings.sweep_seconds)
            try:
                await self.sweep(older_than=stale)
            except Exception:
                log.exception("inbox sweep failed")

    async def close(self) -> None:
        """Stop sweeping and wait for the updates in progress (graceful shutdown)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
