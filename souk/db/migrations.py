"""Alembic configuration built in code, so `souk migrate` works from any directory."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from souk.errors import ConfigurationError


def migrations_dir() -> Path:
    """migrations/ of the source tree (editable installs, tests) or of the working directory."""
    for candidate in (
        Path(__file__).resolve().parents[2] / "migrations",
        Path.cwd() / "migrations",
    ):
        if (candidate / "env.py").exists():
            return candidate
    raise ConfigurationError("migrations/ not found: run souk from the project directory")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    return config
