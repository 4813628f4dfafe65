"""Process composition for `souk serve` and `souk polling`: build, run until signalled, close."""

from __future__ import annotations

import asyncio
import gc
import signal
from datetime import UTC, datetime, timedelta

from aiohttp import web

from souk.channels.telegram_ops import run_polling, set_webhooks
from souk.config import Settings
from souk.db.models import ChannelKind, StaffRole
from souk.embedded import ServiceURLs
from souk.logs import get_logger
from souk.runtime import Runtime
from souk.services.demo import connect_demo_bot
from souk.services.shops import ShopService
from souk.services.staff import StaffService
from souk.web import build_app
from souk.workers.app import create_celery
from souk.workers.kick import NotifierKick

log = get_logger("souk.server")


def _update_runtime(settings: Settings, urls: ServiceURLs) -> Runtime:
    kick = NotifierKick(create_celery(settings, urls))
    return Runtime.create(settings, urls, handle_updates=True, on_outbox_committed=kick)


async def _connect_demo_bot(runtime: Runtime) -> None:
    async with runtime.session_factory() as session, session.begin():
        bot_id = await connect_demo_bot(session, runtime.settings.telegram)
    if bot_id is not None:
        runtime.registry.forget(bot_id)


def _settle_heap() -> None:
    """Keep the start-up heap out of garbage collection.

    Importing aiogram builds a few hundred MB of pydantic models that live as long as the
    process; without this every full collection rescans them, which is most of the
    tail latency under load (see bench/webhook_throughput.py).
    """
    gc.collect()
    gc.freeze()
    # Each update allocates thousands of short-lived objects (pydantic models, SQL rows,
    # HTTP frames); young-generation collections every 700 allocations were measurable.
    gc.set_threshold(10_000, 20, 20)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def serve_http(settings: Settings, urls: ServiceURLs) -> None:
    """Serve until SIGINT/SIGTERM, then finish the updates in progress."""
    runtime = _update_runtime(settings, urls)
    stop = _stop_event()
    runner = web.AppRunner(build_app(runtime), access_log=None, handle_signals=False)
    try:
        await _connect_demo_bot(runtime)
        assert runtime.processor is not None
        runtime.processor.start_sweeping()
        _settle_heap()
        await runner.setup()
        site = web.TCPSite(runner, settings.http.host, settings.http.port, backlog=1024)
        await site.start()
        log.info("serving", url=f"http://{settings.http.host}:{settings.http.port}")
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
        await runtime.close()


async def serve_polling(settings: Settings, urls: ServiceURLs) -> None:
    runtime = _update_runtime(settings, urls)
    stop = _stop_event()
    try:
        await _connect_demo_bot(runtime)
        assert runtime.processor is not None
        runtime.processor.start_sweeping()
        polling = asyncio.create_task(run_polling(runtime))
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
        polling.cancel()
        if polling in done:
            polling.result()  # a configuration error: let it reach the user
    finally:
        await runtime.close()


async def set_all_webhooks(settings: Settings, urls: ServiceURLs) -> list[tuple[int, str]]:
    runtime = Runtime.create(settings, urls, handle_updates=False, pool_size=1)
    try:
        await _connect_demo_bot(runtime)
        return [(entry.bot.id, url) for entry, url in await set_webhooks(runtime)]
    finally:
        await runtime.close()


async def create_staff_invite(
    settings: Settings, urls: ServiceURLs, slug: str, role: StaffRole
) -> tuple[str, datetime]:
    """A new invite of the shop `slug`: the t.me link of its bot (or, without a bot, the
    /start payload) and when it expires."""
    runtime = Runtime.create(settings, urls, handle_updates=False, pool_size=1)
    try:
        await _connect_demo_bot(runtime)
        async with runtime.session_factory() as session, session.begin():
            shop = await ShopService(session).get_by_slug(slug)
            invite = await StaffService(session, shop.id).invite(
                role,
                valid_for=timedelta(hours=settings.staff.invite_ttl_hours),
                now=datetime.now(UTC),
            )
            channels = [
                c
                for c in await ShopService(session).channels(ChannelKind.TELEGRAM)
                if c.shop_id == shop.id
            ]
        if not channels:
            return f"/start {invite.start_payload}  (connect a bot to the shop to get a link)", (
                invite.expires_at
            )
        entry = await runtime.registry.get(int(channels[0].external_id))
        assert entry is not None
        me = await entry.bot.get_me()
        return f"https://t.me/{me.username}?start={invite.start_payload}", invite.expires_at
    finally:
        await runtime.close()
