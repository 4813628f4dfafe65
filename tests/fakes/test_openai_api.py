"""The fake OpenAI-compatible server as the `openai` package reads it: a streamed
completion (text and tool calls in pieces, the usage last) adds up to the completion the
same reply is without streaming, and `stream_options` without `stream` is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from souk.ai.tools import tool_schemas
from tests.fakes.openai_api import Call, Calls, FakeOpenAI, Reply, Say

QUESTION: list[Any] = [{"role": "user", "content": "a red dress under 50, and my cart?"}]


@pytest.fixture
async def client() -> AsyncIterator[tuple[FakeOpenAI, AsyncOpenAI]]:
    api = FakeOpenAI()
    await api.start()
    sdk = AsyncOpenAI(api_key=api.api_key, base_url=api.base_url, max_retries=0)
    yield api, sdk
    await sdk.close()
    await api.close()


@pytest.mark.parametrize(
    "reply",
    [
        Calls(
            (
                Call("search_products", {"query": "red dress", "max_price": 50}, id="call_a"),
                Call("view_cart", id="call_b"),
            ),
            "Let me look that up for you.",
        ),
        Say("We have two red dresses under 50 dollars: the Linen Wrap and the Silk Slip."),
    ],
    ids=["tool calls", "text"],
)
async def test_a_streamed_completion_adds_up_to_the_one_answered_whole(
    client: tuple[FakeOpenAI, AsyncOpenAI], reply: Reply
) -> None:
    api, sdk = client
    api.script(reply, reply)
    request: dict[str, Any] = {"model": "m", "messages": QUESTION, "tools": list(tool_schemas())}
    whole = await sdk.chat.completions.create(**request)
    async with sdk.chat.completions.stream(
        **request, stream_options={"include_usage": True}
    ) as stream:
        events = [event.type async for event in stream]
        streamed = await stream.get_final_completion()

    expected, got = whole.choices[0], streamed.choices[0]
    assert got.message.content == expected.message.content
    assert [
        (c.id, c.function.name, c.function.arguments) for c in got.message.tool_calls or []
    ] == [(c.id, c.function.name, c.function.arguments) for c in expected.message.tool_calls or []]
    assert got.finish_reason == expected.finish_reason
    assert streamed.usage == whole.usage and streamed.usage is not None
    # It came in pieces: the text a few words at a time, the arguments in fragments.
    text_pieces = events.count("content.delta")
    argument_pieces = events.count("tool_calls.function.arguments.delta")
    if isinstance(reply, Say):
        assert text_pieces > 1 and argument_pieces == 0
    else:
        assert text_pieces > 1 and argument_pieces > len(reply.calls)
    assert api.problems == []


async def test_stream_options_without_stream_are_refused(
    client: tuple[FakeOpenAI, AsyncOpenAI],
) -> None:
    api, sdk = client
    with pytest.raises(openai.BadRequestError, match="only allowed when 'stream' is enabled"):
        await sdk.chat.completions.create(
            model="m", messages=QUESTION, stream_options={"include_usage": True}
        )
    assert api.problems == [
        "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    ]
