"""Secrets never reach a log line: the redaction itself and the whole logging pipeline."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from souk.logs import get_logger, redact, register_secret, setup_logging

REDACTED = "[redacted]"


def make_token() -> str:
    return f"{secrets.randbelow(9 * 10**8) + 10**8}:AA{secrets.token_urlsafe(25)}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:pw@host/db", f"postgresql://u:{REDACTED}@host/db"),
        (
            "postgresql+asyncpg://souk:s3cr%40t@db.internal:5432/souk",
            f"postgresql+asyncpg://souk:{REDACTED}@db.internal:5432/souk",
        ),
        ("redis://:hunter22@cache:6379/0", f"redis://:{REDACTED}@cache:6379/0"),
        ("connect to postgresql://u@host/db failed", "connect to postgresql://u@host/db failed"),
        ("order 12345 shipped at 10:30", "order 12345 shipped at 10:30"),
        ("", ""),
    ],
)
def test_redact_url_passwords_and_plain_text(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_bot_token() -> None:
    token = make_token()
    assert redact(f"token={token} end") == f"token={REDACTED} end"
    assert redact(token) == REDACTED


def test_redact_bot_token_in_bot_api_url() -> None:
    token = make_token()
    url = f"https://api.telegram.org/bot{token}/getMe"
    assert redact(url) == f"https://api.telegram.org/bot{REDACTED}/getMe"
    file_url = f"https://api.telegram.org/file/bot{token}/photos/file_1.jpg"
    assert redact(file_url) == f"https://api.telegram.org/file/bot{REDACTED}/photos/file_1.jpg"


def test_redact_registered_secret() -> None:
    secret = f"whsec-{secrets.token_hex(8)}"
    assert redact(f"header {secret}!") == f"header {secret}!"
    register_secret(secret, None)
    assert redact(f"header {secret}!") == f"header {REDACTED}!"
    assert redact(f"{secret}{secret}") == REDACTED * 2


def test_register_secret_ignores_short_values() -> None:
    # Short values would blank out ordinary words all over the logs.
    register_secret("ab1", "")
    assert redact("ab1 is fine") == "ab1 is fine"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put back the session's logging after a test that reconfigured it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    setup_logging(level="INFO")
    root.handlers[:] = handlers
    root.setLevel(level)


def json_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_structlog_exception_is_redacted_in_json(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token()
    setup_logging(json=True)
    log = get_logger("souk.test.logs")
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/sendMessage failed")
    except RuntimeError:
        log.exception(
            "telegram call failed",
            url=f"https://api.telegram.org/bot{token}/getMe",
            nested={"token": token, "items": [token]},
            shop_id=7,
        )

    err = capsys.readouterr().err
    assert token not in err
    [line] = json_lines(err)
    assert line["event"] == "telegram call failed"
    assert line["level"] == "error"
    assert line["logger"] == "souk.test.logs"
    assert line["shop_id"] == 7
    assert line["url"] == f"https://api.telegram.org/bot{REDACTED}/getMe"
    assert line["nested"] == {"token": REDACTED, "items": [REDACTED]}
    assert "RuntimeError" in line["exception"]
    assert f"bot{REDACTED}/sendMessage" in line["exception"]


def test_structlog_positional_arguments_are_redacted(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token()
    setup_logging(json=True)
    get_logger("souk.test.logs").warning("bot %s rejected", token)
    [line] = json_lines(capsys.readouterr().err)
    assert line["event"] == f"bot {REDACTED} rejected"


def test_stdlib_logger_is_redacted(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token()
    setup_logging(json=True)
    try:
        raise ConnectionError(f"cannot reach https://api.telegram.org/bot{token}/getUpdates")
    except ConnectionError:
        logging.getLogger("aiogram").exception("request to %s failed", f"bot{token}")

    err = capsys.readouterr().err
    assert token not in err
    [line] = json_lines(err)
    assert line["logger"] == "aiogram"
    assert line["event"] == f"request to bot{REDACTED} failed"
    assert f"bot{REDACTED}/getUpdates" in line["exception"]


def test_console_renderer_is_redacted(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token()
    setup_logging(json=False)
    try:
        raise RuntimeError(f"bad token {token}")
    except RuntimeError:
        get_logger("souk.test.logs").exception("failed", dsn="postgresql://u:pw@host/db")
    logging.getLogger("aiohttp.client").error("token %s", token)

    err = capsys.readouterr().err
    assert token not in err
    assert ":pw@" not in err
    assert err.count(REDACTED) >= 3
