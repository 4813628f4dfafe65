"""A fake OpenAI-compatible server over real HTTP: `/v1/embeddings` and
`/v1/chat/completions`.

It answers like the real API (objects, indexes, usage), checks the bearer key and
records every request. Embedding vectors are deterministic per text, and `dimensions`
is honoured. A chat completion is what the test scripted (`script()`: text, tool calls,
failures with a status and Retry-After, a request that never answers) or what a
`responder` makes of the request (a model that acts on what it is sent); each request is
first checked as the real API checks it (roles, tool schemas, every tool call answered
by a tool message with its id, tool_choice only with tools): a request it would refuse
gets its 400, and the reason is kept in `problems` for the test to assert on. With
`stream: true` the same completion comes as the API streams it: server-sent
`chat.completion.chunk`s, the text a few words a chunk, each tool call's id and name
first and then its arguments in pieces, the finish reason last, the usage in a chunk of
its own if `stream_options.include_usage` asks for it, and `[DONE]`.
"""

from __future__ import annotations

import array
import asyncio
import base64
import hashlib
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def fake_vector(text: str, dimensions: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    raw = [((seed[i % len(seed)] + i * 31) % 255) / 255.0 - 0.5 for i in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def encode_base64(vector: list[float]) -> str:
    """As the real API sends `encoding_format=base64`: little-endian float32s."""
    return base64.b64encode(array.array("f", vector).tobytes()).decode()


# -- chat completions -----------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """The model answers with text."""

    text: str


@dataclass(frozen=True)
class Call:
    """The model calls one function (`arguments` as a dict, or raw text as a model may
    write it, valid JSON or not)."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def raw(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass(frozen=True)
class Calls:
    """The model calls several functions at once (and may say something with them)."""

    calls: tuple[Call, ...]
    text: str | None = None


@dataclass(frozen=True)
class Fail:
    """The provider fails: `status` with an OpenAI-shaped error (and Retry-After)."""

    status: int
    retry_after: float | None = None


@dataclass
class Stall:
    """The provider does not answer this request until `release()` (or close), then
    answers `then`, or 504 without it (by then the client has timed out)."""

    then: Say | Call | Calls | None = None
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass(frozen=True)
class Garbled:
    """A broken provider or proxy: 200 with this body, which is no chat completion."""

    body: str


Reply = Say | Call | Calls | Fail | Stall | Garbled
# A scripted model: the request body in, the reply out (None: the next scripted one).
Responder = Callable[[dict[str, Any]], Reply | None]

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "rate_limit"}


def _words(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False).split()) if value else 0


def check_chat_request(body: dict[str, Any]) -> str | None:
    """What the real API would refuse in `body` (400), or None."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    if body.get("stream_options") is not None and not body.get("stream"):
        return "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    problem = _check_tools(body)
    if problem:
        return problem
    waiting: list[str] = []  # tool_call ids of the last assistant message not yet answered
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ROLES:
            return f"messages[{index}].role must be one of {sorted(ROLES)}"
        if role != "tool" and waiting:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                f"responding to each 'tool_call_id'. Missing: {waiting}"
            )
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in waiting:
                return (
                    f"messages[{index}]: messages with role 'tool' must be a response to a "
                    f"preceding message with 'tool_calls' (unknown id {call_id!r})"
                )
            waiting.remove(call_id)
            if not isinstance(message.get("content"), str):
                return f"messages[{index}].content of a tool message must be a string"
        elif role == "assistant":
            calls = message.get("tool_calls") or []
            if not calls and not isinstance(message.get("content"), str):
                return f"messages[{index}]: an assistant message needs content or tool_calls"
            for call in calls:
                function = call.get("function") or {}
                if call.get("type") != "function" or not isinstance(call.get("id"), str):
                    return f"messages[{index}].tool_calls: each needs an id and type function"
                if not isinstance(function.get("name"), str) or not isinstance(
                    function.get("arguments"), str
                ):
                    return f"messages[{index}].tool_calls: function name and arguments needed"
                waiting.append(call["id"])
        elif not isinstance(message.get("content"), str | list):
            return f"messages[{index}].content must be a string"
    if waiting:
        return f"tool_calls without tool messages answering them: {waiting}"
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        return "max_tokens must be a positive integer"
    return None


def _check_tools(body: dict[str, Any]) -> str | None:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools is None:
        return "tool_choice is only allowed when tools are specified" if choice else None
    if not isinstance(tools, list) or not tools:
        return "tools must be a non-empty array"
    names = set()
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict):
            return f"tools[{index}] must be a function"
        name = function.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            return f"tools[{index}].function.name must match {_TOOL_NAME.pattern}"
        if name in names:
            return f"tools[{index}]: the function name {name!r} is there twice"
        names.add(name)
        parameters = function.get("parameters", {"type": "object"})
        if not isinstance(parameters, dict) or parameters.get("type") != "object":
            return f"tools[{index}].function.parameters must be a JSON schema of type object"
    if choice not in (None, "none", "auto", "required") and not (
        isinstance(choice, dict) and (choice.get("function") or {}).get("name") in names
    ):
        return f"invalid tool_choice {choice!r}"
    return None


