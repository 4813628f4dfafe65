"""The LLM client against the fake OpenAI-compatible server over HTTP: completions with
tool calls, usage, retries with their waits, and what is not retried."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from souk.ai.llm import LLMClient, LLMUnavailable, retry_after
from souk.ai.tools import tool_schemas
from souk.config import AISettings
from tests.fakes.openai_api import (
    Call,
    Calls,
    Fail,
    FakeOpenAI,
    Garbled,
    RecordedWaits,
    Say,
    Stall,
    check_chat_request,
)

QUESTION: list[Any] = [{"role": "user", "content": "a phone under 300?"}]


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeOpenAI]:
    api = FakeOpenAI()
    await api.start()
    yield api
    await api.close()


def counted() -> dict[str, float]:
    """souk's LLM counters in this process now: requests by result, tokens by kind."""
    requests = {
        result: REGISTRY.get_sample_value("souk_llm_requests_total", {"result": result}) or 0.0
        for result in ("ok", "retried", "failed")
    }
    tokens = {
        kind: REGISTRY.get_sample_value("souk_llm_tokens_total", {"kind": kind}) or 0.0
        for kind in ("prompt", "completion")
    }
    return requests | tokens


def counted_since(before: dict[str, float]) -> dict[str, float]:
    return {
        name: value - before[name] for name, value in counted().items() if value != before[name]
    }


def client(api: FakeOpenAI, waits: RecordedWaits, **settings: Any) -> LLMClient:
    return LLMClient(
        AISettings(
            openai_api_key=SecretStr(api.api_key),
            openai_base_url=api.base_url,
            llm_model="test-model",
            **settings,
        ),
        sleep=waits,
    )


async def test_a_tool_call_and_its_usage_come_back_as_the_provider_sent_them(
    fake_llm: FakeOpenAI,
) -> None:
    fake_llm.script(Calls((Call("search_products", {"query": "phone"}, id="call_a"),), "Looking"))
    llm = client(fake_llm, RecordedWaits())
    try:
        completion = await llm.complete(QUESTION, tool_schemas())
    finally:
        await llm.close()
    (call,) = completion.tool_calls
    assert (call.id, call.name, call.arguments) == (
        "call_a",
        "search_products",
        '{"query": "phone"}',
    )
    assert completion.text == "Looking"
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0
    (request,) = fake_llm.chat_requests
    assert request["model"] == "test-model" and request["tool_choice"] == "auto"
    assert request["max_tokens"] == 600
    names = [tool["function"]["name"] for tool in request["tools"]]
    assert names == [
        "search_products",
        "get_product",
        "add_to_cart",
        "view_cart",
        "get_order_status",
        "answer_faq",
        "handoff_to_human",
    ]
    assert fake_llm.problems == []


async def test_the_final_round_may_not_call_tools(fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Say("Here."))
    llm = client(fake_llm, RecordedWaits())
    try:
        completion = await llm.complete(QUESTION, tool_schemas(), final=True)
    finally:
        await llm.close()
    assert completion.text == "Here." and completion.tool_calls == []
    assert fake_llm.chat_requests[0]["tool_choice"] == "none"


async def test_5xx_and_429_are_retried_with_doubling_waits(fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Fail(500), Fail(429), Say("ok"))
    waits = RecordedWaits()
    llm = client(fake_llm, waits, llm_max_retries=2, llm_retry_backoff_seconds=0.25)
    before = counted()
    try:
        completion = await llm.complete(QUESTION, tool_schemas())
    finally:
        await llm.close()
    assert completion.text == "ok"
    assert waits.seconds == [0.25, 0.5]
    assert len(fake_llm.chat_requests) == 3
    # The operator's counters: two tries failed and were retried, one answered, and the
    # tokens the provider counted for the answer.
    assert counted_since(before) == {
        "retried": 2,
        "ok": 1,
        "prompt": completion.prompt_tokens,
        "completion": completion.completion_tokens,
    }


async def test_a_longer_retry_after_is_waited_for_within_the_maximum(fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Fail(429, retry_after=2), Say("ok"))
    waits = RecordedWaits()
    llm = client(fake_llm, waits, llm_retry_backoff_seconds=0.25, llm_retry_max_wait_seconds=3)
    try:
        await llm.complete(QUESTION, tool_schemas())
    finally:
        await llm.close()
    assert waits.seconds == [2.0]


