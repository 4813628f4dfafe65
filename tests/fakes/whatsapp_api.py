"""A fake WhatsApp Cloud API (Graph API) speaking the real protocol over HTTP on 127.0.0.1.

Point a client at ``base_url`` (``http://127.0.0.1:PORT/v23.0``; paths without the version
work too) with ``Authorization: Bearer <token>``. It validates sends like the Cloud API
(whatsapp_messages.py), enforces throughput, pair rate and the 24-hour customer service
window (whatsapp_limits.py), stores media, records every request and can inject failures.
Webhook payloads are built by the pure functions of whatsapp_webhooks.py, re-exported here.
Control endpoints under ``/_fake/`` let another process (a benchmark) drive it.

Run standalone: ``python -m tests.fakes.whatsapp_api --port 8082 --number 1065403:TOKEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from aiohttp import web

from tests.fakes.http_fake import FakeHTTPServer, serve_until_stopped
from tests.fakes.whatsapp_limits import (
    GRAPH_VERSION,
    MEDIA_UPLOAD,
    PAIR_RATE,
    RE_ENGAGEMENT,
    SOMETHING_WRONG,
    TEMPLATE_MISSING,
    TEMPLATE_PARAMS,
    THROUGHPUT,
    UNDELIVERABLE,
    GraphError,
    Params,
    SendLimiter,
    WhatsAppLimits,
    coded,
    invalid_parameter,
    invalid_token,
    not_valid,
    unknown_object,
)
from tests.fakes.whatsapp_messages import BSUID, check_message, phone_digits
from tests.fakes.whatsapp_webhooks import (
    button_reply,
    contacts,
    image,
    list_reply,
    location,
    senders,
    sign,
    statuses,
    sticker,
    text_message,
    unsupported,
    user_preferences,
    verification_query,
)

__all__ = [
    "FakeWhatsAppAPI",
    "GraphError",
    "MediaFile",
    "RecordedRequest",
    "WhatsAppLimits",
    "button_reply",
    "contacts",
    "image",
    "list_reply",
    "location",
    "main",
    "sign",
    "statuses",
    "sticker",
    "text_message",
    "unsupported",
    "user_preferences",
    "verification_query",
]

MEDIA_URL_TTL = 300.0  # a URL from GET /{media_id} downloads for 5 minutes
_MB = 1024 * 1024
# What /media accepts, with the largest file of each type (Cloud API media limits).
MEDIA_TYPES = {
    "image/jpeg": 5 * _MB,
    "image/png": 5 * _MB,
    "image/webp": 500 * 1024,  # stickers
    "audio/aac": 16 * _MB,
    "audio/amr": 16 * _MB,
    "audio/mpeg": 16 * _MB,
    "audio/mp4": 16 * _MB,
    "audio/ogg": 16 * _MB,
    "video/mp4": 16 * _MB,
    "video/3gpp": 16 * _MB,
    "text/plain": 100 * _MB,
    "application/pdf": 100 * _MB,
    "application/vnd.ms-excel": 100 * _MB,
    "application/msword": 100 * _MB,
    "application/vnd.ms-powerpoint": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * _MB,
}
_RATE_LIMITED = frozenset({THROUGHPUT, PAIR_RATE})
_VERSION = "/{version:v[0-9]+\\.[0-9]+}"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake saw it; ``code`` is the Graph error code (None if ok)."""

    method: str
    path: str  # without the version, e.g. "/1065403/messages"
    endpoint: str  # messages, media_upload, media, media_delete, media_download, unknown
    phone_number_id: str | None
    body: Params
    status: int
    code: int | None
    at: float
    recipient: str | None = None  # the ``to`` digits or the BSUID a send addressed
    message_id: str | None = None  # the wamid an accepted message got

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def type(self) -> str | None:
        kind = self.body.get("type", "text") if self.endpoint == "messages" else None
        return kind if isinstance(kind, str) else None

    def to_json(self) -> Params:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class MediaFile:
    """An uploaded (or test-provided) media file."""

    id: str
    data: bytes
    mime_type: str
    sha256: str
    phone_number_id: str | None = None
    filename: str | None = None


