"""Settings: parsing from the environment and `.env`, documented defaults, secrets, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

from souk.config import (
    SETTINGS_CLASSES,
    AISettings,
    CoreSettings,
    HttpSettings,
    MonitorSettings,
    OutboxSettings,
    TelegramSettings,
    WhatsAppSettings,
)


def env_names() -> set[str]:
    names: set[str] = set()
    for cls in SETTINGS_CLASSES:
        prefix = str(cls.model_config.get("env_prefix", ""))
        names.update((prefix + field).upper() for field in cls.model_fields)
    return names


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting from the environment or a `.env` of the developer; cwd is an empty tmp dir."""
    for name in env_names():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1, 2;3", [1, 2, 3]), ("42", [42]), ("", []), (" 7 ,, 8 ", [7, 8])],
)
def test_admin_ids_parse(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]
) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", raw)
    assert CoreSettings().admin_telegram_ids == expected


def test_admin_ids_reject_non_numbers(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "1,alice")
    with pytest.raises(ValidationError):
        CoreSettings()


def test_defaults_match_spec(clean_env: Path) -> None:
    core, http = CoreSettings(), HttpSettings()
    telegram, whatsapp, ai = TelegramSettings(), WhatsAppSettings(), AISettings()
    assert http.host == "127.0.0.1"
    assert http.port == 8080
    assert telegram.api_base == "https://api.telegram.org"
    assert whatsapp.api_base == "https://graph.facebook.com/v23.0"
    assert core.human_takeover_minutes == 30
    assert ai.embeddings == "local"
    assert core.admin_telegram_ids == []
    assert core.database_url is None
    assert core.redis_url is None
    assert telegram.bot_token is None


def test_monitor_defaults(clean_env: Path) -> None:
    monitor = MonitorSettings()
    assert (monitor.per_host_concurrency, monitor.per_host_delay_seconds) == (1, 2.0)
    assert (monitor.timeout_seconds, monitor.retries, monitor.breaker_seconds) == (15, 2, 3600)
    assert monitor.max_page_bytes == 3 * 1024 * 1024
    assert monitor.allow_private_addresses is False
    assert monitor.user_agent.startswith("souk-monitor/")


def test_environment_overrides_with_prefix(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PORT", "9090")
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("PORT", "1")  # no prefix: not HttpSettings.port
    assert HttpSettings().port == 9090
    assert OutboxSettings().max_attempts == 3


def test_dotenv_in_working_directory_is_read(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text(
        "HTTP_PORT=8181\nHUMAN_TAKEOVER_MINUTES=45\nTELEGRAM_BOT_TOKEN=123456:dotenv-token\n"
        "EMBEDDINGS=openai\n",
        encoding="utf-8",
    )
    assert HttpSettings().port == 8181
    assert CoreSettings().human_takeover_minutes == 45
    token = TelegramSettings().bot_token
    assert token is not None
    assert token.get_secret_value() == "123456:dotenv-token"
    assert AISettings().embeddings == "openai"
    # The environment wins over the file.
    monkeypatch.setenv("HTTP_PORT", "8282")
    assert HttpSettings().port == 8282


def test_secrets_are_hidden(clean_env: Path) -> None:
    token = "123456789:AAsecret-token-value-0123456789"
    telegram = TelegramSettings(bot_token=token, webhook_secret="hook-secret-value")
    assert isinstance(telegram.bot_token, SecretStr)
    assert isinstance(telegram.webhook_secret, SecretStr)
    assert telegram.bot_token.get_secret_value() == token
    for text in (repr(telegram), str(telegram), str(telegram.model_dump())):
        assert token not in text
        assert "hook-secret-value" not in text

    core = CoreSettings(database_url="postgresql+asyncpg://souk:db-password@db/souk")
    assert isinstance(core.database_url, SecretStr)
    assert "db-password" not in repr(core)

    whatsapp = WhatsAppSettings(access_token="wa-access-token", app_secret="wa-app-secret")
    assert "wa-access-token" not in repr(whatsapp)
    assert "wa-app-secret" not in repr(whatsapp)


@pytest.mark.parametrize(
    ("name", "value", "cls"),
    [
        ("HTTP_PORT", "abc", HttpSettings),
        ("HTTP_PORT", "70000", HttpSettings),
        ("TELEGRAM_WEBHOOK_MAX_CONNECTIONS", "101", TelegramSettings),
        ("TELEGRAM_WEBHOOK_MAX_CONNECTIONS", "0", TelegramSettings),
        ("TELEGRAM_PER_CHAT_RATE", "0", TelegramSettings),
        ("HUMAN_TAKEOVER_MINUTES", "0", CoreSettings),
        ("EMBEDDINGS", "remote", AISettings),
        ("EMBEDDINGS_THREADS", "0", AISettings),
        ("EMBEDDINGS_QUERY_CACHE", "-1", AISettings),
        ("POSTGRES_SHARED_BUFFERS", "lots", CoreSettings),
        ("POSTGRES_SHARED_BUFFERS", "512MB; DROP", CoreSettings),
        ("MONITOR_PER_HOST_CONCURRENCY", "0", MonitorSettings),
        ("MONITOR_TIMEOUT_SECONDS", "0", MonitorSettings),
        ("MONITOR_PER_HOST_DELAY_SECONDS", "-1", MonitorSettings),
    ],
)
def test_invalid_values_are_rejected(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    cls: type[BaseSettings],
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        cls()


def test_limits_accept_their_bounds(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_MAX_CONNECTIONS", "100")
    monkeypatch.setenv("HTTP_PORT", "65535")
    assert TelegramSettings().webhook_max_connections == 100
    assert HttpSettings().port == 65535
    monkeypatch.setenv("POSTGRES_SHARED_BUFFERS", "2GB")
    monkeypatch.setenv("EMBEDDINGS_QUERY_CACHE", "0")
    assert CoreSettings().postgres_shared_buffers == "2GB"
    assert AISettings().embeddings_query_cache == 0


def test_the_example_env_file_starts_a_working_configuration(clean_env: Path) -> None:
    """Regression: `TELEGRAM_BOT_TOKEN=` copied from .env.example read as an empty token."""
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (clean_env / ".env").write_text(example.read_text())
    assert TelegramSettings().bot_token is None
    assert CoreSettings().public_url is None
    assert CoreSettings().admin_telegram_ids == []