async def test_a_retry_after_over_the_maximum_is_not_waited_for(fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Fail(429, retry_after=60), Say("never asked"))
    waits = RecordedWaits()
    llm = client(fake_llm, waits, llm_retry_max_wait_seconds=5)
    try:
        with pytest.raises(LLMUnavailable, match="RateLimitError 429"):
            await llm.complete(QUESTION, tool_schemas())
    finally:
        await llm.close()
    assert waits.seconds == [] and len(fake_llm.chat_requests) == 1


async def test_failures_past_the_retries_make_the_provider_unavailable(
    fake_llm: FakeOpenAI,
) -> None:
    fake_llm.script(Fail(503), Fail(502), Fail(500))
    waits = RecordedWaits()
    llm = client(fake_llm, waits, llm_max_retries=2)
    before = counted()
    try:
        with pytest.raises(LLMUnavailable, match="InternalServerError 500"):
            await llm.complete(QUESTION, tool_schemas())
    finally:
        await llm.close()
    assert len(waits.seconds) == 2 and len(fake_llm.chat_requests) == 3
    assert counted_since(before) == {"retried": 2, "failed": 1}


async def test_a_refused_request_or_key_is_not_retried_and_the_key_is_not_told(
    fake_llm: FakeOpenAI,
) -> None:
    waits = RecordedWaits()
    llm = LLMClient(
        AISettings(openai_api_key=SecretStr("sk-wrong-secret"), openai_base_url=fake_llm.base_url),
        sleep=waits,
    )
    try:
        with pytest.raises(LLMUnavailable) as refused:
            await llm.complete(QUESTION, tool_schemas())
    finally:
        await llm.close()
    assert str(refused.value) == "AuthenticationError 401"
    assert "sk-wrong" not in repr(refused.value) and waits.seconds == []


async def test_a_provider_that_does_not_answer_in_time_is_retried_then_unavailable(
    fake_llm: FakeOpenAI,
) -> None:
    fake_llm.script(Stall(), Stall())
    waits = RecordedWaits()
    llm = client(fake_llm, waits, llm_timeout_seconds=0.2, llm_max_retries=1)
    try:
        with pytest.raises(LLMUnavailable, match="APITimeoutError"):
            await llm.complete(QUESTION, tool_schemas())
    finally:
        await llm.close()
    assert len(fake_llm.chat_requests) == 2 and len(waits.seconds) == 1


@pytest.mark.parametrize(
    "body",
    [
        "<html>Bad gateway</html>",
        '{"choices": []}',
        '{"choices": [{"message": null}]}',
        '{"choices": [{"message": {"tool_calls": [{"type": "function"}]}}]}',
        '{"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": "many"}}',
    ],
)
async def test_an_answer_that_is_no_chat_completion_makes_the_provider_unavailable(
    fake_llm: FakeOpenAI, body: str
) -> None:
    fake_llm.script(Garbled(body))
    waits = RecordedWaits()
    llm = client(fake_llm, waits)
    before = counted()
    try:
        with pytest.raises(LLMUnavailable, match=r"not (JSON|a chat completion)"):
            await llm.complete(QUESTION, tool_schemas())
    finally:
        await llm.close()
    assert waits.seconds == [] and fake_llm.unused == []
    assert counted_since(before) == {"failed": 1}


def test_retry_after_reads_seconds_only() -> None:
    assert retry_after("1.5") == 1.5
    assert retry_after(None) is None
    assert retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None


def test_the_fake_refuses_what_the_real_api_refuses() -> None:
    tools = list(tool_schemas())
    calling = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "view_cart", "arguments": "{}"}}
        ],
    }
    answered = {"role": "tool", "tool_call_id": "c1", "content": "{}"}
    good = {"model": "m", "messages": [*QUESTION, calling, answered], "tools": tools}
    assert check_chat_request(good) is None
    unanswered = {"model": "m", "messages": [*QUESTION, calling, *QUESTION], "tools": tools}
    assert "must be followed by tool messages" in str(check_chat_request(unanswered))
    stray = {"model": "m", "messages": [*QUESTION, {**answered, "tool_call_id": "c9"}]}
    assert "preceding message with 'tool_calls'" in str(check_chat_request(stray))
    choice_alone = {"model": "m", "messages": QUESTION, "tool_choice": "none"}
    assert "only allowed when tools" in str(check_chat_request(choice_alone))
    bad_name = {
        "model": "m",
        "messages": QUESTION,
        "tools": [{"type": "function", "function": {"name": "no spaces", "parameters": {}}}],
    }
    assert "must match" in str(check_chat_request(bad_name))
    bad_role = {"model": "m", "messages": [{"role": "root", "content": "x"}]}
    assert "role must be one of" in str(check_chat_request(bad_role))
