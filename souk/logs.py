"""Structured logging that never prints a secret.

Every record, ours or a library's (aiogram, aiohttp, celery), goes through one
structlog processor chain whose last step before rendering scrubs secrets: the
values registered with `register_secret` (tokens, webhook secrets, passwords in
URLs) and anything shaped like a Telegram bot token.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

# Not \b at the start: in Bot API URLs the token follows "bot" directly.
_BOT_TOKEN = re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{20,}")
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@/\s]+@")
_REDACTED = "[redacted]"
_secrets: set[str] = set()


def register_secret(*values: str | None) -> None:
    """Remember values that must never appear in a log line."""
    for value in values:
        if value and len(value) >= 6:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return `text` with every known secret and token-shaped string replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, _REDACTED)
    text = _BOT_TOKEN.sub(_REDACTED, text)
    return _URL_PASSWORD.sub(r"\g<scheme>:" + _REDACTED + "@", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: scrub every field, including rendered tracebacks."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _redact_value(value)
    return event_dict


def _shared_processors() -> Iterable[Any]:
    return (
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
    )


def setup_logging(*, level: str = "INFO", json: bool = False) -> None:
    """Configure structlog and route the standard library's loggers through it."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        # Plain tracebacks: rich ones print local variables, and locals hold tokens.
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=list(_shared_processors()),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per webhook or per beat tick: useful at DEBUG only.
    for noisy in (
        "aiohttp.access",
        "celery.app.trace",
        "celery.worker.strategy",
        "celery.beat",
        "aiogram.event",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """One named logger per subsystem (souk.inbox, souk.outbox, ...)."""
    return structlog.stdlib.get_logger(name)
