"""bench/assistant.py at a tiny size, end to end (its own Postgres, Redis, fakes and demo
shop), so it cannot rot; and its scripted model and its reading of a results page."""

from __future__ import annotations

import json

from bench.assistant import quick_assistant, run, shown_products
from bench.search_quality import load_queries
from tests.fakes.openai_api import Call, Say


async def test_a_tiny_run_answers_every_turn_and_scores_the_fallback() -> None:
    queries = load_queries()[:3]
    figures, quality = await run(turns=2, concurrency=2, queries=queries)
    assert figures.unanswered == 0 and figures.concurrent_turns == 2
    assert len(figures.overhead_ms) == len(figures.cpu_ms) == 2
    assert all(overhead > 0 for overhead in figures.overhead_ms)
    assert quality.queries == 3 and quality.answered == 3  # plain queries the search knows


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
