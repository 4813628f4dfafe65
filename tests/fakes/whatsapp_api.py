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
import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from aiohttp import web

from tests.fakes.http_fake import changed_limits, limit_changes, serve_until_stopped
from tests.fakes.whatsapp_endpoints import GraphEndpoints
from tests.fakes.whatsapp_limits import (
    GRAPH_VERSION,
    SOMETHING_WRONG,
    GraphError,
    Params,
    SendLimiter,
    WhatsAppLimits,
    coded,
)
from tests.fakes.whatsapp_messages import phone_digits
from tests.fakes.whatsapp_protocol import MB, MediaFile, RecordedRequest, visible_text
from tests.fakes.whatsapp_webhooks import (
    DISPLAY_PHONE_NUMBER,
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

_VERSION = "/{version:v[0-9]+\\.[0-9]+}"


class FakeWhatsAppAPI(GraphEndpoints):
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
        super().__init__(base_path=f"/{api_version}", client_max_size=101 * MB)
        self._clock = clock
        self._numbers: dict[str, str] = {}
        self._display_numbers: dict[str, str] = {}
        for number, token in (numbers or {}).items():
            self.add_number(number, token)
        self._templates: dict[tuple[str, str], int | None] = {}
        self._limiter = SendLimiter(limits or WhatsAppLimits(), clock)
        self._calls: list[RecordedRequest] = []
        self._stats: dict[str, list[int]] = {}
        self._failures: deque[GraphError] = deque()
        self._blocked: set[str] = set()
        self._wrote: dict[tuple[str, str], float] = {}
        self._aliases: dict[str, str] = {}
        self._media: dict[str, MediaFile] = {}
        self._media_urls: dict[str, tuple[str, float]] = {}
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
            router.add_get(prefix + "/{media_id}", self._on(self._object_info, "media"))
            router.add_delete(prefix + "/{media_id}", self._on(self._media_delete, "media_delete"))
        router.add_route("*", "/{tail:.*}", self._unknown)

    # -- configuration ---------------------------------------------------------------

    def add_number(
        self,
        phone_number_id: str,
        token: str,
        *,
        display_phone_number: str = DISPLAY_PHONE_NUMBER,
    ) -> None:
        """Serve ``phone_number_id`` to requests bearing ``token`` from now on."""
        if not phone_number_id or not token:
            raise ValueError("a number needs a phone_number_id and a token")
        self._numbers[phone_number_id] = token
        self._display_numbers[phone_number_id] = display_phone_number

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
        self._limiter.limits = changed_limits(self._limiter.limits, changes)
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
        """Answer the next ``count`` sends (read receipts too) and uploads (any number)
        with this Graph error."""
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
        return [visible_text(call.body) for call in self.delivered(to, phone_number_id)]

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
            others = {"numbers", "templates", "blocked", "unblocked", "fail_next", "customer_wrote"}
            changes = limit_changes(config, WhatsAppLimits, others)
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
