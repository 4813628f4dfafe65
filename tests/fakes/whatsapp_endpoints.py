"""The Graph endpoints of the fake WhatsApp Cloud API (see whatsapp_api.py).

Each endpoint handler takes ``(request, exchange)``, fills ``exchange`` with what the
record needs and returns the JSON answer, or raises GraphError. Order inside a send
mirrors what matters to clients: authorization, injected failures, validation (100,
131009), templates (132001, 132000), then throughput (130429), a blocked user (131026),
the service window (131047) and the pair rate (131056); only an accepted message is
charged to the rate limits.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections import deque
from collections.abc import Awaitable, Callable

from aiohttp import web

from tests.fakes.http_fake import FakeHTTPServer
from tests.fakes.whatsapp_limits import (
    MEDIA_UPLOAD,
    RE_ENGAGEMENT,
    TEMPLATE_MISSING,
    TEMPLATE_PARAMS,
    UNDELIVERABLE,
    GraphError,
    Params,
    SendLimiter,
    coded,
    invalid_parameter,
    invalid_token,
    not_valid,
    unknown_object,
)
from tests.fakes.whatsapp_messages import BSUID, check_message, phone_digits
from tests.fakes.whatsapp_protocol import (
    MEDIA_TYPES,
    MEDIA_URL_TTL,
    RATE_LIMITED,
    Exchange,
    MediaFile,
    RecordedRequest,
    bearer,
    graph_path,
    read_body,
    recipient_of,
    trace_id,
)
from tests.fakes.whatsapp_webhooks import new_wamid

Handler = Callable[[web.Request, Exchange], Awaitable[Params]]


class GraphEndpoints(FakeHTTPServer):
    """Handlers of the Graph endpoints; the state is set up by FakeWhatsAppAPI."""

    _clock: Callable[[], float]
    _numbers: dict[str, str]  # phone_number_id -> token
    _display_numbers: dict[str, str]  # phone_number_id -> display phone number
    _templates: dict[tuple[str, str], int | None]  # (name, language) -> body parameters
    _limiter: SendLimiter
    _calls: list[RecordedRequest]
    _stats: dict[str, list[int]]
    _failures: deque[GraphError]
    _blocked: set[str]
    _wrote: dict[tuple[str, str], float]  # (number, user) -> the customer's last message
    _aliases: dict[str, str]  # BSUID -> wa_id, once a payload showed both
    _media: dict[str, MediaFile]
    _media_urls: dict[str, tuple[str, float]]  # url key -> (media id, expiry)
    _ids: itertools.count[int]  # media ids

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
        counters[0 if call.ok else 1 if call.code in RATE_LIMITED else 2] += 1

    def _authorize(self, request: web.Request, number: str | None) -> None:
        token = bearer(request)
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
            exchange = Exchange()
            code: int | None = None
            try:
                self._authorize(request, number)
                status, payload = 200, await handler(request, exchange)
            except GraphError as exc:
                status, code, payload = exc.status, exc.code, exc.to_json(trace_id())
            except Exception as exc:  # a bug in the fake must still answer in Graph's shape
                error = GraphError(500, 1, f"An unknown error occurred: {exc!r}")
                status, code, payload = 500, 1, error.to_json(trace_id())
            self._record(
                RecordedRequest(
                    request.method,
                    graph_path(request),
                    exchange.endpoint or endpoint,
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

    async def _send(self, request: web.Request, exchange: Exchange) -> Params:
        number = request.match_info["number"]
        body = exchange.body = await read_body(request)
        exchange.recipient = recipient_of(body)
        receipt = body.get("status") == "read"
        if receipt:
            exchange.endpoint = "mark_read"
        self._inject()
        if receipt:
            return _mark_read(body)
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
        wamid = exchange.message_id = new_wamid()
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

    async def _upload(self, request: web.Request, exchange: Exchange) -> Params:
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

    async def _object_info(self, request: web.Request, exchange: Exchange) -> Params:
        """GET /{id}: a media file's download URL, or a phone number's profile."""
        number = request.match_info["media_id"]
        if number in self._numbers:
            exchange.endpoint = "number"
            if self._numbers[number] != bearer(request):
                raise unknown_object(number, "get")
            return {
                "verified_name": "Souk Test Shop",
                "display_phone_number": self._display_numbers[number],
                "id": number,
                "quality_rating": "GREEN",
                "code_verification_status": "VERIFIED",
                "platform_type": "CLOUD_API",
                "throughput": {"level": "STANDARD"},
            }
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

    async def _media_delete(self, request: web.Request, exchange: Exchange) -> Params:
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
        if bearer(request) not in self._numbers.values():
            status, response = (
                401,
                web.json_response(invalid_token().to_json(trace_id()), status=401),
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
        return web.json_response(error.to_json(trace_id()), status=400)


def _mark_read(body: Params) -> Params:
    """``{"status": "read", "message_id"}``: a read receipt (and typing indicator) for an
    inbound message; not a message, so no window or rate limit applies."""
    if body.get("messaging_product") != "whatsapp":
        raise invalid_parameter("The parameter messaging_product is required.")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise invalid_parameter("The parameter message_id is required.")
    indicator = body.get("typing_indicator")
    if indicator is not None and indicator != {"type": "text"}:
        raise invalid_parameter("Param typing_indicator['type'] must be 'text'.")
    return {"success": True}
