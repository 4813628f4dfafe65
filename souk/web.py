"""The aiohttp application: webhooks, health, readiness, metrics, marketplace feeds and the
landing page."""

from __future__ import annotations

import hmac
import json
import time
from pathlib import Path

import jinja2
from aiohttp import web
from babel.core import negotiate_locale
from sqlalchemy import func, select, text

from souk.channels.intake import accept_telegram_update, accept_web, accept_whatsapp
from souk.channels.web import (
    COOKIE,
    InvalidChatMessage,
    inbound_message,
    new_visitor,
    valid_visitor,
)
from souk.channels.whatsapp_intake import (
    SIGNATURE_HEADER,
    handshake_answer,
    parse_envelope,
    signature_valid,
)
from souk.db.models import ChannelKind, Product, Shop, ShopChannel
from souk.languages import DEFAULT_LANGUAGE, LANGUAGES, RTL_LANGUAGES
from souk.logs import get_logger
from souk.metrics import OUTBOX_DEPTH, OUTBOX_OLDEST_AGE, UPDATES_REJECTED, render
from souk.runtime import Runtime
from souk.services.outbox import OutboxService
from souk.web_feed import FEED_ROUTE, kaspi_feed_view

log = get_logger("souk.web")

RUNTIME = web.AppKey("runtime", Runtime)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
)


def page_language(request: web.Request) -> str:
    """?lang= if given, else the best of Accept-Language among en, ru and ar."""
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked
    preferred = [
        part.split(";")[0].strip().replace("-", "_")
        for part in request.headers.get("Accept-Language", "").split(",")
    ]
    return negotiate_locale(preferred, list(LANGUAGES), sep="_") or DEFAULT_LANGUAGE


def _refuse(status: int, reason: str, channel: str = "telegram") -> web.Response:
    UPDATES_REJECTED.labels(channel, reason).inc()
    return web.json_response({"ok": False, "error": reason}, status=status)


async def _body(request: web.Request, channel: str) -> bytes | web.Response:
    """The raw body, or the refusal of one over HTTP_MAX_BODY_BYTES."""
    limit = request.app[RUNTIME].settings.http.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return _refuse(413, "too_large", channel)
    try:
        body = await request.read()  # bounded by the application's client_max_size
    except web.HTTPRequestEntityTooLarge:
        return _refuse(413, "too_large", channel)
    if len(body) > limit:
        return _refuse(413, "too_large", channel)
    return body


async def telegram_webhook(request: web.Request) -> web.Response:
    """Store the update before answering 200; process it after (exactly once, in order)."""
    runtime = request.app[RUNTIME]
    bot_id_text = request.match_info["bot_id"]
    entry = await runtime.registry.get(int(bot_id_text)) if bot_id_text.isdigit() else None
    secret = request.headers.get(SECRET_HEADER, "")
    expected = entry.channel.webhook_secret if entry is not None else None
    # Unknown bot and wrong secret look the same from outside: nothing to probe for.
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        return _refuse(401, "unauthorized")
    body = await _body(request, "telegram")
    if isinstance(body, web.Response):
        return body
    try:
        raw = body.decode()
        update = json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        return _refuse(400, "malformed")
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return _refuse(400, "malformed")
    try:
        await accept_telegram_update(runtime, int(bot_id_text), update, raw)
    except Exception as error:  # storage is down: Telegram keeps the update and retries
        log.error("update not stored", bot_id=bot_id_text, error=type(error).__name__)
        return _refuse(503, "unavailable")
    return web.json_response({"ok": True})


async def whatsapp_handshake(request: web.Request) -> web.Response:
    """Meta's subscription check: echo hub.challenge when hub.verify_token is ours."""
    token = request.app[RUNTIME].settings.whatsapp.verify_token
    challenge = handshake_answer(request.query, token.get_secret_value()) if token else None
    if challenge is None:
        return _refuse(403, "verify_failed", "whatsapp")
    return web.Response(text=challenge)


async def whatsapp_webhook(request: web.Request) -> web.Response:
    """Verify the signature on the raw body, store every message, record statuses, then
    answer 200 (Meta retries anything else for days)."""
    runtime = request.app[RUNTIME]
    secret = runtime.settings.whatsapp.app_secret
    body = await _body(request, "whatsapp")
    if isinstance(body, web.Response):
        return body
    signature = request.headers.get(SIGNATURE_HEADER)
    if secret is None or not signature_valid(body, signature, secret.get_secret_value()):
        return _refuse(401, "unauthorized", "whatsapp")
    try:
        envelope = parse_envelope(json.loads(body))
    except ValueError as error:  # not JSON, not UTF-8, or not a WhatsApp envelope
        log.warning("whatsapp webhook malformed", error=str(error)[:200])
        return _refuse(400, "malformed", "whatsapp")
    try:
        await accept_whatsapp(runtime, envelope)
    except Exception as error:  # storage is down: Meta keeps the payload and retries
        log.error("whatsapp payload not stored", error=type(error).__name__)
        return _refuse(503, "unavailable", "whatsapp")
    return web.json_response({"ok": True})


