"""Wire-level pieces of the fake Telegram Bot API: request parsing and plain records.

Shared by telegram_api.py (the server) and telegram_methods.py (the handlers).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.telegram_limits import bad_request

Params = dict[str, Any]

# Values aiogram sends JSON-encoded inside multipart forms.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "prices",
        "entities",
        "link_preview_options",
        "caption_entities",
        "reply_parameters",
        "media",
        "suggested_tip_amounts",
        "options",
        "results",
        "permissions",
        "reaction",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "max_connections",
        "cache_time",
        "message_thread_id",
        "reply_to_message_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "ok",
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "is_flexible",
        "has_spoiler",
        "need_name",
        "need_email",
        "need_phone_number",
        "need_shipping_address",
        "disable_content_type_detection",
        "show_caption_above_media",
        "allow_sending_without_reply",
    }
)
_FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
INT_PATTERN = re.compile(r"-?\d+")
FLOAT_PATTERN = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One Bot API call as the fake saw it; ``status`` is the HTTP status answered."""

    bot_id: int
    method: str
    params: Params
    status: int
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200

    def to_json(self) -> Params:
        return {
            "bot_id": self.bot_id,
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "at": self.at,
        }


def coerce(key: str, value: str) -> Any:
    if key in _JSON_FIELDS and value.startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {key} JSON object") from None
    if key in _INT_FIELDS and INT_PATTERN.fullmatch(value):
        return int(value)
    if key in _FLOAT_FIELDS and FLOAT_PATTERN.fullmatch(value):
        return float(value)
    if key in _BOOL_FIELDS and value in ("true", "false", "True", "False"):
        return value in ("true", "True")
    return value


async def parse_params(request: web.Request) -> Params:
    """Merge query string, JSON body or form (urlencoded/multipart) into one dict."""
    params: Params = {key: coerce(key, value) for key, value in request.query.items()}
    if request.method != "POST" or not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        for key, value in body.items():
            params[key] = coerce(key, value) if isinstance(value, str) else value
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            # Record only metadata: the bytes are irrelevant to tests and would bloat records.
            value.file.seek(0, 2)
            params[key] = {
                "filename": value.filename,
                "content_type": value.content_type,
                "size": value.file.tell(),
            }
        else:
            text = value.decode() if isinstance(value, (bytes, bytearray)) else value
            params[key] = coerce(key, text)
    return params


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """What setWebhook stored for a bot (the fake never calls the URL)."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int


def chat_object(chat_id: int) -> Params:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}


def message_update(chat_id: int, text: str, *, message_id: int = 1) -> Params:
    """An incoming text message update (update_id is assigned by push_update)."""
    user = {"id": chat_id, "is_bot": False, "first_name": f"User {chat_id}"}
    return {
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat_object(chat_id),
            "from": user,
            "text": text,
        }
    }


def callback_query_update(chat_id: int, data: str, *, message_id: int = 1) -> Params:
    """A button press on message ``message_id`` in ``chat_id``."""
    user = {"id": chat_id, "is_bot": False, "first_name": f"User {chat_id}"}
    message = {"message_id": message_id, "date": int(time.time()), "chat": chat_object(chat_id)}
    return {
        "callback_query": {
            "id": f"cq{time.monotonic_ns()}",
            "from": user,
            "chat_instance": str(chat_id),
            "message": message,
            "data": data,
        }
    }
