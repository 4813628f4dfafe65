"""bench/sync.py at a tiny size against an in-process fake Shopify, so it cannot rot: its
three runs read, create and compare what they should, and the verdict follows them."""

from __future__ import annotations

from bench.sync import measure, print_figures
from souk.embedded import ServiceURLs
from tests.fakes.shopify_api import FakeShopify, seed


async def test_the_bench_runs_create_then_compare_then_read_nothing(
    urls: ServiceURLs, capsys: object
) -> None:
    async with FakeShopify(token="shpat_tiny", maximum=20_000, restore_rate=1_000) as store:
        seed(store, 60)
        figures = await measure(urls, store.root_url, "shpat_tiny")
    first, full, incremental = (figure.report for figure in figures)
    assert (first.read, first.created, first.error) == (60, 60, None)
    assert (full.read, full.unchanged, full.updated, full.created) == (60, 60, 0, 0)
    assert incremental.read == 0 and not incremental.full
    assert store.count("SoukPrices") == store.count("SoukStock") == 0
    assert print_figures(60, "tiny", figures) is True
