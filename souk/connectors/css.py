"""A small CSS selector engine over `html_tree`: what staff need to point at a price on a
competitor's page, and nothing that needs a browser.

Supported: `tag`, `*`, `#id`, `.class`, `[attr]`, `[attr=value]` (also `~=`, `^=`, `$=`,
`*=`; values bare or quoted), any compound of those (`span.price[itemprop=price]`), the
descendant (space) and child (`>`) combinators, and lists (`a, b`). Anything else
(pseudo-classes, `+`, `~`) raises `SelectorError` when the selector is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from souk.connectors.html_tree import Element
from souk.errors import InvalidInput


class SelectorError(InvalidInput):
    """The selector is not one this engine understands."""


_IDENT = r"-?[_a-zA-Z\u00a0-\uffff][-_a-zA-Z0-9\u00a0-\uffff]*"
_TOKEN = re.compile(
    rf"""
    (?P<comma>\s*,\s*)
  | (?P<space>\s*>\s*|\s+)
  | (?P<tag>{_IDENT}|\*)
  | \#(?P<id>{_IDENT})
  | \.(?P<cls>{_IDENT})
  | \[\s*(?P<attr>{_IDENT})\s*
      (?:(?P<op>[~^$*]?=)\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>{_IDENT}|[-0-9.]+))\s*)?
    \]
    """,
    re.VERBOSE,
)
_OPS: dict[str, Callable[[str, str], bool]] = {
    "=": lambda have, want: have == want,
    "~=": lambda have, want: want in have.split(),
    "^=": lambda have, want: bool(want) and have.startswith(want),
    "$=": lambda have, want: bool(want) and have.endswith(want),
    "*=": lambda have, want: bool(want) and want in have,
}


@dataclass(frozen=True)
class _Compound:
    tag: str | None
    tests: tuple[tuple[str, str | None, str], ...]  # (attribute, operator or None, value)

    def matches(self, element: Element) -> bool:
        if self.tag is not None and element.tag != self.tag:
            return False
        for name, op, value in self.tests:
            have = element.get(name)
            if have is None or (op is not None and not _OPS[op](have, value)):
                return False
        return True


@dataclass(frozen=True)
class _Complex:
    """Compounds from left to right and the combinators between them (" " or ">")."""

    compounds: tuple[_Compound, ...]
    combinators: tuple[str, ...]

    def matches(self, element: Element, index: int | None = None) -> bool:
        at = len(self.compounds) - 1 if index is None else index
        if not self.compounds[at].matches(element):
            return False
        if at == 0:
            return True
        if self.combinators[at - 1] == ">":
            parent = element.parent
            return parent is not None and self.matches(parent, at - 1)
        return any(self.matches(ancestor, at - 1) for ancestor in element.ancestors())


@dataclass(frozen=True)
class Selector:
    """A compiled selector list; `select()` finds what it matches."""

    text: str
    alternatives: tuple[_Complex, ...]

    def select(self, root: Element) -> list[Element]:
        """The elements under `root` that match, in document order."""
        return [el for el in root.elements() if any(alt.matches(el) for alt in self.alternatives)]


class _Parser:
    """Builds the alternatives of a selector list token by token."""

    def __init__(self, whole: str) -> None:
        self.whole = whole
        self.alternatives: list[_Complex] = []
        self.compounds: list[_Compound] = []
        self.combinators: list[str] = []
        self.tag: str | None = None
        self.tests: list[tuple[str, str | None, str]] = []
        self.started = False

    def parse(self) -> tuple[_Complex, ...]:
        text = self.whole.strip()
        position = 0
        while position < len(text):
            token = _TOKEN.match(text, position)
            if token is None:
                raise SelectorError(f"unsupported selector {self.whole!r} at {text[position:]!r}")
            position = token.end()
            self._take(token)
        self._end_compound()
        self.alternatives.append(_Complex(tuple(self.compounds), tuple(self.combinators)))
        return tuple(self.alternatives)

    def _take(self, token: re.Match[str]) -> None:
        if token.group("comma") is not None:
            self._end_compound()
            self.alternatives.append(_Complex(tuple(self.compounds), tuple(self.combinators)))
            self.compounds, self.combinators = [], []
        elif token.group("space") is not None:
            self._end_compound()
            self.combinators.append(">" if ">" in token.group("space") else " ")
        elif token.group("tag") is not None:
            if self.started:
                raise SelectorError(f"unsupported selector {self.whole!r}: a tag after a test")
            self.tag = None if token.group("tag") == "*" else token.group("tag").lower()
            self.started = True
        else:
            self.tests.append(_test(token))
            self.started = True

    def _end_compound(self) -> None:
        if not self.started:
            raise SelectorError(f"selector {self.whole!r} has an empty part")
        self.compounds.append(_Compound(self.tag, tuple(self.tests)))
        self.tag, self.tests, self.started = None, [], False


def _test(token: re.Match[str]) -> tuple[str, str | None, str]:
    if token.group("id") is not None:
        return ("id", "=", token.group("id"))
    if token.group("cls") is not None:
        return ("class", "~=", token.group("cls"))
    value = token.group("dq") or token.group("sq") or token.group("bare") or ""
    return (token.group("attr").lower(), token.group("op"), value)


@lru_cache(maxsize=512)
def compile_selector(text: str) -> Selector:
    """Compile `text` (cached), or raise `SelectorError`."""
    return Selector(text, _Parser(text).parse())


def select(root: Element, selector: str) -> list[Element]:
    """The elements under `root` matching `selector`, in document order."""
    return compile_selector(selector).select(root)