@dataclass(slots=True)
class _Exchange:
    """What a handler learnt about a request, for its record."""

    body: Params = field(default_factory=dict)
    recipient: str | None = None
    message_id: str | None = None


Handler = Callable[[web.Request, _Exchange], Awaitable[Params]]


class FakeWhatsAppAPI(FakeHTTPServer):
    """In-process fake of graph.facebook.com's WhatsApp Cloud API for tests and benchmarks.

    ``numbers`` maps phone_number_id to the access token allowed to use it. ``reset()``
    clears records and per-test state but keeps numbers, templates and limits.
    """

    label = "fake WhatsApp"

    def __init__(
        self,
        numbers: Mapping[str, str] | None = None,
        *,
        limits: WhatsAppLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        api_version: str = GRAPH_VERSION,
    ) -> None:
        super().__init__(base_path=f"/{api_version}", client_max_size=101 * _MB)
        self._clock = clock
        self._numbers: dict[str, str] = {}
        for number, token in (numbers or {}).items():
            self.add_number(number, token)
        self._templates: dict[tuple[str, str], int | None] = {}
        self._limiter = SendLimiter(limits or WhatsAppLimits(), clock)
        self._calls: list[RecordedRequest] = []
        self._stats: dict[str, list[int]] = {}
        self._failures: deque[GraphError] = deque()
        self._blocked: set[str] = set()
        self._wrote: dict[tuple[str, str], float] = {}  # (number, user) -> last inbound
        self._aliases: dict[str, str] = {}  # BSUID -> wa_id, once a payload showed both
        self._media: dict[str, MediaFile] = {}
        self._media_urls: dict[str, tuple[str, float]] = {}  # url key -> (media id, expiry)
        self._ids = itertools.count(1)
        router = self._app.router
        router.add_get("/_fake/calls", self._ctl_calls)
        router.add_get("/_fake/stats", self._ctl_stats)
        router.add_post("/_fake/reset", self._ctl_reset)
        router.add_post("/_fake/config", self._ctl_config)
        router.add_post("/_fake/inbound", self._ctl_inbound)
        router.add_get("/_media/{key}", self._download)
        for prefix in (_VERSION, ""):
            router.add_post(prefix + "/{number}/messages", self._on(self._send, "messages"))
            router.add_post(prefix + "/{number}/media", self._on(self._upload, "media_upload"))
            router.add_get(prefix + "/{media_id}", self._on(self._media_info, "media"))
            router.add_delete(prefix + "/{media_id}", self._on(self._media_delete, "media_delete"))
        router.add_route("*", "/{tail:.*}", self._unknown)

    # -- configuration ---------------------------------------------------------------

    def add_number(self, phone_number_id: str, token: str) -> None:
        """Serve ``phone_number_id`` to requests bearing ``token`` from now on."""
        if not phone_number_id or not token:
            raise ValueError("a number needs a phone_number_id and a token")
        self._numbers[phone_number_id] = token

    def add_template(
        self, name: str, language: str = "en_US", *, body_parameters: int | None = None
    ) -> None:
        """Approve template ``name`` in ``language``; optionally check its body parameters."""
        self._templates[name, language] = body_parameters

    def add_media(
        self, media_id: str | None, data: bytes, mime_type: str = "image/jpeg"
    ) -> MediaFile:
        """Make ``media_id`` (as in an inbound image) downloadable; None picks an id."""
        return self._store_media(data, mime_type, media_id=media_id)

    def media(self, media_id: str) -> MediaFile:
        """A stored media file: uploaded by the client or added by the test."""
        return self._media[media_id]

    @property
    def limits(self) -> WhatsAppLimits:
        return self._limiter.limits

    def configure_limits(self, **changes: Any) -> WhatsAppLimits:
        """Change limit fields (coerced to their types) and refill all buckets."""
        current = asdict(self._limiter.limits)
        unknown = set(changes) - set(current)
        if unknown:
            raise ValueError(f"unknown limit fields: {sorted(unknown)}")
        for key, value in changes.items():
            current[key] = type(current[key])(value)
        self._limiter.limits = WhatsAppLimits(**current)
        self._limiter.reset()
        return self._limiter.limits

    def customer_wrote(
        self,
        phone_number_id: str,
        wa_id: str | None,
        at: float | None = None,
        *,
        user_id: str | None = None,
    ) -> None:
        """Open the customer service window: the customer messaged the number at ``at``.

        ``at`` is on the fake's clock (now by default). Given both ids, later sends to
        either one count as the same customer.
        """
        if wa_id is None and user_id is None:
            raise ValueError("a customer needs a wa_id, a user_id or both")
        if wa_id is not None and user_id is not None:
            self._aliases[user_id] = phone_digits(wa_id)
        user = phone_digits(wa_id) if wa_id is not None else str(user_id)
        self._wrote[phone_number_id, user] = self._clock() if at is None else at

    def inbound(self, payload: Params) -> Params:
        """Note every customer message of a webhook payload (see ``customer_wrote``)."""
        for number, wa_id, user_id in senders(payload):
            self.customer_wrote(number, wa_id, user_id=user_id)
        return payload

    def block(self, wa_id: str) -> None:
        """Make sends to ``wa_id`` (or a BSUID) fail with 131026, message undeliverable."""
        self._blocked.add(self._user(wa_id))

    def unblock(self, wa_id: str) -> None:
        self._blocked.discard(self._user(wa_id))

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        code: int = SOMETHING_WRONG,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` sends and uploads (any number) with this Graph error."""
        error = coded(status, code)
        if message is not None:
            error.message = message
        self._failures.extend([error] * count)

    def reset(self) -> None:
        """Forget requests, media, windows, blocks and injected failures."""
        self._calls.clear()
        self._stats.clear()
        self._failures.clear()
        self._blocked.clear()
        self._wrote.clear()
        self._aliases.clear()
        self._media.clear()
        self._media_urls.clear()
        self._limiter.reset()
        self._wake()

    # -- inspection ------------------------------------------------------------------

    def calls(
        self,
        phone_number_id: str | None = None,
        to: str | None = None,
        *,
        endpoint: str | None = None,
        ok_only: bool = False,
    ) -> list[RecordedRequest]:
        """Recorded requests, oldest first; ``to`` is a phone number (any format) or BSUID."""
        user = self._user(to) if to is not None else None
        return [
            call
            for call in self._calls
            if (phone_number_id is None or call.phone_number_id == phone_number_id)
            and (user is None or (call.recipient and self._user(call.recipient)) == user)
            and (endpoint is None or call.endpoint == endpoint)
            and (not ok_only or call.ok)
        ]

    def delivered(self, to: str, phone_number_id: str | None = None) -> list[RecordedRequest]:
        """Accepted messages to ``to``, in order; ``.body`` is what the client sent."""
        return self.calls(phone_number_id, to, endpoint="messages", ok_only=True)

    def delivered_texts(self, to: str, phone_number_id: str | None = None) -> list[str]:
        """The visible text of each accepted message to ``to``: the text, the interactive
        body, the image caption ("" without one), or the template name."""
        return [_visible_text(call.body) for call in self.delivered(to, phone_number_id)]

    def message(self, message_id: str) -> RecordedRequest | None:
        """The accepted send that got ``message_id`` (a wamid)."""
        return next((c for c in self._calls if c.message_id == message_id), None)

    def stats(self) -> dict[str, dict[str, int]]:
        """Per endpoint: ``ok`` answers, ``rate_limited`` (130429, 131056) and other ``errors``."""
        return {
            endpoint: {"ok": ok, "rate_limited": limited, "errors": errors}
            for endpoint, (ok, limited, errors) in self._stats.items()
        }

    def _recent(self) -> str:
        last = ", ".join(
            f"{c.method} {c.path}(to={c.recipient})->{c.status}" + (f"#{c.code}" if c.code else "")
            for c in self._calls[-5:]
        )
        return f"{len(self._calls)} requests recorded, last: [{last}]"

    # -- plumbing --------------------------------------------------------------------

    def _user(self, recipient: str) -> str:
        """One key per customer: phone digits, or a BSUID not yet tied to a phone."""
        if BSUID.fullmatch(recipient):
            return self._aliases.get(recipient, recipient)
        return phone_digits(recipient)

    def _window_open(self, number: str, user: str) -> bool:
        limits = self._limiter.limits
        if not limits.window_enabled:
            return True
        wrote = self._wrote.get((number, user))
        return wrote is not None and self._clock() - wrote <= limits.window

    def _store_media(
        self,
        data: bytes,
        mime_type: str,
        *,
        media_id: str | None = None,
        number: str | None = None,
        filename: str | None = None,
    ) -> MediaFile:
        media_id = media_id or str(1_000_000_000_000_000 + next(self._ids))
        digest = hashlib.sha256(data).hexdigest()
        media = MediaFile(media_id, data, mime_type, digest, number, filename)
        self._media[media_id] = media
        return media

    def _record(self, call: RecordedRequest) -> None:
        self._calls.append(call)
        counters = self._stats.get(call.endpoint)
        if counters is None:
            counters = self._stats[call.endpoint] = [0, 0, 0]
        counters[0 if call.ok else 1 if call.code in _RATE_LIMITED else 2] += 1

    def _authorize(self, request: web.Request, number: str | None) -> None:
        token = _bearer(request)
        if token is None or token not in self._numbers.values():
            raise invalid_token()
        if number is not None and self._numbers.get(number) != token:
            raise unknown_object(number, request.method.lower())

    def _inject(self) -> None:
        if self._failures:
            raise self._failures.popleft()

    def _on(
        self, handler: Handler, endpoint: str
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(request: web.Request) -> web.Response:
            number = request.match_info.get("number")
            exchange = _Exchange()
            code: int | None = None
            try:
                self._authorize(request, number)
                status, payload = 200, await handler(request, exchange)
            except GraphError as exc:
                status, code, payload = exc.status, exc.code, exc.to_json(_trace_id())
            except Exception as exc:  # a bug in the fake must still answer in Graph's shape
                error = GraphError(500, 1, f"An unknown error occurred: {exc!r}")
                status, code, payload = 500, 1, error.to_json(_trace_id())
            self._record(
                RecordedRequest(
                    request.method,
                    _graph_path(request),
                    endpoint,
                    number,
                    exchange.body,
                    status,
                    code,
                    self._clock(),
                    exchange.recipient,
                    exchange.message_id,
                )
            )
            await self._notify()
            return web.json_response(payload, status=status)

        return answer

    # -- Graph endpoints -------------------------------------------------------------

    async def _send(self, request: web.Request, exchange: _Exchange) -> Params:
        number = request.match_info["number"]
        body = exchange.body = await _body(request)
        exchange.recipient = _recipient_of(body)
        self._inject()
        message = check_message(body)
        exchange.recipient = message.recipient
        if message.template is not None:
            self._check_template(*message.template, message.template_body_params)
        if message.media is not None and message.media[0] not in self._media:
            raise not_valid(f"Param {message.media[1]} is not a valid media ID.")
        user = self._user(message.recipient)
        error = self._limiter.throughput_error(number)
        if error is None and user in self._blocked:
            error = coded(400, UNDELIVERABLE)
        if error is None and message.type != "template" and not self._window_open(number, user):
            error = coded(400, RE_ENGAGEMENT)
        error = error or self._limiter.pair_error(number, user)
        if error is not None:
            raise error
        self._limiter.take(number, user)
        wamid = exchange.message_id = _wamid(number, user, next(self._ids))
        contact = {"input": str(body.get("to") or message.recipient)}
        contact["user_id" if message.by_user_id else "wa_id"] = message.recipient
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}

    def _check_template(self, name: str, language: str, body_params: int) -> None:
        key = (name, language)
        if key not in self._templates:
            details = f"template name ({name}) does not exist in {language}"
            raise coded(404, TEMPLATE_MISSING, details)
        expected = self._templates[key]
        if expected is not None and expected != body_params:
            details = (
                f"body: number of localizable_params ({body_params}) does not match "
                f"the expected number of params ({expected})"
            )
            raise coded(400, TEMPLATE_PARAMS, details)

    async def _upload(self, request: web.Request, exchange: _Exchange) -> Params:
        self._inject()
        if not request.content_type.startswith("multipart/"):
            raise invalid_parameter("The parameter messaging_product is required.")
        form = await request.post()
        upload = form.get("file")
        exchange.body = {k: v for k, v in form.items() if isinstance(v, str)}
        if form.get("messaging_product") != "whatsapp":
            raise invalid_parameter("The parameter messaging_product is required.")
        if not isinstance(upload, web.FileField):
            raise invalid_parameter("The parameter file is required.")
        upload.file.seek(0)
        data = upload.file.read()
        mime = str(form.get("type") or upload.content_type)
        exchange.body["file"] = {"filename": upload.filename, "size": len(data), "type": mime}
        limit = MEDIA_TYPES.get(mime)
        if limit is None:
            raise invalid_parameter(
                "Param file must be a file with one of the following types: "
                f"{', '.join(MEDIA_TYPES)}. Received file of type '{mime}'."
            )
        if len(data) > limit:
            details = f"Uploaded {mime} file is {len(data)} bytes; the limit is {limit} bytes."
            raise coded(400, MEDIA_UPLOAD, details)
        number = request.match_info["number"]
        media = self._store_media(data, mime, number=number, filename=upload.filename)
        return {"id": media.id}

    async def _media_info(self, request: web.Request, exchange: _Exchange) -> Params:
        media = self._known_media(request)
        key = secrets.token_urlsafe(16)
        self._media_urls[key] = (media.id, self._clock() + MEDIA_URL_TTL)
        return {
            "messaging_product": "whatsapp",
            "url": f"{self.root_url}/_media/{key}",
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": len(media.data),
            "id": media.id,
        }

    async def _media_delete(self, request: web.Request, exchange: _Exchange) -> Params:
        del self._media[self._known_media(request).id]
        return {"success": True}

    def _known_media(self, request: web.Request) -> MediaFile:
        media_id = request.match_info["media_id"]
        media = self._media.get(media_id)
        if media is None:
            raise unknown_object(media_id, request.method.lower())
        return media

    async def _download(self, request: web.Request) -> web.Response:
        """GET of a URL from ``GET /{media_id}``: the bytes, with the bearer token."""
        entry = self._media_urls.get(request.match_info["key"])
        media = self._media.get(entry[0]) if entry else None
        if _bearer(request) not in self._numbers.values():
            status, response = (
                401,
                web.json_response(invalid_token().to_json(_trace_id()), status=401),
            )
        elif entry is None or media is None or self._clock() > entry[1]:
            status, response = 404, web.Response(status=404, text="URL signature expired")
        else:
            status, response = 200, web.Response(body=media.data, content_type=media.mime_type)
        code = 190 if status == 401 else None
        self._record(
            RecordedRequest(
                "GET", request.path, "media_download", None, {}, status, code, self._clock()
            )
        )
        await self._notify()
        return response

    async def _unknown(self, request: web.Request) -> web.Response:
        error = GraphError(400, 2500, f"Unknown path components: {request.path}")
        self._record(
            RecordedRequest(
                request.method, request.path, "unknown", None, {}, 400, 2500, self._clock()
            )
        )
        await self._notify()
        return web.json_response(error.to_json(_trace_id()), status=400)

    # -- control endpoints -----------------------------------------------------------

    async def _ctl_calls(self, request: web.Request) -> web.Response:
        query = request.query
        calls = self.calls(
            phone_number_id=query.get("phone_number_id") or None,
            to=query.get("to") or None,
            endpoint=query.get("endpoint") or None,
            ok_only=query.get("ok_only", "0").lower() in ("1", "true", "yes"),
        )
        return web.json_response([call.to_json() for call in calls])

    async def _ctl_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _ctl_inbound(self, request: web.Request) -> web.Response:
        """Body: a webhook payload; opens the window for its senders (see ``inbound``)."""
        try:
            payload = await request.json()
            if not isinstance(payload, dict):
                raise ValueError("the payload must be a JSON object")
            self.inbound(payload)
        except (TypeError, ValueError, AttributeError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def _ctl_config(self, request: web.Request) -> web.Response:
        """Body: limit fields (top level or under "limits"), "numbers" {id: token},
        "templates" [[name, language]], "blocked", "unblocked", "fail_next" {count, status,
        code, message}, "customer_wrote" [{phone_number_id, wa_id, user_id}].
        """
        try:
            config = await request.json()
            if not isinstance(config, dict):
                raise ValueError("config must be a JSON object")
            limit_names = {f.name for f in fields(WhatsAppLimits)}
            changes = {k: v for k, v in config.items() if k in limit_names}
            changes.update(config.pop("limits", None) or {})
            known = {"numbers", "templates", "blocked", "unblocked", "fail_next", "customer_wrote"}
            unknown = set(config) - limit_names - known
            if unknown:
                raise ValueError(f"unknown config keys: {sorted(unknown)}")
            for number, token in (config.get("numbers") or {}).items():
                self.add_number(str(number), str(token))
            for name, language in config.get("templates", ()):
                self.add_template(str(name), str(language))
            for wa_id in config.get("blocked", ()):
                self.block(str(wa_id))
            for wa_id in config.get("unblocked", ()):
                self.unblock(str(wa_id))
            if "fail_next" in config:
                self.fail_next(**config["fail_next"])
            for customer in config.get("customer_wrote", ()):
                self.customer_wrote(**customer)
            limits = self.configure_limits(**changes) if changes else self.limits
        except (TypeError, ValueError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "limits": asdict(limits)})


def _graph_path(request: web.Request) -> str:
    """The path without its version segment: ``/v23.0/1/messages`` -> ``/1/messages``."""
    version = request.match_info.get("version")
    return request.path[len(version) + 1 :] if version else request.path


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query.get("access_token")


async def _body(request: web.Request) -> Params:
    """The JSON body, or form fields (nested objects JSON-encoded) as Graph also takes.

    An unreadable body is empty, so validation answers as Graph does: a required
    parameter is missing.
    """
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    form = await request.post()
    params: Params = {}
    for key, value in form.items():
        if isinstance(value, str):
            try:
                params[key] = json.loads(value) if value[:1] in "{[" and value else value
            except ValueError:
                params[key] = value
    return params


def _recipient_of(body: Params) -> str | None:
    """Best guess at who a (maybe invalid) send addressed, so it can be looked up."""
    to, user_id = body.get("to"), body.get("recipient")
    if isinstance(to, str):
        return phone_digits(to)
    return user_id if isinstance(user_id, str) else None


def _wamid(number: str, user: str, serial: int) -> str:
    raw = f"{number}:{user}:{serial}:{secrets.token_hex(4)}".encode()
    return "wamid." + base64.b64encode(raw).decode()


def _trace_id() -> str:
    return "A" + secrets.token_urlsafe(16)


def _visible_text(body: Params) -> str:
    kind = body.get("type", "text")
    content = body.get(kind, {})
    if kind == "text":
        return str(content.get("body", ""))
    if kind == "interactive":
        return str(content.get("body", {}).get("text", ""))
    if kind == "image":
        return str(content.get("caption", ""))
    if kind == "template":
        return str(content.get("name", ""))
    return ""


async def _serve(args: argparse.Namespace) -> None:
    limits = WhatsAppLimits(
        throughput_enabled=not args.no_limits,
        pair_enabled=not args.no_limits,
        window_enabled=not args.no_window,
    )
    numbers = dict(spec.split(":", 1) for spec in args.number)
    api = FakeWhatsAppAPI(numbers, limits=limits)
    for spec in args.template:
        name, _, language = spec.partition(":")
        api.add_template(name, language or "en_US")
    await serve_until_stopped(api, args.host, args.port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake WhatsApp Cloud API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--number", action="append", default=[], help="<phone_number_id>:<token>")
    parser.add_argument("--template", action="append", default=[], help="<name>[:<language>]")
    parser.add_argument("--no-limits", action="store_true", help="no throughput or pair rate limit")
    parser.add_argument("--no-window", action="store_true", help="no 24-hour service window")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
