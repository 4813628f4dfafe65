"""Delivers outbox rows through the bots: the notifier's engine.

Each claimed push is sent through the bot's limited session and its row is settled
in its own short transaction right after the platform answers, so a worker killed
mid-batch leaves only its in-flight rows to come back when their lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiogram.methods
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import BufferedInputFile, Message, MessageId
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.rendered import RenderedSession
from souk.channels.telegram import BotRegistry, TelegramBot
from souk.channels.web import WebBot, WebChats
from souk.channels.whatsapp import OutsideWindow, WhatsAppBot, WhatsAppNumbers
from souk.config import OutboxSettings
from souk.db.models import ChannelKind
from souk.logs import get_logger
from souk.metrics import OUTBOX_DELIVERED
from souk.notify import SEND_FILE, parse_whatsapp_media
from souk.services.outbox import TEMPLATE_KEY, ClaimedPush, OutboxService

log = get_logger("souk.outbox")

TELEGRAM_METHODS: dict[str, type[TelegramMethod[object]]] = {
    cls.__api_method__: cls
    for cls in vars(aiogram.methods).values()
    if isinstance(cls, type) and issubclass(cls, TelegramMethod) and hasattr(cls, "__api_method__")
}
# The file parameter of each call that may carry a WhatsApp customer's file.
_FILE_FIELDS: dict[type[TelegramMethod[object]], str] = {
    TELEGRAM_METHODS[method]: field for field, method in SEND_FILE.items()
}
# Told (in the settling transaction) of a push held because the customer's 24-hour
# WhatsApp window is closed and no template is configured for its kind.
HeldCallback = Callable[[AsyncSession, ClaimedPush], Awaitable[None]]
Entry = TelegramBot | WhatsAppBot | WebBot


def _provider_id(entry: Entry | None, outcome: Message | MessageId | bool) -> str | None:
    """The platform's id of a sent push: Telegram's message id (a copy's too), or the id
    a rendered channel's platform gave (a WhatsApp wamid, which its delivery statuses
    name)."""
    if isinstance(outcome, MessageId):
        return str(outcome.message_id)
    if not isinstance(outcome, Message):
        return None
    if entry is not None and isinstance(entry.bot.session, RenderedSession):
        return entry.bot.session.provider_id(outcome.message_id)
    return str(outcome.message_id)


_PERMANENT = (TelegramBadRequest, TelegramNotFound, TelegramUnauthorizedError, ValidationError)
_TRANSIENT = (TelegramNetworkError, TelegramServerError, asyncio.TimeoutError)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)

    def count_error(self, name: str) -> None:
        self.errors[name] = self.errors.get(name, 0) + 1


class OutboxDeliverer:
    """Claims due pushes and sends them, many at once, each through the shared limits."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        registry: BotRegistry,
        settings: OutboxSettings,
        numbers: WhatsAppNumbers | None = None,
        web: WebChats | None = None,
        templates: dict[str, str] | None = None,
        on_held: HeldCallback | None = None,
        concurrency: int = 64,
    ) -> None:
        self._session_factory = session_factory
        self._registry = registry
        self._numbers = numbers
        self._web = web
        self._templates = templates or {}
        self._on_held = on_held
        self._settings = settings
        self._slots = asyncio.Semaphore(concurrency)

    async def run(
        self, *, time_budget: float, stop: Callable[[], bool] | None = None
    ) -> DeliveryReport:
        """Deliver batches until nothing is due, the budget is spent or `stop()` says so
        (the worker is stopping: the batch in hand is finished, no other is claimed)."""
        report = DeliveryReport()
        started = time.monotonic()
        while time.monotonic() - started < time_budget and not (stop and stop()):
            async with self._session_factory() as session, session.begin():
                batch = await OutboxService(session, self._settings).claim(
                    self._settings.batch_size
                )
            if not batch:
                break
            report.batches += 1
            await self._deliver_batch(batch, report)
        report.seconds = time.monotonic() - started
        return report

    async def _deliver_batch(self, batch: list[ClaimedPush], report: DeliveryReport) -> None:
        """Chats in parallel; one chat's pushes one after another, oldest first, so a
        customer reads "confirmed" before "shipped"."""
        pending = {push.id for push in batch}
        chats: dict[tuple[str, str, int], list[ClaimedPush]] = {}
        for push in batch:  # claimed in id order
            chats.setdefault((push.channel.value, push.receiver, push.chat_id), []).append(push)

        async def deliver_in_order(pushes: list[ClaimedPush]) -> None:
            for push in pushes:
                await self._deliver(push, report, pending)

        heartbeat = asyncio.create_task(self._keep_leases(pending))
        try:
            await asyncio.gather(*(deliver_in_order(pushes) for pushes in chats.values()))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _keep_leases(self, pending: set[int]) -> None:
        while True:
            await asyncio.sleep(self._settings.lease_seconds / 3)
            async with self._session_factory() as session, session.begin():
                await OutboxService(session, self._settings).renew_lease(sorted(pending))

    async def _deliver(self, push: ClaimedPush, report: DeliveryReport, pending: set[int]) -> None:
        async with self._slots:
            entry = await self._entry(push)
            outcome = await self._send(push, entry)
        async with self._session_factory() as session, session.begin():
            outbox = OutboxService(session, self._settings)
            if isinstance(outcome, Message | MessageId | bool):
                message_id = _provider_id(entry, outcome)
                await outbox.mark_sent(push.id, message_id)
                report.sent += 1
                OUTBOX_DELIVERED.labels(push.channel.value, "sent").inc()
            elif isinstance(outcome, TelegramRetryAfter):
                await outbox.retry_later(push, str(outcome), after_seconds=outcome.retry_after)
                report.retried += 1
            elif isinstance(outcome, _TRANSIENT) and await outbox.retry_later(push, str(outcome)):
                report.retried += 1
                report.count_error(type(outcome).__name__)
            else:
                await outbox.mark_failed(push.id, f"{type(outcome).__name__}: {outcome}")
                report.failed += 1
                report.count_error(type(outcome).__name__)
                OUTBOX_DELIVERED.labels(push.channel.value, "failed").inc()
                if isinstance(outcome, OutsideWindow) and self._on_held is not None:
                    await self._on_held(session, push)
        pending.discard(push.id)

    async def _entry(self, push: ClaimedPush) -> Entry | None:
        if push.channel is ChannelKind.WHATSAPP:
            return await self._numbers.get(push.receiver) if self._numbers else None
        if push.channel is ChannelKind.WEB:
            return await self._web.get(push.receiver) if self._web else None
        return await self._registry.get(int(push.receiver))

    async def _send(self, push: ClaimedPush, entry: Entry | None) -> object:
        """The platform's answer, or the exception it raised (never raises itself)."""
        method_class = TELEGRAM_METHODS.get(push.method)
        if method_class is None or entry is None:
            return LookupError(f"no bot {push.receiver} or method {push.method}")
        payload = dict(push.payload)
        chosen = payload.pop(TEMPLATE_KEY, None)
        method = method_class.model_validate(payload)
        text = str(payload.get("text") or payload.get("caption") or "")
        try:
            await self._fetch_media(method)
            if isinstance(chosen, str) and isinstance(entry, WhatsAppBot):
                return await entry.session.send_template(method, push.chat_id, chosen, text)
            try:
                return await entry.bot(method)
            except OutsideWindow:
                template = self._templates.get(push.kind)
                if template is None or not isinstance(entry, WhatsAppBot):
                    raise
                return await entry.session.send_template(method, push.chat_id, template, text)
        except TelegramForbiddenError as error:
            return error  # the request middleware has marked the customer unreachable
        except (*_PERMANENT, *_TRANSIENT, TelegramRetryAfter, TelegramAPIError) as error:
            log.warning(
                "push not delivered",
                push_id=push.id,
                method=push.method,
                error=type(error).__name__,
                detail=str(error)[:300],
            )
            return error

    async def _fetch_media(self, method: TelegramMethod[object]) -> None:
        """A WhatsApp customer's file for the staff (`notify.WhatsAppFile`) becomes the
        file itself: downloaded from the number it came to, uploaded with the call."""
        field = _FILE_FIELDS.get(type(method))
        reference = parse_whatsapp_media(getattr(method, field)) if field else None
        if field is None or reference is None:
            return
        receiver, media_id, filename = reference
        number = await self._numbers.get(receiver) if self._numbers is not None else None
        if number is None:
            raise TelegramBadRequest(method, f"no active WhatsApp number {receiver}")
        data, mime_type = await number.session.download(method, media_id)
        if filename is None:
            extension = mimetypes.guess_extension(mime_type.partition(";")[0].strip()) or ""
            filename = f"{media_id}{extension}"
        setattr(method, field, BufferedInputFile(data, filename=filename))
