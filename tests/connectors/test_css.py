"""The forgiving HTML tree and the small CSS selector engine over it."""

from __future__ import annotations

import pytest

from souk.connectors.css import SelectorError, select
from souk.connectors.html_tree import Element, parse_html

PAGE = """<!doctype html>
<html><head><title>Shop &amp; Co</title>
<script>var s = "</div><p>not markup</p>";</script></head>
<body>
<div id="main" class="card product">
  <p>First<p class="price" data-role='sale price'>12<span class="cents">,99</span>&nbsp;&euro;
  <ul><li>one<li class="x">two<ul><li>nested</ul></ul>
</div>
<table><tr><td>a<td class="x">b<tr><td>c</table>
<aside class="related"><div class="card"><span class="price">5 €</span></div></aside>
</body></html>"""


@pytest.fixture(scope="module")
def root() -> Element:
    return parse_html(PAGE)


@pytest.mark.parametrize(
    ("selector", "texts"),
    [
        ("p", ["First", "12,99 €"]),  # the list closes the open p, as in browsers
        (".price", ["12,99 €", "5 €"]),
        ("p.price", ["12,99 €"]),
        ("#main .price", ["12,99 €"]),
        ("#main > p", ["First", "12,99 €"]),
        ("div > span", ["5 €"]),
        ("aside .card .price", ["5 €"]),
        (".card.product > p.price > span.cents", [",99"]),
        ("[data-role]", ["12,99 €"]),
        ("[data-role='sale price']", ["12,99 €"]),
        ('[data-role~="sale"]', ["12,99 €"]),
        ("[data-role^=sale]", ["12,99 €"]),
        ("[data-role$=price]", ["12,99 €"]),
        ("[class*=elat]", ["5 €"]),
        ("li", ["one", "two nested", "nested"]),
        ("ul li ul li", ["nested"]),
        ("td", ["a", "b", "c"]),
        ("td.x, li.x", ["two nested", "b"]),
        ("*.x", ["two nested", "b"]),
        ("SPAN.CENTS", []),  # tag names are case-insensitive, classes are not
        ("span.cents", [",99"]),
        ("script p", []),
    ],
)
def test_selectors(root: Element, selector: str, texts: list[str]) -> None:
    assert [element.text for element in select(root, selector)] == texts


@pytest.mark.parametrize(
    "selector",
    ["p:first-child", "a + b", "a ~ b", "> a", "a >", "a,,b", "", "  ", "[x=]", "p::before", "a[b"],
)
def test_unsupported_selectors_are_refused(root: Element, selector: str) -> None:
    with pytest.raises(SelectorError):
        select(root, selector)


def test_script_source_is_kept_whole_and_never_read_as_text(root: Element) -> None:
    script = select(root, "script")[0]
    assert script.raw_text == 'var s = "</div><p>not markup</p>";'
    assert "not markup" not in root.text
    assert select(root, "title")[0].text == "Shop & Co"


def test_stray_and_missing_end_tags() -> None:
    root = parse_html("<div><span>a</b></span><p>b<div>c</div></i>d<br/>e<img src=x>f")
    assert [el.tag for el in root.elements()] == ["div", "span", "p", "div", "br", "img"]
    assert root.text == "a b c d ef"  # an image is inline: "e" and "f" touch
    (paragraph,) = select(root, "p")
    assert paragraph.text == "b"  # a div closes an open p, as in browsers
