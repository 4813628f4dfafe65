"""Telegram's limits for the fake Bot API: flood-control token buckets and content checks.

Kept apart from the HTTP server so both can be unit-tested without sockets; the
rate limiter takes an injectable clock so tests never have to sleep.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100
MAX_ROW_BUTTONS = 8
MAX_CALLBACK_ANSWER = 200
MAX_COMMANDS = 100
MAX_INVOICE_PAYLOAD = 128

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
# Float error in bucket arithmetic must not turn "1 second" into a 2 second retry_after.
_EPSILON = 1e-9


class ApiError(Exception):
    """A Bot API failure, answered as ``{"ok": false, "error_code": status, ...}``."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


@dataclass
class FakeLimits:
    """Flood-control settings; the defaults mirror Telegram's documented limits."""

    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    per_bot_rate: float = 30.0
    per_bot_burst: int = 30
    per_group_per_minute: int = 20
    enabled: bool = True


class TokenBucket:
    """Classic token bucket: ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0.0 when one is available now)."""
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0 - _EPSILON:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class RateLimiter:
    """Per (bot, chat), per bot and per group-chat buckets, checked all-or-nothing."""

    def __init__(self, limits: FakeLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._chat: dict[tuple[int, int], TokenBucket] = {}
        self._bot: dict[int, TokenBucket] = {}
        self._group: dict[tuple[int, int], TokenBucket] = {}

    def reset(self) -> None:
        self._chat.clear()
        self._bot.clear()
        self._group.clear()

    def acquire(self, bot_id: int, chat_id: int | None) -> int | None:
        """Consume one send; return None if allowed, else the retry_after in whole seconds.

        A refused send consumes nothing, like Telegram: a client that honours
        retry_after is served on its retry.
        """
        limits = self.limits
        if not limits.enabled:
            return None
        now = self.clock()
        bot = self._bot.get(bot_id)
        if bot is None:
            bot = self._bot[bot_id] = TokenBucket(limits.per_bot_rate, limits.per_bot_burst, now)
        buckets = [bot]
        if chat_id is not None:
            key = (bot_id, chat_id)
            chat = self._chat.get(key)
            if chat is None:
                chat = self._chat[key] = TokenBucket(
                    limits.per_chat_rate, limits.per_chat_burst, now
                )
            buckets.append(chat)
            if chat_id < 0:
                group = self._group.get(key)
                if group is None:
                    per_minute = limits.per_group_per_minute
                    group = self._group[key] = TokenBucket(per_minute / 60.0, per_minute, now)
                buckets.append(group)
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0.0:
            # Telegram always says "retry after N" with N >= 1, never 0.
            return max(1, math.ceil(wait - _EPSILON)) if math.isfinite(wait) else 3600
        for bucket in buckets:
            bucket.take()
        return None


def check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text


def check_caption(caption: Any) -> str | None:
    if caption is None:
        return None
    if not isinstance(caption, str):
        raise bad_request("can't parse caption")
    if len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return caption


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup the way Telegram does; return it only if it is inline."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    inline = rows is not None
    if rows is None:
        rows = markup.get("keyboard")
    if rows is None:
        return None  # ReplyKeyboardRemove / ForceReply: nothing to count
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" must be an Array of Arrays')
    total = 0
    for row in rows:
        if len(row) > MAX_ROW_BUTTONS:
            raise bad_request("too many buttons in a row")
        total += len(row)
        if inline:
            for button in row:
                _check_inline_button(button)
    if total > MAX_BUTTONS:
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    return markup if inline else None


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
    data = button.get("callback_data")
    if data is not None and (
        not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
    ):
        raise bad_request("BUTTON_DATA_INVALID")


def check_callback_answer(text: Any) -> None:
    if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")


def check_secret_token(secret: Any) -> str | None:
    if secret is None:
        return None
    if not isinstance(secret, str) or _SECRET_TOKEN.fullmatch(secret) is None:
        raise bad_request("secret token contains unallowed characters")
    return secret


def check_commands(commands: Any) -> list[dict[str, Any]]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if (
            not isinstance(command, dict)
            or _COMMAND.fullmatch(str(command.get("command", ""))) is None
        ):
            raise bad_request("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return commands


def check_invoice(params: dict[str, Any]) -> int:
    """Validate sendInvoice parameters and return the invoice total amount."""
    payload = params.get("payload")
    if not isinstance(payload, str) or not 1 <= len(payload.encode()) <= MAX_INVOICE_PAYLOAD:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    for field in ("title", "description", "currency"):
        if not isinstance(params.get(field), str) or not params[field]:
            raise bad_request(f"{field.upper()}_INVALID")
    prices = params.get("prices")
    if not isinstance(prices, list) or not prices:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    try:
        return sum(int(price["amount"]) for price in prices)
    except (KeyError, TypeError, ValueError):
        raise bad_request("can't parse prices JSON object") from None
