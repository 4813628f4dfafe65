"""The configuration table, generated from the settings classes in `souk.config`.

README.md holds the table between the markers below and docs/configuration.md
holds it whole; both are written by `python -m souk.config_docs write` (`make docs`)
and verified by `python -m souk.config_docs check` and the unit tests, so the
documentation cannot drift from the code.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import sys
import types
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Literal, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from souk.config import SETTINGS_CLASSES

START_MARKER = "<!-- config:start -->"
END_MARKER = "<!-- config:end -->"

README_INTRO = (
    "Settings come from the environment or a `.env` file in the working directory; "
    "unset URLs mean the embedded servers."
)

DOC_INTRO = """\
# Configuration

<!-- Generated from souk/config.py by `make docs`; do not edit by hand. -->

souk reads its settings from the environment or from a `.env` file in the working
directory; a variable set in the environment wins over the same one in `.env`.
Unset `DATABASE_URL` and `REDIS_URL` mean the embedded Postgres and Redis kept in
`DATA_DIR`. Settings marked *(secret)* hold credentials: give them through the
environment or `.env`, never commit them. Names are case-insensitive.
"""

_HEADER = "| Variable | Default | Description |\n| --- | --- | --- |"


def env_name(settings_class: type[BaseSettings], field_name: str) -> str:
    """The environment variable that sets `field_name` of `settings_class`."""
    field = settings_class.model_fields[field_name]
    if isinstance(field.validation_alias, str):
        return field.validation_alias.upper()
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    return f"{prefix}{field_name}".upper()


def _type_parts(annotation: object) -> list[object]:
    """The annotation itself and, for unions and `Annotated`, every member, flattened."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return [part for arg in get_args(annotation) for part in _type_parts(arg)]
    return [annotation]


def is_secret(field: FieldInfo) -> bool:
    """True when the field is annotated as `SecretStr` (alone or in a union)."""
    return any(part is SecretStr for part in _type_parts(field.annotation))


def _choices(field: FieldInfo) -> list[str]:
    for part in _type_parts(field.annotation):
        if get_origin(part) is Literal:
            return [str(arg) for arg in get_args(part)]
        if inspect.isclass(part) and issubclass(part, Enum):
            return [str(member.value) for member in part]
    return []


def _format_default(field: FieldInfo) -> str:
    if is_secret(field):
        return "unset"
    value = field.get_default(call_default_factory=True, validated_data={})
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | tuple | set | frozenset):
        return f"`{','.join(str(item) for item in value)}`" if value else ""
    if isinstance(value, Enum):
        value = value.value
    return f"`{value}`"


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _format_description(field: FieldInfo) -> str:
    text = field.description or ""
    choices = _choices(field)
    if choices:
        text += "; one of " + ", ".join(f"`{choice}`" for choice in choices)
    if is_secret(field):
        text += " (secret)"
    return _escape(text.strip())


def _heading(settings_class: type[BaseSettings]) -> str:
    doc = inspect.getdoc(settings_class) or settings_class.__name__
    first_line = doc.strip().splitlines()[0].strip()
    return first_line.rstrip(".")


def render_class(settings_class: type[BaseSettings]) -> str:
    """One `###` section with the markdown table of one settings class."""
    rows = [
        f"| `{env_name(settings_class, name)}` | {_format_default(field)} "
        f"| {_format_description(field)} |"
        for name, field in settings_class.model_fields.items()
    ]
    return "\n".join([f"### {_heading(settings_class)}", "", _HEADER, *rows])


def render_table(classes: Sequence[type[BaseSettings]] = SETTINGS_CLASSES) -> str:
    """The configuration tables of `classes` (default: every settings class), as markdown."""
    return "\n\n".join(render_class(settings_class) for settings_class in classes) + "\n"


def render_doc(classes: Sequence[type[BaseSettings]] = SETTINGS_CLASSES) -> str:
    """The whole of docs/configuration.md: a short introduction and the tables."""
    return f"{DOC_INTRO}\n{render_table(classes)}"


def _block(table: str) -> str:
    return f"{START_MARKER}\n{table.strip()}\n{END_MARKER}"


def readme_block(text: str) -> str | None:
    """What README text holds between the markers, stripped; None without both markers."""
    start = text.find(START_MARKER)
    end = text.find(END_MARKER, start + len(START_MARKER)) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    return text[start + len(START_MARKER) : end].strip()


def _updated_readme(text: str | None, table: str) -> str:
    section = f"## Configuration\n\n{README_INTRO}\n\n{_block(table)}\n"
    if text is None:
        return f"# souk\n\n{section}"
    if readme_block(text) is None:
        return f"{text.rstrip()}\n\n{section}"
    start = text.index(START_MARKER)
    end = text.index(END_MARKER, start) + len(END_MARKER)
    return text[:start] + _block(table) + text[end:]


def write(
    readme: Path, doc: Path, *, classes: Sequence[type[BaseSettings]] = SETTINGS_CLASSES
) -> None:
    """Replace the marked block of `readme` (adding a Configuration section if it has
    none, creating the file if missing) and write `doc` whole."""
    table = render_table(classes)
    current = readme.read_text(encoding="utf-8") if readme.exists() else None
    updated = _updated_readme(current, table)
    if updated != current:
        readme.write_text(updated, encoding="utf-8")
    doc.parent.mkdir(parents=True, exist_ok=True)
    content = render_doc(classes)
    if not doc.exists() or doc.read_text(encoding="utf-8") != content:
        doc.write_text(content, encoding="utf-8")


def _diff(actual: str, expected: str, name: str) -> list[str]:
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            actual.splitlines(),
            expected.splitlines(),
            fromfile=f"{name} (on disk)",
            tofile=f"{name} (from souk/config.py)",
            lineterm="",
        )
    ]


def differences(
    readme: Path,
    doc: Path | None = None,
    *,
    classes: Sequence[type[BaseSettings]] = SETTINGS_CLASSES,
) -> list[str]:
    """Human-readable lines naming what is out of date; empty when everything is current."""
    problems: list[str] = []
    expected = render_table(classes).strip()
    if not readme.exists():
        problems.append(f"{readme}: missing")
    else:
        block = readme_block(readme.read_text(encoding="utf-8"))
        if block is None:
            problems.append(f"{readme}: no {START_MARKER} ... {END_MARKER} block")
        elif block != expected:
            problems.append(f"{readme}: the configuration block differs from the settings")
            problems.extend(_diff(block, expected, str(readme)))
    if doc is not None:
        if not doc.exists():
            problems.append(f"{doc}: missing")
        else:
            actual, expected_doc = doc.read_text(encoding="utf-8"), render_doc(classes)
            if actual != expected_doc:
                problems.append(f"{doc}: differs from the settings")
                problems.extend(_diff(actual, expected_doc, str(doc)))
    return problems


def check(
    readme: Path,
    doc: Path | None = None,
    *,
    classes: Sequence[type[BaseSettings]] = SETTINGS_CLASSES,
) -> bool:
    """True when `readme` (and `doc`, if given) hold the table the settings generate."""
    return not differences(readme, doc, classes=classes)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m souk.config_docs write|check [--root DIR]`; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m souk.config_docs", description="The generated configuration table."
    )
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root")
    args = parser.parse_args(argv)
    root: Path = args.root
    readme, doc = root / "README.md", root / "docs" / "configuration.md"
    if args.action == "write":
        write(readme, doc)
        print(f"wrote {readme} and {doc}")
        return 0
    problems = differences(readme, doc)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print("the configuration docs are stale: run `make docs`", file=sys.stderr)
        return 1
    print("configuration docs are current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
