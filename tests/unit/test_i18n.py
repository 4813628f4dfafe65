"""Translations: every string of the code is translated, keeps its placeholders, and compiles."""

from __future__ import annotations

import gettext
import os
import shutil
from collections import Counter
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from souk.i18n import DOMAIN, LOCALES_DIR, compile_catalogs, extract_messages

TRANSLATED_LANGUAGES = ("ru", "ar")


def po_path(locales: Path, language: str) -> Path:
    return locales / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalog(locales: Path, language: str) -> Catalog:
    with po_path(locales, language).open("rb") as po_file:
        return read_po(po_file, locale=language)


def placeholders(text: str) -> Counter[str]:
    """The `{field!conv:spec}` parts of a str.format template (ValueError if malformed)."""
    found: Counter[str] = Counter()
    for _literal, field, spec, conversion in Formatter().parse(text):
        if field is not None:
            conversion_part = f"!{conversion}" if conversion else ""
            spec_part = f":{spec}" if spec else ""
            found[f"{{{field}{conversion_part}{spec_part}}}"] += 1
    return found


@pytest.fixture(scope="module")
def code_messages() -> list[str]:
    return [str(message.id) for message in extract_messages() if message.id]


def test_extraction_finds_the_code_strings(code_messages: list[str]) -> None:
    # A sample known to be in the handlers; an extractor that finds nothing must not pass.
    assert len(code_messages) >= 10
    assert "Here is what I can do:" in code_messages
    assert any("{" in message for message in code_messages)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_code_string_is_translated(language: str, code_messages: list[str]) -> None:
    catalog = load_catalog(LOCALES_DIR, language)
    missing = [m for m in code_messages if m not in catalog or not catalog[m].string]
    assert missing == [], f"{language}: untranslated; run `python -m souk.i18n update`"
    # gettext ignores fuzzy entries: they would show in English at runtime.
    fuzzy = [m for m in code_messages if catalog[m].fuzzy]
    assert fuzzy == []


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_translations_keep_placeholders(language: str, code_messages: list[str]) -> None:
    catalog = load_catalog(LOCALES_DIR, language)
    wrong = {}
    for msgid in code_messages:
        message = catalog.get(msgid)
        if message is None or not message.string:
            continue  # reported by test_every_code_string_is_translated
        translation = str(message.string)
        try:
            if placeholders(translation) != placeholders(msgid):
                wrong[msgid] = translation
        except ValueError:
            wrong[msgid] = translation
    assert wrong == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, {name}!", {"{name}": 1}),
        ("{a} and {a:>3} {b!r}", {"{a}": 1, "{a:>3}": 1, "{b!r}": 1}),
        ("no fields {{literal}}", {}),
    ],
)
def test_placeholder_parsing(text: str, expected: dict[str, int]) -> None:
    assert placeholders(text) == Counter(expected)


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy)
    for mo_path in copy.glob("*/LC_MESSAGES/*.mo"):
        mo_path.unlink()
    return copy


def test_compile_writes_readable_mo(locales: Path, code_messages: list[str]) -> None:
    written = compile_catalogs(locales, force=True)
    assert sorted(written) == sorted(locales.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    assert {path.parent.parent.name for path in written} >= {"en", *TRANSLATED_LANGUAGES}

    for language in TRANSLATED_LANGUAGES:
        catalog = load_catalog(locales, language)
        translation = gettext.translation(DOMAIN, localedir=locales, languages=[language])
        for msgid in code_messages:
            assert translation.gettext(msgid) == catalog[msgid].string


def set_mtime(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))


def test_stale_mo_is_recompiled_and_fresh_one_kept(locales: Path) -> None:
    compile_catalogs(locales, force=True)
    ru_po, ar_po = po_path(locales, "ru"), po_path(locales, "ar")
    ru_mo, ar_mo = ru_po.with_suffix(".mo"), ar_po.with_suffix(".mo")

    # Change a Russian translation: its .po becomes newer than its .mo.
    catalog = load_catalog(locales, "ru")
    msgid = "Here is what I can do:"
    catalog[msgid].string = "Обновлённый перевод"
    with ru_po.open("wb") as po_file:
        write_po(po_file, catalog)
    base = ru_po.stat().st_mtime
    set_mtime(ru_mo, base - 100)
    set_mtime(ar_po, base - 200)
    set_mtime(ar_mo, base - 100)
    ar_before = ar_mo.read_bytes()
    ar_mo.write_bytes(b"left alone")  # not a catalog: proves it is not rewritten
    set_mtime(ar_mo, base - 100)

    assert compile_catalogs(locales) == [ru_mo]
    assert ar_mo.read_bytes() == b"left alone"
    assert ru_mo.stat().st_mtime >= ru_po.stat().st_mtime
    with ru_mo.open("rb") as mo_file:
        assert gettext.GNUTranslations(mo_file).gettext(msgid) == "Обновлённый перевод"

    # Nothing is stale now: a second run writes nothing; force rewrites everything.
    assert compile_catalogs(locales) == []
    assert ar_po.with_suffix(".mo") in compile_catalogs(locales, force=True)
    assert ar_mo.read_bytes() == ar_before


def test_missing_mo_is_compiled(locales: Path) -> None:
    written = compile_catalogs(locales)
    assert len(written) == len(list(locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))
    assert all(path.exists() for path in written)
