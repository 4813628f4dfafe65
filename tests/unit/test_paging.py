"""Long button lists in pages: every page within Telegram's 100 buttons, nothing skipped."""

from __future__ import annotations

from souk.i18n import build_i18n
from souk.keyboards.campaigns import category_keyboard
from souk.keyboards.paging import page_of
from souk.services.catalog import CategoryEntry


def test_pages_cover_the_list_once_and_clamp_the_number() -> None:
    items = list(range(45))
    pages = [page_of(items, n) for n in range(3)]
    assert [list(p.items) for p in pages] == [items[:20], items[20:40], items[40:]]
    assert {p.pages for p in pages} == {3}
    assert page_of(items, 7).number == 2 and page_of(items, -1).number == 0
    assert page_of([], 0) == page_of([], 5)  # an empty list is one empty page


def test_a_campaign_segment_lists_every_category_a_page_at_a_time() -> None:
    categories = [CategoryEntry(n, f"c{n}", {}, f"Cat {n}", 1) for n in range(130)]
    with build_i18n().context():
        seen: list[str] = []
        for number in range(page_of(categories, 0).pages):
            rows = category_keyboard(page_of(categories, number), "en").inline_keyboard
            buttons = [button for row in rows for button in row]
            assert len(buttons) <= 100
            seen += [b.text for b in buttons if (b.callback_data or "").startswith("cset:cat:")]
            navigation = [b.callback_data for b in rows[-2]]
            assert navigation == [
                *([f"cset:cats:{number - 1}"] if number else []),
                *([f"cset:cats:{number + 1}"] if number < 6 else []),
            ]
            assert rows[-1][0].callback_data == "cset:quit:0"
    assert seen == [f"Cat {n}" for n in range(130)]
