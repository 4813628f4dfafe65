"""Operations over every bot: registering webhooks, long polling into the inbox."""

from __future__ import annotations

import asyncio

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import GetUpdates
from aiogram.types import Update

from souk.channels.intake import accept_telegram_update
from souk.channels.telegram import ALLOWED_UPDATES, TelegramBot, TelegramSession
from souk.errors import ConfigurationError
from souk.logs import get_logger
from souk.runtime import Runtime

log = get_logger("souk.telegram")
POLL_TIMEOUT_SECONDS = 25


def webhook_url(public_url: str, bot_id: int) -> str:
    return f"{public_url.rstrip('/')}/webhook/telegram/{bot_id}"


async def set_webhooks(runtime: Runtime) -> list[tuple[TelegramBot, str]]:
    """Register every bot's webhook with its secret and allowed updates."""
    public_url = runtime.settings.core.public_url
    if not public_url or not public_url.startswith("https://"):
        raise ConfigurationError("set PUBLIC_URL to this server's https:// address first")
    done = []
    for entry in await runtime.registry.all():
        url = webhook_url(public_url, entry.bot.id)
        await entry.bot.set_webhook(
            url=url,
            secret_token=entry.channel.webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=runtime.settings.telegram.webhook_max_connections,
        )
        done.append((entry, url))
    return done


async def poll_bot(runtime: Runtime, entry: TelegramBot, polls: AiohttpSession) -> None:
    """getUpdates forever, on `polls`; an update is confirmed to Telegram only after it
    is stored."""
    bot = entry.bot
    await bot.delete_webhook(drop_pending_updates=False)
    offset: int | None = None
    backoff = 1.0
    while True:
        try:
            updates: list[Update] = await polls(
                bot,
                GetUpdates(
                    offset=offset,
                    timeout=POLL_TIMEOUT_SECONDS,
                    allowed_updates=list(ALLOWED_UPDATES),
                ),
                timeout=POLL_TIMEOUT_SECONDS + 10,
            )
        except (TelegramNetworkError, TelegramAPIError) as error:
            log.warning(
                "getUpdates failed", bot_id=bot.id, error=type(error).__name__, retry_in=backoff
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
            continue
        backoff = 1.0
        for update in updates:
            payload = update.model_dump(mode="json", exclude_none=True, by_alias=True)
            await accept_telegram_update(runtime, bot.id, payload)
            offset = update.update_id + 1


async def run_polling(runtime: Runtime) -> None:
    bots = await runtime.registry.all()
    if not bots:
        raise ConfigurationError("no bots: set TELEGRAM_BOT_TOKEN or run `souk shop create`")
    log.info("polling", bots=[entry.bot.id for entry in bots])
    # Each bot keeps a long poll open: on the bots' shared session (100 connections)
    # a hundred shops would leave no connection for the replies. Polls get their own.
    polls = TelegramSession(
        api=TelegramAPIServer.from_base(runtime.settings.telegram.api_base), limit=len(bots)
    )
    try:
        await asyncio.gather(*(poll_bot(runtime, entry, polls) for entry in bots))
    finally:
        await polls.close()