# The shop the demo web chat talks to.
DEMO_SHOP = "demo"
_CHAT_BODY_LIMIT = 16 * 1024


def _visitor(request: web.Request) -> str | None:
    value = request.cookies.get(COOKIE)
    return value if valid_visitor(value) else None


async def chat_send(request: web.Request) -> web.Response:
    """A message from the web chat page, stored before it is answered (like a webhook)."""
    runtime = request.app[RUNTIME]
    visitor = _visitor(request)
    if visitor is None:
        return _refuse(401, "no_session", "web")
    if (request.content_length or 0) > _CHAT_BODY_LIMIT:
        return _refuse(413, "too_large", "web")
    try:
        posted = json.loads(await request.read())
        message = inbound_message(posted, visitor, time.time())
    except (ValueError, InvalidChatMessage) as error:  # JSON, UTF-8 or shape
        UPDATES_REJECTED.labels("web", "malformed").inc()
        return web.json_response({"ok": False, "error": str(error)[:200]}, status=400)
    if await runtime.web.get(DEMO_SHOP) is None:
        return _refuse(503, "no_demo_shop", "web")
    try:
        await accept_web(runtime, DEMO_SHOP, visitor, message, page_language(request))
    except Exception as error:
        log.error("web chat message not stored", error=type(error).__name__)
        return _refuse(503, "unavailable", "web")
    return web.json_response({"ok": True})


async def chat_messages(request: web.Request) -> web.Response:
    """What the bot said to this visitor after message number `after`, and whether it is
    typing."""
    visitor = _visitor(request)
    if visitor is None:
        return _refuse(401, "no_session", "web")
    after = request.query.get("after", "0")
    if not after.isdigit():
        return _refuse(400, "malformed", "web")
    found, typing = await request.app[RUNTIME].web.log.after(visitor, int(after))
    return web.json_response({"messages": found, "typing": typing})


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _checks(runtime: Runtime) -> dict[str, bool]:
    checks = {"database": False, "redis": False}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception as error:
        log.warning("database not ready", error=type(error).__name__)
    try:
        checks["redis"] = bool(await runtime.redis.ping())
    except Exception as error:
        log.warning("redis not ready", error=type(error).__name__)
    return checks


async def readyz(request: web.Request) -> web.Response:
    checks = await _checks(request.app[RUNTIME])
    ready = all(checks.values())
    return web.json_response({"ready": ready, **checks}, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        async with runtime.session_factory() as session:
            stats = await OutboxService(session, runtime.settings.outbox).stats()
        OUTBOX_DEPTH.set(stats.depth)
        OUTBOX_OLDEST_AGE.set(stats.oldest_age_seconds)
    except Exception as error:  # metrics must render even when the database is down
        log.warning("outbox stats unavailable", error=type(error).__name__)
    body, content_type = render()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def landing(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checks = await _checks(runtime)
    context: dict[str, object] = {
        "database_ok": checks["database"],
        "redis_ok": checks["redis"],
        "shops": 0,
        "demo_products": 0,
        "bots": 0,
        "outbox_depth": 0,
    }
    if checks["database"]:
        async with runtime.session_factory() as session:
            context["shops"] = await session.scalar(select(func.count(Shop.id)))
            context["demo_products"] = await session.scalar(
                select(func.count(Product.id))
                .join(Shop, Shop.id == Product.shop_id)
                .where(Shop.slug == "demo")
            )
            context["bots"] = await session.scalar(
                select(func.count(ShopChannel.id)).where(ShopChannel.kind == ChannelKind.TELEGRAM)
            )
            context["outbox_depth"] = (
                await OutboxService(session, runtime.settings.outbox).stats()
            ).depth
    language = page_language(request)
    # Installing and rendering with no await between: no other request can interleave.
    _templates.install_gettext_translations(  # type: ignore[attr-defined]
        runtime.i18n.locales[language], newstyle=True
    )
    html = _templates.get_template("landing.html").render(
        language=language, direction="rtl" if language in RTL_LANGUAGES else "ltr", **context
    )
    response = web.Response(text=html, content_type="text/html")
    if _visitor(request) is None:
        response.set_cookie(COOKIE, new_visitor(), httponly=True, samesite="Strict", max_age=86400)
    return response


def build_app(runtime: Runtime) -> web.Application:
    """The web application over an already built runtime (the caller owns its lifetime)."""
    # One extra KiB so an oversized body is seen by the view (413 + metric), not by aiohttp.
    app = web.Application(client_max_size=runtime.settings.http.max_body_bytes + 1024)
    app[RUNTIME] = runtime
    app.router.add_post("/webhook/telegram/{bot_id}", telegram_webhook)
    app.router.add_get("/webhook/whatsapp", whatsapp_handshake)
    app.router.add_post("/webhook/whatsapp", whatsapp_webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    # No HEAD: the plain answer is streamed, and a streamed HEAD would carry the body.
    app.router.add_get(FEED_ROUTE, kaspi_feed_view(runtime), allow_head=False)
    if runtime.settings.core.demo:
        app.router.add_get("/", landing)
        app.router.add_post("/demo/messages", chat_send)
        app.router.add_get("/demo/messages", chat_messages)
    return app
