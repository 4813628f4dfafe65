"""The monitoring benchmark at a tiny size, against the test database and a fake site in
this process, so that it cannot rot; and its verdict."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.monitor import RunFigures, build_parser, measure, verdict
from souk.config import Settings
from souk.embedded import ServiceURLs
from tests.conftest import new_bot_token
from tests.fakes.competitor_site import CompetitorSite
from tests.fakes.telegram_api import FakeBotAPI


async def test_a_tiny_run_checks_every_offer_and_times_every_push(
    urls: ServiceURLs, data_dir: Path, fake_api: FakeBotAPI
) -> None:
    args: argparse.Namespace = build_parser().parse_args(["--offers", "20", "--changes", "3"])
    settings = Settings()
    settings.core.data_dir = data_dir
    # The shop stays in the session's database: its bot must be one the fake API knows
    # (other tests' processes call every bot's API).
    token = new_bot_token()
    fake_api.add_bot(token)
    async with CompetitorSite() as site:
        runs = await measure(
            urls, settings, site.root_url, args, bot_token=token, progress=lambda _: None
        )
    first, second = runs
    assert (first.checked, first.good, second.checked, second.good) == (20, 20, 20, 20)
    assert second.changes == 3 and len(second.push_seconds) == len(second.reprice_seconds) == 3
    assert all(0 < seconds < 60 for seconds in second.push_seconds + second.reprice_seconds)
    assert first.reprice_seconds == []  # run 1 held every price (at its ceiling)
    assert verdict(runs) == "PASS"


def test_the_verdict_names_what_missed_its_target() -> None:
    good = RunFigures("run 2", 100, 100, 100, 30.0, [1.0, 2.0], [1.5, 2.5], changes=2)
    assert verdict([good]) == "PASS"
    slow = RunFigures("run 1", 100, 100, 100, 130.0)
    late = RunFigures("run 2", 100, 100, 100, 30.0, [1.0, 61.0], [1.0, 2.0], changes=2)
    lost = RunFigures("run 2", 100, 100, 99, 30.0, [1.0], [1.0, 2.0], changes=2)
    unpriced = RunFigures("run 2", 100, 100, 100, 30.0, [1.0, 2.0], [62.0], changes=2)
    assert verdict([slow]) == "FAIL (run 1: 130.0 s)"
    assert verdict([late]) == "FAIL (run 2: a push took 61.0 s)"
    assert verdict([lost]) == (
        "FAIL (run 2: 99/100 checked with a price; run 2: 1/2 changes pushed)"
    )
    assert verdict([unpriced]) == "FAIL (run 2: 1/2 repriced; run 2: a repricing took 62.0 s)"
