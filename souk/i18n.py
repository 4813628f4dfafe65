"""Translations: gettext catalogs in souk/locales (en, ru, ar), compiled to .mo on install.

`python -m souk.i18n update` merges new strings from the code into the .po files
(keeping what is translated); `python -m souk.i18n compile` builds the .mo files
(`make install` runs it). The runtime compiles any .mo that is missing or older than
its .po, so `python bot.py` works from a fresh checkout too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

from souk.languages import DEFAULT_LANGUAGE, LANGUAGES

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"


def compile_catalogs(locales_dir: Path = LOCALES_DIR, *, force: bool = False) -> list[Path]:
    """Compile each .po whose .mo is missing or stale; returns the .mo files written."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


def extract_messages(source_dir: Path = Path(__file__).parent) -> Catalog:
    """Every translatable string of souk: `_()` and `__()` in the code and the templates."""
    template = Catalog(project="souk", domain=DOMAIN)
    # Babel's and Jinja's extractors take the same arguments but are typed differently.
    Extractor = Callable[..., Iterable[tuple[Any, ...]]]
    sources: list[tuple[Path, Extractor]]
    sources = [(path, extract_python) for path in sorted(source_dir.rglob("*.py"))]
    sources += [(path, babel_extract) for path in sorted(source_dir.rglob("templates/*.html"))]
    for path, extractor in sources:
        with path.open("rb") as source:
            for _line, _function, message, _comments in extractor(
                source, keywords={"_": None, "__": None}, comment_tags=(), options={}
            ):
                if isinstance(message, str):
                    flags = ("python-brace-format",) if "{" in message else ()
                    template.add(message, flags=flags)
    return template


def update_catalogs(locales_dir: Path = LOCALES_DIR) -> dict[str, list[str]]:
    """Merge new strings into every .po, keeping translations; returns what is untranslated."""
    template = extract_messages()
    untranslated: dict[str, list[str]] = {}
    for language in LANGUAGES:
        po_path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        po_path.parent.mkdir(parents=True, exist_ok=True)
        old: dict[str, str] = {}
        if po_path.exists():
            with po_path.open("rb") as po_file:
                old = {str(m.id): str(m.string) for m in read_po(po_file) if m.id}
        catalog = Catalog(locale=language, project="souk", domain=DOMAIN)
        for message in template:
            if message.id:
                catalog.add(message.id, old.get(str(message.id), ""), flags=message.flags)
        with po_path.open("wb") as po_file:
            write_po(po_file, catalog, no_location=True, width=100)
        if language != DEFAULT_LANGUAGE:
            untranslated[language] = [str(m.id) for m in catalog if m.id and not m.string]
    return untranslated


def build_i18n() -> I18n:
    """The translator shared by the dispatcher and the notifier."""
    compile_catalogs()
    return I18n(path=LOCALES_DIR, default_locale=DEFAULT_LANGUAGE, domain=DOMAIN)


if __name__ == "__main__":
    command = sys.argv[1:]
    if command == ["compile"]:
        for path in compile_catalogs(force=True):
            print(f"compiled {path}")
    elif command == ["update"]:
        for language, missing in update_catalogs().items():
            for message in missing:
                print(f"{language}: untranslated: {message!r}")
    else:
        sys.exit("usage: python -m souk.i18n compile|update")
