"""WhatsApp numbers as aiogram bots, and their registry.

Handlers call `bot.send_message(chat_id, ...)` as on Telegram. A number's bot has a
`WhatsAppSession` (a `RenderedSession`): each rendered message is posted to
`/{phone_number_id}/messages` within the shared limits (the number's throughput, the
customer's pair rate), a rate refusal pauses the limit it names and is retried, and
Cloud API errors become aiogram's exceptions so the outbox treats both platforms
alike (131026 marks the customer unreachable, 131047 is `OutsideWindow`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendChatAction, TelegramMethod
from aiogram.types import Message
from aiohttp import ClientError, ClientResponse, ClientSession, ClientTimeout
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.channels.cache import ChannelCache, channel_loader
from souk.channels.rendered import (
    ANSWERING,
    AddressBook,
    MenuMemory,
    RecipientLookup,
    RenderedSession,
    rendered_bot,
    sent_message,
)
from souk.channels.whatsapp_intake import BSUID_PREFIX
from souk.channels.whatsapp_render import html_to_whatsapp
from souk.config import WhatsAppSettings
from souk.db.models import ChannelKind
from souk.logs import get_logger, register_secret
from souk.metrics import OUTBOUND_CALLS, RATE_LIMITED
from souk.services.customers import CustomerService
from souk.services.ratelimit import Limit, Rate, RateLimiter
from souk.services.shops import ChannelInfo

log = get_logger("souk.whatsapp.out")

# Cloud API error codes (PLATFORMS.md) and what they mean here.
THROUGHPUT = 130429  # the number's messages per second
PAIR_RATE = 131056  # too many messages to one user
OUTSIDE_WINDOW = 131047  # more than 24 hours since the customer wrote: templates only
UNDELIVERABLE = 131026  # not on WhatsApp, or blocked us
_RATE_CODES = frozenset({THROUGHPUT, PAIR_RATE, 4, 80007})
_MENU_TTL_SECONDS = 24 * 3600
# WhatsApp shows a typing indicator until the answer, or for 25 seconds: asked for again
# after this long, not at each of aiogram's "typing" repeats (every few seconds).
TYPING_REFRESH_SECONDS = 20.0


class OutsideWindow(TelegramBadRequest):
    """The customer last wrote more than 24 hours ago: only a template may be sent."""


class CloudAPIRefused(TelegramBadRequest):
    """The Cloud API refused the message (the code and title are in the text)."""


# Told the customer id when WhatsApp says a message cannot reach them.
UnreachableCallback = Callable[[int], Awaitable[None]]


def _address(recipient: str) -> dict[str, str]:
    if recipient.startswith(BSUID_PREFIX):
        return {"recipient": recipient.removeprefix(BSUID_PREFIX)}
    return {"to": recipient}


class WhatsAppSession(RenderedSession):
    """Sends the calls of one number's bot through the Cloud API."""

    def __init__(
        self,
        *,
        channel: ChannelInfo,
        settings: WhatsAppSettings,
        http: ClientSession,
        recipients: RecipientLookup,
        menus: MenuMemory,
        limiter: RateLimiter,
        on_unreachable: UnreachableCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            receiver=channel.external_id,
            recipients=recipients,
            menus=menus,
            timeout=settings.request_timeout,
        )
        assert channel.token is not None
        self._channel = channel
        self._api = settings.api_base.rstrip("/")
        self._url = f"{self._api}/{channel.external_id}/messages"
        self._media_max_bytes = settings.media_max_bytes
        self._headers = {"Authorization": f"Bearer {channel.token}"}
        self._http = http
        self._limiter = limiter
        self._on_unreachable = on_unreachable
        self._max_retries = settings.max_retries
        self._number = Limit(f"wa:{channel.external_id}", Rate(settings.per_number_rate, burst=1))
        self._per_user = Rate(1.0 / settings.per_user_interval, burst=settings.per_user_burst)
        self._clock = clock

    def _limits(self, chat_id: int) -> list[Limit]:
        """The customer's pair rate first, then the number's throughput."""
        return [
            Limit(f"wa:{self._channel.external_id}:user:{chat_id}", self._per_user),
            self._number,
        ]

    async def show_chat_action(self, method: SendChatAction) -> None:
        """The customer sees "typing…": WhatsApp's typing indicator on the message being
        answered (which it marks read). Best effort: a refusal is logged, and the answer
        goes on."""
        answering = ANSWERING.get()
        if method.action != "typing" or answering is None or answering.chat_id != method.chat_id:
            return
        now, shown = self._clock(), answering.indicated_at
        if shown is not None and now - shown < TYPING_REFRESH_SECONDS:
            return
        answering.indicated_at = now
        body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": answering.message_id,
            "typing_indicator": {"type": "text"},
        }
        try:
            await self._post(method, body)
        except TelegramAPIError as error:
            log.info("typing indicator refused", number=self.receiver, error=error.message)

    async def deliver(
        self, method: TelegramMethod[Any], chat_id: int, recipient: str, body: dict[str, Any]
    ) -> str | None:
        message = {"messaging_product": "whatsapp", **_address(recipient), **body}
        return await self._send(method, message, self._limits(chat_id), chat_id)

    async def send_template(
        self, method: TelegramMethod[Any], chat_id: int, template: str, text: str
    ) -> Message:
        """`method`'s text as the one body parameter of an approved template
        ("name:language_code"), for a customer outside the 24-hour window."""
        recipient = await self.recipient(method, chat_id)
        name, _, language = template.partition(":")
        # A template parameter may not hold line breaks, tabs or runs of spaces.
        parameter = " ".join(html_to_whatsapp(text).split())[:1024]
        body = {
            "messaging_product": "whatsapp",
            **_address(recipient),
            "type": "template",
            "template": {
                "name": name,
                "language": {"code": language or "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": parameter}]}
                ],
            },
        }
        wamid = await self._send(method, body, self._limits(chat_id), chat_id)
        sent = sent_message(chat_id)
        self._provider_ids[sent.message_id] = wamid
        return sent

    async def _send(
        self,
        method: TelegramMethod[Any],
        body: dict[str, Any],
        limits: list[Limit],
        chat_id: int,
    ) -> str:
        """One Cloud API message within the shared limits; a rate error pauses the limit
        it names (the user's, else the number's) and retries."""
        attempt = 0
        while True:
            await self._limiter.acquire(limits)
            try:
                return await self._post(method, body)
            except TelegramRetryAfter as error:
                OUTBOUND_CALLS.labels("whatsapp", method.__api_method__, "429").inc()
                RATE_LIMITED.labels("whatsapp").inc()
                if attempt >= self._max_retries:
                    raise
                limit = limits[0] if "131056" in error.message else limits[-1]
                await self._limiter.pause(limit, error.retry_after)
                attempt += 1
            except TelegramForbiddenError:
                OUTBOUND_CALLS.labels("whatsapp", method.__api_method__, "forbidden").inc()
                if self._on_unreachable is not None:
                    await self._on_unreachable(chat_id)
                raise

    async def download(self, method: TelegramMethod[Any], media_id: str) -> tuple[bytes, str]:
        """A media file a customer sent (by the id their message gave): its bytes and MIME
        type. First its URL (valid for minutes), then the file, both with the number's
        token; errors as `_post`'s, and a file over WHATSAPP_MEDIA_MAX_BYTES is refused."""
        timeout = ClientTimeout(total=self.timeout)
        try:
            async with self._http.get(
                f"{self._api}/{quote(media_id, safe='')}", headers=self._headers, timeout=timeout
            ) as response:
                answer = await _json(response)
                if response.status >= 300 or not isinstance(answer, dict):
                    raise _error(method, response.status, answer)
            url, mime_type = answer.get("url"), str(answer.get("mime_type") or "")
            size = answer.get("file_size")
            if not isinstance(url, str) or (isinstance(size, int) and size > self._media_max_bytes):
                raise CloudAPIRefused(method, f"media {media_id}: no URL, or over the limit")
            async with self._http.get(url, headers=self._headers, timeout=timeout) as response:
                if response.status >= 300:
                    raise _error(method, response.status, await _json(response))
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > self._media_max_bytes:
                        raise CloudAPIRefused(method, f"media {media_id}: over the limit")
        except (ClientError, TimeoutError) as error:
            raise TelegramNetworkError(method, f"{type(error).__name__}") from error
        OUTBOUND_CALLS.labels("whatsapp", "downloadMedia", "ok").inc()
        return bytes(data), mime_type

    async def _post(self, method: TelegramMethod[Any], body: dict[str, Any]) -> str:
        try:
            async with self._http.post(
                self._url,
                json=body,
                headers=self._headers,
                timeout=ClientTimeout(total=self.timeout),
            ) as response:
                answer = await _json(response)
                status = response.status
        except (ClientError, TimeoutError) as error:
            raise TelegramNetworkError(method, f"{type(error).__name__}") from error
        if status < 300 and isinstance(answer, dict):
            OUTBOUND_CALLS.labels("whatsapp", method.__api_method__, "ok").inc()
            messages = answer.get("messages") or [{}]
            return str(messages[0].get("id", ""))
        raise _error(method, status, answer)


