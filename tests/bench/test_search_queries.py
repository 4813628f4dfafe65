"""The labelled query set of bench/search_quality.py: its SKUs, its spread, and that each
query is what its kind says it is."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bench.search_quality import LabelledQuery, load_queries, recall_at, reciprocal_rank
from souk.seed.catalog import ProductSeed, load_demo_catalog
from souk.services.search_filters import parse_search

KINDS = {"plain", "cross-lingual", "typo", "filter"}


@pytest.fixture(scope="module")
def queries() -> list[LabelledQuery]:
    return load_queries()


@pytest.fixture(scope="module")
def products() -> dict[str, ProductSeed]:
    return {product.sku: product for product in load_demo_catalog().products}


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def vocabulary(products: dict[str, ProductSeed], language: str) -> set[str]:
    """Every word of the products' titles and descriptions in `language`."""
    found: set[str] = set()
    for product in products.values():
        found |= words(f"{product.title[language]} {product.description[language]}")
    return found


def test_the_set_is_large_and_spread(queries: list[LabelledQuery]) -> None:
    assert len(queries) >= 60
    assert len({q.query for q in queries}) == len(queries), "a query is there twice"
    languages = Counter(q.lang for q in queries)
    assert set(languages) == {"en", "ru"}
    assert min(languages.values()) >= 0.4 * len(queries), languages
    kinds = Counter(q.kind for q in queries)
    assert set(kinds) == KINDS, kinds
    assert kinds["cross-lingual"] >= 10 and kinds["typo"] >= 10, kinds
    for kind in KINDS:
        assert {q.lang for q in queries if q.kind == kind} == {"en", "ru"}, kind


def test_every_relevant_sku_is_in_the_demo_catalog(
    queries: list[LabelledQuery], products: dict[str, ProductSeed]
) -> None:
    for query in queries:
        assert query.relevant, query.query
        assert query.relevant <= products.keys(), (query.query, query.relevant - products.keys())


def test_cross_lingual_queries_use_words_the_catalog_does_not_in_their_language(
    queries: list[LabelledQuery], products: dict[str, ProductSeed]
) -> None:
    known = {language: vocabulary(products, language) for language in ("en", "ru")}
    for query in queries:
        if query.kind == "cross-lingual":
            assert words(query.query) - known[query.lang], query.query


def test_typo_queries_have_a_word_found_in_no_product(
    queries: list[LabelledQuery], products: dict[str, ProductSeed]
) -> None:
    known = vocabulary(products, "en") | vocabulary(products, "ru")
    for query in queries:
        if query.kind == "typo":
            assert words(query.query) - known, query.query


def test_filter_queries_have_filters_every_relevant_product_passes(
    queries: list[LabelledQuery], products: dict[str, ProductSeed]
) -> None:
    for query in (q for q in queries if q.kind == "filter"):
        parsed = parse_search(query.query)
        assert parsed.text and parsed.text != query.query, query.query
        for sku in query.relevant:
            product = products[sku]
            assert parsed.min_price is None or product.price >= parsed.min_price, sku
            assert parsed.max_price is None or product.price <= parsed.max_price, sku
            assert not parsed.in_stock or product.stock > 0, sku


def test_recall_counts_at_most_k_relevant_and_mrr_the_first_hit() -> None:
    relevant = frozenset({"A", "B", "C"})
    assert recall_at(["X", "A", "C"], relevant) == pytest.approx(2 / 3)
    assert recall_at(["A", "B"], relevant, k=2) == 1.0  # 3 relevant, only 2 places
    assert reciprocal_rank(["X", "Y", "B"], relevant) == pytest.approx(1 / 3)
    assert reciprocal_rank(["X", "Y", "B"], relevant, k=2) == 0.0
