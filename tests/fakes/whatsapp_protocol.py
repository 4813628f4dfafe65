"""Wire-level pieces of the fake WhatsApp Cloud API: records, media and request parsing.

Shared by whatsapp_api.py (the server) and whatsapp_endpoints.py (the Graph endpoints).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field

from aiohttp import web

from tests.fakes.whatsapp_limits import PAIR_RATE, THROUGHPUT, Params
from tests.fakes.whatsapp_messages import phone_digits

MEDIA_URL_TTL = 300.0  # a URL from GET /{media_id} downloads for 5 minutes
MB = 1024 * 1024
# What /media accepts, with the largest file of each type (Cloud API media limits).
MEDIA_TYPES = {
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 500 * 1024,  # stickers
    "audio/aac": 16 * MB,
    "audio/amr": 16 * MB,
    "audio/mpeg": 16 * MB,
    "audio/mp4": 16 * MB,
    "audio/ogg": 16 * MB,
    "video/mp4": 16 * MB,
    "video/3gpp": 16 * MB,
    "text/plain": 100 * MB,
    "application/pdf": 100 * MB,
    "application/vnd.ms-excel": 100 * MB,
    "application/msword": 100 * MB,
    "application/vnd.ms-powerpoint": 100 * MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * MB,
}
RATE_LIMITED = frozenset({THROUGHPUT, PAIR_RATE})  # counted apart in stats()


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake saw it; ``code`` is the Graph error code (None if ok)."""

    method: str
    path: str  # without the version, e.g. "/1065403/messages"
    # messages, mark_read, media_upload, media, number, media_delete, media_download, unknown
    endpoint: str
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
class Exchange:
    """What a handler learnt about a request, for its record."""

    body: Params = field(default_factory=dict)
    recipient: str | None = None
    message_id: str | None = None
    endpoint: str | None = None  # when it differs from the route's (a read receipt)


def graph_path(request: web.Request) -> str:
    """The path without its version segment: ``/v23.0/1/messages`` -> ``/1/messages``."""
    version = request.match_info.get("version")
    return request.path[len(version) + 1 :] if version else request.path


def bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query.get("access_token")


async def read_body(request: web.Request) -> Params:
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


def recipient_of(body: Params) -> str | None:
    """Best guess at who a (maybe invalid) send addressed, so it can be looked up."""
    to, user_id = body.get("to"), body.get("recipient")
    if isinstance(to, str):
        return phone_digits(to)
    return user_id if isinstance(user_id, str) else None


def trace_id() -> str:
    return "A" + secrets.token_urlsafe(16)


def visible_text(body: Params) -> str:
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
