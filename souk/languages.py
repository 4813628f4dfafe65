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


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """The language of a short text by its script: Arabic letters -> 'ar', Cyrillic ->
    'ru', other letters -> 'en'; `default` when it has no letters. Enough to tell our
    three languages apart (they have three scripts) without a model."""
    counts = {"ar": 0, "ru": 0, "en": 0}
    for char in text:
        if "\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f":
            counts["ar"] += 1
        elif "\u0400" <= char <= "\u04ff":
            counts["ru"] += 1
        elif char.isalpha():
            counts["en"] += 1
    language = max(counts, key=lambda key: counts[key])
    return language if counts[language] else default
