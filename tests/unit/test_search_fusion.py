"""Reciprocal rank fusion of the search methods' rankings."""

from __future__ import annotations

from souk.services.search import RRF_K, fuse


def test_products_found_by_several_methods_rise() -> None:
    meaning = [10, 20, 30]
    words = [30, 40]
    # 30: 1/63 + 1/61 beats 10's 1/61 alone; 20 and 40 (1/62 each) tie: lower id first
    assert fuse([meaning, words]) == [30, 10, 20, 40]
    assert fuse([]) == []
    assert fuse([[], [3]]) == [3]


def test_equal_scores_go_to_the_one_more_methods_found_then_the_lower_id() -> None:
    # 2 is 62nd in two rankings: 2 / (RRF_K + 62) == 1 / (RRF_K + 1), exactly, as 1 has.
    assert RRF_K == 60
    first = [1, *range(100, 160), 2]
    second = [*range(200, 261), 2]
    assert fuse([first, second])[:2] == [2, 1]
    assert fuse([[6, 5], [5, 6]]) == [5, 6]
