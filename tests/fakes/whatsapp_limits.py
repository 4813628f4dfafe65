"""Graph API errors and WhatsApp's sending limits for the fake WhatsApp Cloud API.

Kept apart from the HTTP server so both can be unit-tested without sockets; the limiter
takes an injectable clock so tests never sleep. Errors answer in the Graph shape:
``{"error": {"message", "type", "code", "error_data": {"messaging_product", "details"},
"fbtrace_id"}}``; clients should branch on ``code``, as Meta advises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram_limits import TokenBucket

Params = dict[str, Any]

GRAPH_VERSION = "v23.0"

# Graph error codes the fake answers with, and their titles (also used in status webhooks).
INVALID_PARAMETER = 100
ACCESS_TOKEN = 190
THROUGHPUT = 130429
SOMETHING_WRONG = 131000
PARAMETER_NOT_VALID = 131009
UNDELIVERABLE = 131026
RE_ENGAGEMENT = 131047
MEDIA_UPLOAD = 131053
PAIR_RATE = 131056
TEMPLATE_PARAMS = 132000
TEMPLATE_MISSING = 132001

TITLES = {
    1: "API Unknown",
    2: "API Service",
    INVALID_PARAMETER: "Invalid parameter",
    THROUGHPUT: "Rate limit hit",
    SOMETHING_WRONG: "Something went wrong",
    PARAMETER_NOT_VALID: "Parameter value is not valid",
    UNDELIVERABLE: "Message undeliverable",
    RE_ENGAGEMENT: "Re-engagement message",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131050: "User has stopped receipt of marketing messages.",
    MEDIA_UPLOAD: "Media upload error",
    PAIR_RATE: "(Business Account, Consumer Account) pair rate limit hit",
    TEMPLATE_PARAMS: "Number of parameters does not match the expected number of params",
    TEMPLATE_MISSING: "Template name does not exist in the translation",
}
DETAILS = {
    THROUGHPUT: "Cloud API message throughput has been reached.",
    UNDELIVERABLE: (
        "Unable to deliver message. Reasons can include: the recipient phone number is not "
        "a WhatsApp phone number; the recipient has not accepted the new Terms of Service."
    ),
    RE_ENGAGEMENT: (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    ),
    PAIR_RATE: (
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time."
    ),
}


class GraphError(Exception):
    """A Graph API failure: HTTP ``status`` with a Graph error object carrying ``code``."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        details: str | None = None,
        kind: str = "OAuthException",
        subcode: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.kind = kind
        self.subcode = subcode

    def to_json(self, trace_id: str) -> Params:
        error: Params = {"message": self.message, "type": self.kind, "code": self.code}
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = trace_id
        return {"error": error}


def coded(status: int, code: int, details: str | None = None) -> GraphError:
    """The error ``code`` with its title as Graph words it: ``(#code) Title``."""
    title = TITLES.get(code, "Unknown error")
    return GraphError(status, code, f"(#{code}) {title}", details=details or DETAILS.get(code))


def invalid_parameter(text: str) -> GraphError:
    """Code 100: a parameter is missing, of the wrong type or outside what the API takes."""
    return GraphError(400, INVALID_PARAMETER, f"(#100) {text}", details=text)


def not_valid(text: str) -> GraphError:
    """Code 131009: a parameter is present but its value breaks a WhatsApp limit."""
    return coded(400, PARAMETER_NOT_VALID, text)


def invalid_token() -> GraphError:
    return GraphError(401, ACCESS_TOKEN, "Invalid OAuth access token - Cannot parse access token")


def unknown_object(object_id: str, verb: str) -> GraphError:
    """What Graph answers for an id that does not exist or the token may not use."""
    return GraphError(
        400,
        INVALID_PARAMETER,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        kind="GraphMethodException",
        subcode=33,
    )


@dataclass
class WhatsAppLimits:
    """Sending limits; the defaults mirror Meta's documented Cloud API limits.

    ``throughput``: messages per second per business number (80 by default; error 130429,
    answered with HTTP 429). ``pair_interval``/``pair_burst``: one message every 6 s to the
    same user on average with a burst of up to 45 (Meta's numbers; error 131056).
    ``window``: seconds the customer service window stays open after the customer's last
    message (24 h; error 131047 for anything but a template).
    """

    throughput: float = 80.0
    throughput_burst: int = 80
    throughput_enabled: bool = True
    pair_interval: float = 6.0
    pair_burst: int = 45
    pair_enabled: bool = True
    window: float = 24 * 3600.0
    window_enabled: bool = True


class SendLimiter:
    """Per-number throughput and per (number, user) pair-rate buckets, all-or-nothing."""

    def __init__(self, limits: WhatsAppLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._numbers: dict[str, TokenBucket] = {}
        self._pairs: dict[tuple[str, str], TokenBucket] = {}

    def reset(self) -> None:
        self._numbers.clear()
        self._pairs.clear()

    def throughput_error(self, number: str) -> GraphError | None:
        """130429 if ``number`` has used up its messages per second now, else None.

        Checks consume nothing: ``take()`` charges an accepted message, so a refused one
        costs nothing and a client that backs off is served on its retry.
        """
        now = self.clock()
        if self.limits.throughput_enabled and self._number(number, now).wait_time(now) > 0:
            return coded(429, THROUGHPUT)
        return None

    def pair_error(self, number: str, user: str) -> GraphError | None:
        """131056 if ``number`` sent ``user`` too many messages lately, else None."""
        now = self.clock()
        if self.limits.pair_enabled and self._pair(number, user, now).wait_time(now) > 0:
            return coded(400, PAIR_RATE)
        return None

    def take(self, number: str, user: str) -> None:
        now = self.clock()
        if self.limits.throughput_enabled:
            self._number(number, now).take()
        if self.limits.pair_enabled:
            self._pair(number, user, now).take()

    def _number(self, number: str, now: float) -> TokenBucket:
        bucket = self._numbers.get(number)
        if bucket is None:
            limits = self.limits
            bucket = TokenBucket(limits.throughput, limits.throughput_burst, now)
            self._numbers[number] = bucket
        return bucket

    def _pair(self, number: str, user: str, now: float) -> TokenBucket:
        bucket = self._pairs.get((number, user))
        if bucket is None:
            limits = self.limits
            rate = 1.0 / limits.pair_interval if limits.pair_interval > 0 else float("inf")
            bucket = self._pairs[number, user] = TokenBucket(rate, limits.pair_burst, now)
        return bucket