async def _json(response: ClientResponse) -> object:
    """The answer's JSON, or None if it is none (an error page of a proxy)."""
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


def _error(method: TelegramMethod[Any], status: int, answer: object) -> Exception:
    error = answer.get("error") if isinstance(answer, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    title = str(error.get("message") or error.get("title") or "") if isinstance(error, dict) else ""
    text = f"WhatsApp {code}: {title}"[:300]
    if code in _RATE_CODES or status == 429:
        return TelegramRetryAfter(method, text, retry_after=6 if code == PAIR_RATE else 1)
    if code == OUTSIDE_WINDOW:
        return OutsideWindow(method, text)
    if code == UNDELIVERABLE:
        return TelegramForbiddenError(method, text)
    if status == 401 or code == 190:
        return TelegramUnauthorizedError(method, text)
    if status >= 500:
        return TelegramServerError(method, text)
    return CloudAPIRefused(method, text)


@dataclass(frozen=True)
class WhatsAppBot:
    """A number's bot and the shop it belongs to."""

    bot: Bot
    channel: ChannelInfo

    @property
    def session(self) -> WhatsAppSession:
        return cast(WhatsAppSession, self.bot.session)


class WhatsAppNumbers:
    """The shops' WhatsApp numbers as bots, by phone_number_id, sharing one HTTP session
    and the request middleware of the shared limits."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        settings: WhatsAppSettings,
        redis: Redis,
        limiter: RateLimiter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session_factory = session_factory
        self._settings = settings
        self._limiter = limiter
        self._clock = clock
        self.menus = MenuMemory(redis)
        self._http: ClientSession | None = None
        self._cache: ChannelCache[WhatsAppBot] = ChannelCache(
            channel_loader(session_factory, ChannelKind.WHATSAPP, needs_token=True),
            self._make,
            clock=clock,
        )
        self.addresses = AddressBook(session_factory, ChannelKind.WHATSAPP)

    def _client(self) -> ClientSession:
        if self._http is None or self._http.closed:
            self._http = ClientSession()
        return self._http

    def _make(self, channel: ChannelInfo) -> WhatsAppBot:
        session = WhatsAppSession(
            channel=channel,
            settings=self._settings,
            http=self._client(),
            recipients=self.addresses.address,
            menus=self.menus,
            limiter=self._limiter,
            on_unreachable=self._unreachable,
            clock=self._clock,
        )
        register_secret(channel.token)
        return WhatsAppBot(bot=rendered_bot(channel.external_id, session), channel=channel)

    async def get(self, phone_number_id: str) -> WhatsAppBot | None:
        """The number's bot, or None if no active shop owns it."""
        return await self._cache.get(phone_number_id)

    async def _unreachable(self, customer_id: int) -> None:
        async with self._session_factory() as session, session.begin():
            await CustomerService(session).set_reachable(customer_id, reachable=False)
        log.info("whatsapp customer unreachable", customer_id=customer_id)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