@dataclass
class FakeOpenAI:
    """Start with `await api.start()`; point `base_url` (…/v1) at it."""

    api_key: str = "sk-test"
    native_dimensions: int = 1536
    ignore_dimensions: bool = False  # a provider that does not support `dimensions`
    requests: list[dict[str, Any]] = field(default_factory=list)
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    usages: list[dict[str, int]] = field(default_factory=list)  # of each completion given
    served_seconds: float = 0.0  # spent inside the fake on chat completions, all together
    problems: list[str] = field(default_factory=list)
    responder: Responder | None = None
    _script: deque[Reply] = field(default_factory=deque)
    _stalls: list[Stall] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    def script(self, *replies: Reply) -> None:
        """The next chat completions, in order (after what is scripted already)."""
        self._script.extend(replies)

    def reset(self) -> None:
        self._script.clear()
        self.chat_requests.clear()
        self.usages.clear()
        self.problems.clear()
        self.responder = None

    @property
    def unused(self) -> list[Reply]:
        return list(self._script)

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return _error(401, "Incorrect API key provided")

    async def _embeddings(self, request: web.Request) -> web.Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        body = await request.json()
        self.requests.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        size = (
            self.native_dimensions
            if self.ignore_dimensions
            else body.get("dimensions", self.native_dimensions)
        )
        base64_wanted = body.get("encoding_format") == "base64"
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": encode_base64(fake_vector(t, size))
                if base64_wanted
                else fake_vector(t, size),
            }
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(t.split()) for t in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await self._chat_completion(request)
        finally:
            self.served_seconds += time.perf_counter() - started

    async def _chat_completion(self, request: web.Request) -> web.StreamResponse:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        body = await request.json()
        self.chat_requests.append(body)
        problem = check_chat_request(body)
        if problem:
            self.problems.append(problem)
            return _error(400, problem)
        reply = self.responder(body) if self.responder else None
        if reply is None:
            if not self._script:
                self.problems.append("a chat completion was asked for, none was scripted")
                return _error(500, "the fake has no scripted reply left")
            reply = self._script.popleft()
        if isinstance(reply, Fail):
            headers = {} if reply.retry_after is None else {"retry-after": str(reply.retry_after)}
            return _error(reply.status, f"scripted failure {reply.status}", headers)
        if isinstance(reply, Garbled):
            return web.Response(text=reply.body, content_type="application/json")
        if isinstance(reply, Stall):
            self._stalls.append(reply)
            await reply.released.wait()
            if reply.then is None:
                return _error(504, "stalled")
            reply = reply.then
        if body.get("tool_choice") == "none" and not isinstance(reply, Say):
            self.problems.append("a tool call was scripted for a request with tool_choice none")
        completion = _completion(body, reply)
        self.usages.append(completion["usage"])
        if not body.get("stream"):
            return web.json_response(completion)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await stream.prepare(request)
        for chunk in _chunks(completion, include_usage=include_usage):
            await stream.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await stream.write(b"data: [DONE]\n\n")
        await stream.write_eof()
        return stream

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    async def close(self) -> None:
        for stall in self._stalls:
            stall.release()
        if self._runner is not None:
            await self._runner.cleanup()


class RecordedWaits:
    """An LLM client's `sleep` for tests: each retry's wait is recorded, none slept."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


_call_ids = itertools.count(1)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    kind = _ERROR_TYPES.get(status, "server_error")
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": None}},
        status=status,
        headers=headers,
    )


def _completion(body: dict[str, Any], reply: Say | Call | Calls) -> dict[str, Any]:
    message: dict[str, Any]
    if isinstance(reply, Say):
        message, finish = {"role": "assistant", "content": reply.text}, "stop"
    else:
        calls, text = ((reply,), None) if isinstance(reply, Call) else (reply.calls, reply.text)
        message = {
            "role": "assistant",
            "content": text,
            "tool_calls": [
                {
                    "id": call.id or f"call_{next(_call_ids)}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.raw()},
                }
                for call in calls
            ],
        }
        finish = "tool_calls"
    prompt = _words(body["messages"]) + _words(body.get("tools"))
    completion = _words(message.get("content")) + _words(message.get("tool_calls"))
    return {
        "id": f"chatcmpl-{next(_call_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


_WORDS_PER_CHUNK = 3
_ARGUMENT_CHARS_PER_CHUNK = 8


def _chunks(completion: dict[str, Any], *, include_usage: bool) -> list[dict[str, Any]]:
    """`completion` as the API streams it, chunk by chunk (without the final [DONE])."""
    (choice,) = completion["choices"]
    message = choice["message"]
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    words = re.findall(r"\S+\s*", message.get("content") or "")
    for start in range(0, len(words), _WORDS_PER_CHUNK):
        deltas.append({"content": "".join(words[start : start + _WORDS_PER_CHUNK])})
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        deltas.append(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": function["name"], "arguments": ""},
                    }
                ]
            }
        )
        arguments = function["arguments"]
        for start in range(0, len(arguments), _ARGUMENT_CHARS_PER_CHUNK):
            piece = arguments[start : start + _ARGUMENT_CHARS_PER_CHUNK]
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    head = {key: completion[key] for key in ("id", "created", "model")}
    head["object"] = "chat.completion.chunk"
    extra = {"usage": None} if include_usage else {}
    chunks = [
        head | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]} | extra
        for delta in deltas
    ]
    finish = {"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}
    chunks.append(head | {"choices": [finish]} | extra)
    if include_usage:
        chunks.append(head | {"choices": [], "usage": completion["usage"]})
    return chunks
