"""The long-lived objects of one process, built once and closed once.

The web process, `souk polling` and each Celery worker process build a `Runtime`
from the settings and the resolved service URLs; handlers, tasks and web views get
what they need from it instead of building clients of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from souk.ai.assistant import AssistantKit
from souk.ai.embedder import LazyEmbedder
from souk.ai.history import ConversationMemory
from souk.ai.llm import LLMClient
from souk.channels.delivery import OutboxDeliverer
from souk.channels.processor import Resolved, UpdateProcessor
from souk.channels.rendered import Answering
from souk.channels.telegram import BotRegistry
from souk.channels.telegram_limits import OutboundLimitMiddleware
from souk.channels.web import WebChats
from souk.channels.whatsapp import WhatsAppNumbers
from souk.channels.whatsapp_bridge import InboundBridge, sender_profile
from souk.config import OutboxSettings, Settings
from souk.connectors.fetch import PageFetcher
from souk.db.models import ChannelKind
from souk.db.session import create_engine, create_session_factory
from souk.dispatcher import build_dispatcher
from souk.embedded import ServiceURLs
from souk.i18n import build_i18n
from souk.logs import get_logger
from souk.notify import StaffNotifier
from souk.pushes import push_held_to_staff
from souk.services.customers import CustomerService
from souk.services.inbox import InboxWriter, StoredUpdate
from souk.services.outbox import ClaimedPush, OutboxFactory
from souk.services.ratelimit import RateLimiter
from souk.services.shops import ChannelInfo
from souk.workers.app import create_celery
from souk.workers.kick import Jobs

log = get_logger("souk.runtime")


@dataclass
class Runtime:
    """Engine, Redis, limiter, bots, translator; and in update-handling processes the
    dispatcher and the update processor."""

    settings: Settings
    urls: ServiceURLs
    engine: AsyncEngine
    intake_engine: AsyncEngine
    inbox_writer: InboxWriter
    session_factory: async_sessionmaker[AsyncSession]
    redis: Redis
    limiter: RateLimiter
    i18n: I18n
    registry: BotRegistry
    numbers: WhatsAppNumbers
    web: WebChats
    outbox: OutboxFactory
    embedder: LazyEmbedder
    assistant: AssistantKit
    dispatcher: Dispatcher | None = None
    processor: UpdateProcessor | None = None
    _fetcher: PageFetcher | None = None

    @classmethod
    def create(
        cls,
        settings: Settings,
        urls: ServiceURLs,
        *,
        handle_updates: bool,
        on_outbox_committed: Callable[[], None] | None = None,
        pool_size: int = 20,
    ) -> Runtime:
        engine = create_engine(urls.database_url, pool_size=pool_size)
        # Webhook acknowledgements get a pool of their own: they must never queue behind
        # handlers that hold connections while they wait for send limits.
        intake_engine = create_engine(
            urls.database_url, pool_size=5, max_overflow=5, autocommit=True
        )
        session_factory = create_session_factory(engine)
        redis = Redis.from_url(urls.redis_url)
        limiter = RateLimiter(redis)

        async def on_unreachable(bot_id: int, chat_id: int) -> None:
            async with session_factory() as session, session.begin():
                changed = await CustomerService(session).mark_unreachable(
                    channel=ChannelKind.TELEGRAM, receiver=str(bot_id), external_id=str(chat_id)
                )
            if changed:
                log.info("customer unreachable", bot_id=bot_id, chat_id=chat_id)

        registry = BotRegistry(
            session_factory=session_factory,
            settings=settings.telegram,
            request_middleware=OutboundLimitMiddleware(
                limiter=limiter, settings=settings.telegram, on_unreachable=on_unreachable
            ),
        )
        runtime = cls(
            settings=settings,
            urls=urls,
            engine=engine,
            intake_engine=intake_engine,
            inbox_writer=InboxWriter(intake_engine),
            session_factory=session_factory,
            redis=redis,
            limiter=limiter,
            i18n=build_i18n(),
            registry=registry,
            numbers=WhatsAppNumbers(
                session_factory=session_factory,
                settings=settings.whatsapp,
                redis=redis,
                limiter=limiter,
            ),
            web=WebChats(session_factory=session_factory, redis=redis),
            outbox=OutboxFactory(settings.outbox, on_outbox_committed),
            embedder=LazyEmbedder(settings.ai),
            assistant=AssistantKit(
                llm=LLMClient(settings.ai) if settings.ai.openai_api_key else None,
                memory=ConversationMemory(
                    redis,
                    keep=settings.assistant.history_messages,
                    ttl_seconds=settings.assistant.history_hours * 3600,
                ),
                settings=settings.assistant,
            ),
        )
        if handle_updates:
            runtime.dispatcher = build_dispatcher(
                settings=settings,
                redis=redis,
                session_factory=session_factory,
                limiter=limiter,
                i18n=runtime.i18n,
                outbox=runtime.outbox,
                embedder=runtime.embedder,
                assistant=runtime.assistant,
                jobs=Jobs(create_celery(settings, urls)),
            )
            runtime.processor = UpdateProcessor(
                dispatcher=runtime.dispatcher,
                session_factory=session_factory,
                autocommit_engine=intake_engine,
                resolvers={
                    ChannelKind.TELEGRAM.value: runtime.resolve_telegram,
                    ChannelKind.WHATSAPP.value: runtime.resolve_whatsapp,
                    ChannelKind.WEB.value: runtime.resolve_web,
                },
                settings=settings.inbox,
            )
        return runtime

    async def resolve_telegram(self, stored: StoredUpdate) -> Resolved | None:
        entry = await self.registry.get(int(stored.receiver))
        if entry is None:
            return None
        update = Update.model_validate(stored.payload, context={"bot": entry.bot})
        return Resolved(entry.bot, entry.channel, update)

    async def resolve_whatsapp(self, stored: StoredUpdate) -> Resolved | None:
        """A WhatsApp message as an aiogram update from the customer's internal id."""
        entry = await self.numbers.get(stored.receiver)
        if entry is None:
            return None
        return await self._bridged(stored, entry.bot, entry.channel, self.numbers)

    async def resolve_web(self, stored: StoredUpdate) -> Resolved | None:
        """A web chat message, through the same bridge as WhatsApp."""
        entry = await self.web.get(stored.receiver)
        if entry is None:
            return None
        return await self._bridged(stored, entry.bot, entry.channel, self.web)

    async def _bridged(
        self,
        stored: StoredUpdate,
        bot: Bot,
        channel: ChannelInfo,
        registry: WhatsAppNumbers | WebChats,
    ) -> Resolved:
        """The customer is found (or created) here, once: their id plays the user and chat
        id of the update, so the tenant middleware takes this `person` as it is."""
        sender = str(stored.payload["sender"])
        name, language = sender_profile(stored.payload)
        async with self.session_factory() as session, session.begin():
            person = await CustomerService(session).touch(
                shop_id=channel.shop_id,
                channel=stored.channel,
                external_id=sender,
                name=name,
                username=None,
                telegram_user_id=None,
                client_language=language,
            )
        customer_id = person.customer_id
        registry.addresses.remember(customer_id, sender)  # the replies' address

        async def menu(typed: str) -> str | None:
            return await registry.menus.choice(stored.receiver, customer_id, typed)

        built = await InboundBridge(
            update_id=stored.id, chat_id=customer_id, payload=stored.payload
        ).update(menu)
        update = Update.model_validate(built.model_dump(exclude_none=True), context={"bot": bot})
        message = stored.payload.get("message")
        wamid = str(message.get("id") or "") if isinstance(message, dict) else ""
        answering = Answering(customer_id, wamid) if wamid else None
        return Resolved(bot, channel, update, data={"person": person}, answering=answering)

    def deliverer(self, settings: OutboxSettings | None = None) -> OutboxDeliverer:
        """The outbox's deliverer over this process's bots and WhatsApp numbers; a push
        held by a closed WhatsApp window is reported to the shop's staff."""

        async def held(session: AsyncSession, push: ClaimedPush) -> None:
            await push_held_to_staff(StaffNotifier(session, self.outbox(session), self.i18n), push)

        return OutboxDeliverer(
            session_factory=self.session_factory,
            registry=self.registry,
            numbers=self.numbers,
            web=self.web,
            templates=self.settings.whatsapp.templates,
            on_held=held,
            settings=settings or self.settings.outbox,
        )

    def page_fetcher(self) -> PageFetcher:
        """The process's fetcher of competitors' pages: one, so that each host's slots,
        spacing and breaker hold across monitoring runs."""
        if self._fetcher is None:
            self._fetcher = PageFetcher(self.settings.monitor)
        return self._fetcher

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.close()
        if self.processor is not None:
            await self.processor.close()
        if self.dispatcher is not None:
            await self.dispatcher.storage.close()
        await self.embedder.close()
        if self.assistant.llm is not None:
            await self.assistant.llm.close()
        await self.registry.close()
        await self.numbers.close()
        await self.redis.aclose()
        await self.engine.dispose()
        await self.intake_engine.dispose()
