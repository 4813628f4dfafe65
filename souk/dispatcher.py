"""Builds the Dispatcher: storage, middlewares in order, routers in order."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.ai.assistant import AssistantKit
from souk.ai.embedder import Embedder
from souk.channels.conversation_log import ConversationLogMiddleware
from souk.config import Settings
from souk.handlers import build_routers
from souk.middlewares.db import DbSessionMiddleware
from souk.middlewares.i18n import LanguageMiddleware
from souk.middlewares.takeover import TakeoverPauseMiddleware
from souk.middlewares.tenant import TenantMiddleware
from souk.middlewares.throttling import ThrottlingMiddleware
from souk.services.outbox import OutboxFactory
from souk.services.ratelimit import Rate, RateLimiter
from souk.services.staff import PinGuard
from souk.workers.kick import Jobs


def build_dispatcher(
    *,
    settings: Settings,
    redis: Redis,
    session_factory: async_sessionmaker[AsyncSession],
    limiter: RateLimiter,
    i18n: I18n,
    outbox: OutboxFactory,
    embedder: Embedder,
    assistant: AssistantKit,
    jobs: Jobs,
) -> Dispatcher:
    """One per process. Per-user isolation is the inbox's job (see `channels.processor`),
    so aiogram's own event isolation stays off; FSM state lives in Redis, keyed by bot."""
    storage = RedisStorage(
        redis, key_builder=DefaultKeyBuilder(prefix="souk:fsm", with_bot_id=True, with_destiny=True)
    )
    pin_guard = PinGuard(
        redis,
        attempts=settings.staff.pin_attempts,
        lock_seconds=settings.staff.pin_lock_minutes * 60,
    )
    dispatcher = Dispatcher(
        storage=storage,
        name="souk",
        settings=settings,
        outbox=outbox,
        embedder=embedder,
        assistant=assistant,
        pin_guard=pin_guard,
        jobs=jobs,
    )
    # Order matters: the session first, then who is talking, then whether they may.
    dispatcher.update.outer_middleware(DbSessionMiddleware(session_factory))
    dispatcher.update.outer_middleware(
        TenantMiddleware(admin_ids=frozenset(settings.core.admin_telegram_ids))
    )
    dispatcher.update.outer_middleware(
        ThrottlingMiddleware(
            limiter, Rate(settings.inbox.throttle_rate, settings.inbox.throttle_burst)
        )
    )
    # Then the log of what customers send and are sent, and the bot's silence towards
    # those a person of the shop is answering.
    dispatcher.update.outer_middleware(ConversationLogMiddleware())
    dispatcher.update.outer_middleware(TakeoverPauseMiddleware(i18n, outbox))
    # On every event observer, the error one included, so apologies are translated too.
    LanguageMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*build_routers())
    return dispatcher
