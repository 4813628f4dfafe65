"""The languages souk speaks, with no dependency on aiogram (services use them too)."""

from __future__ import annotations

LANGUAGES = ("en", "ru", "ar")
DEFAULT_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar"})


def normalize_language(code: str | None) -> str | None:
    """'ru-RU' -> 'ru'; a language we do not speak -> None."""
    if not code:
        return None
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None
