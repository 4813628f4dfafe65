"""The configuration table in README.md and docs/ is generated from souk/config.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from souk import config_docs
from souk.config import SETTINGS_CLASSES, CoreSettings, HttpSettings, TelegramSettings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOC = ROOT / "docs" / "configuration.md"


def test_readme_block_equals_rendered_table() -> None:
    block = config_docs.readme_block(README.read_text(encoding="utf-8"))
    assert block is not None, "README.md lacks the config markers; run `make docs`"
    assert block == config_docs.render_table().strip(), "README.md is stale; run `make docs`"
    assert config_docs.check(README)


def test_configuration_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == config_docs.render_doc(), (
        "docs/configuration.md is stale; run `make docs`"
    )
    assert config_docs.check(README, DOC)
    assert config_docs.differences(README, DOC) == []


def test_every_settings_field_is_in_the_table() -> None:
    table = config_docs.render_table()
    rows = {line.split("|")[1].strip().strip("`") for line in table.splitlines() if "| `" in line}
    expected = {
        config_docs.env_name(cls, name) for cls in SETTINGS_CLASSES for name in cls.model_fields
    }
    assert expected <= rows
    assert len(expected) == sum(len(cls.model_fields) for cls in SETTINGS_CLASSES)
    for cls in SETTINGS_CLASSES:
        for field in cls.model_fields.values():
            assert field.description, f"{cls.__name__} has a field without a description"


def test_spec_settings_names_are_documented() -> None:
    table = config_docs.render_table()
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "DATA_DIR",
        "HTTP_HOST",
        "HTTP_PORT",
        "PUBLIC_URL",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
        "TELEGRAM_API_BASE",
        "WHATSAPP_ACCESS_TOKEN",
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "WHATSAPP_API_BASE",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "LLM_MODEL",
        "EMBEDDINGS",
        "ADMIN_TELEGRAM_IDS",
        "HUMAN_TAKEOVER_MINUTES",
    ):
        assert f"| `{name}` |" in table


def test_default_formatting() -> None:
    table = config_docs.render_table()
    assert "| `DATABASE_URL` | unset | " in table
    assert "| `HTTP_HOST` | `127.0.0.1` | " in table
    assert "| `HTTP_PORT` | `8080` | " in table
    assert "| `DATA_DIR` | `.data` | " in table
    assert "| `ADMIN_TELEGRAM_IDS` |  | " in table
    assert "| `DEMO` | `true` | " in table
    assert "| `LOG_JSON` | `false` | " in table
    assert "| `HUMAN_TAKEOVER_MINUTES` | `30` | " in table
    assert "| `TELEGRAM_API_BASE` | `https://api.telegram.org` | " in table
    assert "| `WHATSAPP_API_BASE` | `https://graph.facebook.com/v23.0` | " in table
    assert "### Where the data lives and who runs the platform\n" in table


def test_secret_fields_are_marked_and_never_show_a_default() -> None:
    class Secrets(CoreSettings):
        """Secrets with a default value."""

        model_config = SettingsConfigDict(env_prefix="SECRETS_")

        api_token: SecretStr = Field(SecretStr("hunter2"), description="A token")

    table = config_docs.render_table((Secrets,))
    assert "| `SECRETS_API_TOKEN` | unset | A token (secret) |" in table
    assert "hunter2" not in table
    assert "(secret)" in config_docs.render_table((TelegramSettings,))
    assert "(secret)" not in config_docs.render_table((HttpSettings,))


def test_an_added_field_changes_the_table() -> None:
    class ExtendedHttp(HttpSettings):
        """The web process: webhooks, health, metrics."""

        keepalive_seconds: int = Field(75, description="Idle keep-alive timeout")

    original = config_docs.render_table((HttpSettings,))
    extended = config_docs.render_table((ExtendedHttp,))
    assert extended != original
    assert "| `HTTP_KEEPALIVE_SECONDS` | `75` | Idle keep-alive timeout |" in extended


def test_a_changed_description_would_be_detected(tmp_path: Path) -> None:
    class Redescribed(HttpSettings):
        """The web process: webhooks, health, metrics."""

        port: int = Field(8080, description="A different description")

    assert config_docs.render_table((Redescribed,)) != config_docs.render_table((HttpSettings,))

    readme, doc = tmp_path / "README.md", tmp_path / "docs" / "configuration.md"
    config_docs.write(readme, doc)
    assert config_docs.check(readme, doc)

    changed: list[type[BaseSettings]] = [*SETTINGS_CLASSES]
    changed[1] = Redescribed
    assert SETTINGS_CLASSES[1] is HttpSettings
    assert not config_docs.check(readme, classes=changed)
    problems = config_docs.differences(readme, doc, classes=changed)
    assert any("A different description" in line for line in problems)
    assert any(str(readme) in line for line in problems)


def test_write_creates_a_readme_and_keeps_the_rest_of_an_existing_one(tmp_path: Path) -> None:
    readme, doc = tmp_path / "README.md", tmp_path / "docs" / "configuration.md"
    config_docs.write(readme, doc)
    created = readme.read_text(encoding="utf-8")
    assert created.startswith("# souk\n\n## Configuration\n\n" + config_docs.README_INTRO)
    assert doc.read_text(encoding="utf-8") == config_docs.render_doc()

    readme.write_text(
        "# souk\n\nIntro.\n\n## Configuration\n\n"
        f"{config_docs.START_MARKER}\nold table\n{config_docs.END_MARKER}\n\n## CLI\n\nText.\n",
        encoding="utf-8",
    )
    assert not config_docs.check(readme)
    config_docs.write(readme, doc)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# souk\n\nIntro.\n\n## Configuration\n\n")
    assert text.endswith(f"{config_docs.END_MARKER}\n\n## CLI\n\nText.\n")
    assert "old table" not in text
    assert config_docs.check(readme, doc)


def test_write_appends_the_section_to_a_readme_without_markers(tmp_path: Path) -> None:
    readme, doc = tmp_path / "README.md", tmp_path / "configuration.md"
    readme.write_text("# souk\n\nSomething else.\n", encoding="utf-8")
    assert not config_docs.check(readme)
    config_docs.write(readme, doc)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# souk\n\nSomething else.\n\n## Configuration\n")
    assert config_docs.check(readme, doc)


def test_main_check_exits_1_naming_the_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert config_docs.main(["write", "--root", str(tmp_path)]) == 0
    assert config_docs.main(["check", "--root", str(tmp_path)]) == 0
    doc = tmp_path / "docs" / "configuration.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("`8080`", "`8081`"), encoding="utf-8")
    capsys.readouterr()
    assert config_docs.main(["check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "configuration.md" in err
    assert "8081" in err
    assert "README.md" not in err
