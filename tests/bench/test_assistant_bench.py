"""bench/assistant.py at a tiny size, end to end in a process of its own (its own Postgres,
Redis, fakes and demo shop; a process holds one dispatcher), so it cannot rot; and its
scripted model and its reading of a results page."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from bench.assistant import one_observation, quick_assistant, shown_products
from tests.fakes.http_fake import ROOT
from tests.fakes.openai_api import Call, Say


async def test_a_tiny_run_answers_every_turn_and_scores_the_fallback() -> None:
    bench = await asyncio.create_subprocess_exec(
        sys.executable,
        "bench/assistant.py",
        "--turns=2",
        "--concurrency=2",
        "--queries=3",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    output = (await asyncio.wait_for(bench.communicate(), 240))[0].decode()
    lines = output.splitlines()
    # PASS or FAIL is the machine's load; that every turn is answered and scored is not.
    assert lines[-1] in ("PASS", "FAIL"), output
    assert "2 turns, 2 at a time:" in output and "unanswered: 0" in output, output
    assert any(line.split()[:4] == ["all", "(3)", "3", "1.000"] for line in lines), output
    # souk's own readings of each turn were taken (not nothing): its tools and rendering,
    # and its LLM client's time (the requests to the model but the fake's own).
    for name in ("tools + rendering", "the LLM client"):
        (row,) = [line for line in lines if line.strip().startswith(name + " ")]
        assert 0 < float(row.split()[-4]) <= float(row.split()[-1]), output


def test_a_turn_is_read_between_two_readings_of_the_metric() -> None:
    before = {"ours": (1.25, 7.0), "model": (4.0, 7.0)}
    after = {"ours": (1.3125, 8.0), "model": (4.5, 8.0)}
    assert one_observation(before, after, "ours") == 62.5
    assert one_observation(before, after, "model") == 500.0
    assert one_observation({}, {"ours": (0.02, 1.0)}, "ours") == 20.0  # the first turn
    with pytest.raises(RuntimeError, match="not one assistant turn"):
        one_observation(before, before, "ours")  # no turn: nothing to read
    with pytest.raises(RuntimeError, match="not one assistant turn"):
        one_observation(before, {"ours": (1.3, 9.0)}, "ours")  # two: not one turn's


def test_the_scripted_model_searches_then_names_the_first_product() -> None:
    asked = {"messages": [{"role": "user", "content": "robot vacuum"}]}
    assert quick_assistant(asked) == Call("search_products", {"query": "robot vacuum"})
    found = {"products": [{"title": "Roborock S8", "price": "599.00", "currency": "USD"}]}
    told = {"messages": [{"role": "tool", "tool_call_id": "c", "content": json.dumps(found)}]}
    assert quick_assistant(told) == Say("Roborock S8 costs 599.00 USD.")
    nothing = {"messages": [{"role": "tool", "tool_call_id": "c", "content": '{"products": []}'}]}
    assert quick_assistant(nothing) == Say("Sorry, there is nothing like that in the shop.")


def test_a_results_page_is_read_as_its_products_in_order() -> None:
    page = {
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "1. A", "callback_data": "hit:7:abc:0:100"}, {"text": "+"}],
                [{"text": "2. B", "callback_data": "hit:3:abc:0:100"}],
                [{"text": "Next ›", "callback_data": "srch:abc:1"}],
            ]
        }
    }
    assert shown_products(page) == [7, 3]
    assert shown_products({"text": "Your cart is empty."}) == []
