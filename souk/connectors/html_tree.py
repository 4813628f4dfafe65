"""A forgiving element tree built with the standard library's `html.parser`, enough to read
offers from product pages: unclosed and stray tags, void elements and entities handled as
browsers mostly do, and the text of an element as a reader sees it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


VOID_TAGS = _tags("area base br col embed hr img input link meta param source track wbr")
# Text a reader never sees; script and style content stays available through `raw_text`.
_HIDDEN_TAGS = _tags("script style template noscript head title")
# Tags around which a reader sees a break: their text does not run into the next one's.
_BLOCK_TAGS = _tags(
    "address article aside blockquote br dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot "
    "th thead tr ul option select"
)
# An open element of the key's tags is closed when one of the value's tags starts.
_CLOSED_BY = {
    "p": _BLOCK_TAGS - {"br", "hr"} | {"p"},
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "option": frozenset({"option", "optgroup"}),
    "tr": frozenset({"tr"}),
    "td": frozenset({"td", "th", "tr"}),
    "th": frozenset({"td", "th", "tr"}),
}
_SPACES = re.compile(r"\s+")


class Element:
    """An element: its tag (lower case), attributes (later duplicates ignored, valueless
    ones as ""), children (elements and text) and parent."""

    __slots__ = ("attrs", "children", "parent", "tag")

    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Element | str] = []
        self.parent = parent

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    @property
    def classes(self) -> frozenset[str]:
        return frozenset(self.attrs.get("class", "").split())

    def elements(self) -> Iterator[Element]:
        """Every element below this one, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.elements()

    def ancestors(self) -> Iterator[Element]:
        parent = self.parent
        while parent is not None:
            yield parent
            parent = parent.parent

    @property
    def raw_text(self) -> str:
        """The text of the direct children as written (a script's source, for one)."""
        return "".join(child for child in self.children if isinstance(child, str))

    @property
    def text(self) -> str:
        """What a reader sees: visible text, blocks apart, whitespace collapsed."""
        parts: list[str] = []
        self._collect(parts)
        return _SPACES.sub(" ", "".join(parts)).strip()

    def _collect(self, parts: list[str]) -> None:
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag not in _HIDDEN_TAGS:
                block = child.tag in _BLOCK_TAGS
                if block:
                    parts.append(" ")
                child._collect(parts)
                if block:
                    parts.append(" ")


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self._open: list[Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._close_implied(tag)
        values: dict[str, str] = {}
        for name, value in attrs:
            values.setdefault(name, value or "")
        element = Element(tag, values, self._open[-1])
        self._open[-1].children.append(element)
        if tag not in VOID_TAGS:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        # A stray end tag closes nothing; one of an outer element closes what it holds.
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(data)

    def _close_implied(self, tag: str) -> None:
        # "<p>a<div>" closes the p and "<td>a<p>b<td>" both the p and the first td.
        while len(self._open) > 1 and tag in _CLOSED_BY.get(self._open[-1].tag, ()):
            self._open.pop()


def parse_html(html: str) -> Element:
    """The document's tree; never raises on bad markup."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
