"""The feed benchmark at a tiny size: every phase does what its name says, so the bench
cannot rot."""

from __future__ import annotations

import secrets

from bench.feed import measure, verdict
from souk.embedded import ServiceURLs


async def test_the_feed_bench_publishes_skips_regenerates_and_serves(urls: ServiceURLs) -> None:
    phases, growth = await measure(urls, rows=40, slug=f"bench-{secrets.token_hex(4)}")
    assert [(phase.name, phase.status, phase.offers) for phase in phases] == [
        ("first", "published", 40),
        ("unchanged", "unchanged", 0),
        ("1 price", "published", 40),
        ("fetch gzip", "200", 0),
        ("fetch plain", "200", 0),
        ("fetch 304", "304", 0),
    ]
    gzip, plain, not_modified = (phase.megabytes or 0.0 for phase in phases[3:])
    assert 0 < gzip < plain and not_modified == 0
    assert verdict(phases, growth)
