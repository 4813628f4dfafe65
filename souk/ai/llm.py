"""The LLM client: chat completions with tools from any OpenAI-compatible provider.

OpenAI, OpenRouter, vLLM and Ollama all take the same request at their base URL
(OPENAI_BASE_URL), so only the standard parts are used: `messages`, `tools`,
`tool_choice` ("none" on the last round), `max_tokens`; nothing provider-specific, and
no streaming (a reply goes out as whole messages: WhatsApp cannot edit one, and on
Telegram each edit would cost a message of the chat's rate; the typing indicator covers
the wait).

Retries are ours, not the `openai` package's (its own are off), so that their waits are
settings and a test can watch them: a timeout, a dropped connection, 408/409/429 or a
5xx is retried after LLM_RETRY_BACKOFF_SECONDS (doubling), or after the provider's
Retry-After if that is longer, unless that is over LLM_RETRY_MAX_WAIT_SECONDS: a
customer is waiting, and the fallback answers at once. Whatever still fails, and an
answer that is no chat completion, raises `LLMUnavailable`; its message names the
error's kind and status, never the key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from souk.config import AISettings
from souk.errors import ConfigurationError
from souk.logs import get_logger
from souk.metrics import LLM_REQUESTS, LLM_TOKENS

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

log = get_logger("souk.ai.llm")

Sleep = Callable[[float], Awaitable[None]]
_RETRIED_STATUSES = frozenset({408, 409, 429})


class LLMUnavailable(Exception):
    """The provider did not answer usefully, after the retries that could help."""


class BudgetSpent(LLMUnavailable):
    """The shop's assistant has used its tokens of the day (ASSISTANT_DAILY_TOKENS): the
    model is not asked until the next UTC day."""

    def __init__(self, day: date, used: int, budget: int) -> None:
        super().__init__(f"{used} of {budget} tokens of {day} used")
        self.day = day
        self.used = used
        self.budget = budget


@dataclass(frozen=True)
class ToolCall:
    """A function the model asked for; `arguments` is the JSON text it wrote, unchecked."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Completion:
    """The model's turn: text, tool calls, or both; and the tokens it cost."""

    text: str
    tool_calls: list[ToolCall]
    prompt_tokens: int
    completion_tokens: int


def retry_after(raw: str | None) -> float | None:
    """The seconds a provider's Retry-After header asks for, if it gives a number."""
    try:
        return max(float(raw), 0.0) if raw is not None else None
    except ValueError:
        return None


class LLMClient:
    """One per process; the `openai` client is built on the first request (importing it
    costs ~23 MB, which a process whose shops never get free text need not pay)."""

    def __init__(self, settings: AISettings, *, sleep: Sleep = asyncio.sleep) -> None:
        if settings.openai_api_key is None:
            raise ConfigurationError("the assistant needs OPENAI_API_KEY")
        self._settings = settings
        self._sleep = sleep
        self._client: AsyncOpenAI | None = None

    @property
    def model(self) -> str:
        return self._settings.llm_model

    def _openai(self) -> AsyncOpenAI:
        if self._client is None:
            from openai import AsyncOpenAI, DefaultAioHttpClient

            key = self._settings.openai_api_key
            assert key is not None
            timeout = self._settings.llm_timeout_seconds
            self._client = AsyncOpenAI(
                api_key=key.get_secret_value(),
                base_url=self._settings.openai_base_url,
                timeout=timeout,
                max_retries=0,
                # aiohttp (the app's HTTP client already) instead of the package's pure
                # Python transport: a third of the CPU of each request.
                http_client=DefaultAioHttpClient(timeout=timeout),
            )
        return self._client

    async def complete(
        self,
        messages: Sequence[ChatCompletionMessageParam],
        tools: Sequence[ChatCompletionToolParam],
        *,
        final: bool = False,
    ) -> Completion:
        """The model's next turn. `final`: the tools stay described (the conversation
        refers to them) but the model may not call one (`tool_choice` "none")."""
        import openai

        attempts = self._settings.llm_max_retries + 1
        for attempt in range(attempts):
            try:
                completion = _completion(await self._request(messages, tools, final=final))
            except openai.OpenAIError as error:
                wait = self._retry_wait(error, attempt)
                kind = _describe(error)
                if wait is None or attempt + 1 == attempts:
                    LLM_REQUESTS.labels("failed").inc()
                    log.warning("llm unavailable", error=kind, attempts=attempt + 1)
                    raise LLMUnavailable(kind) from error
                LLM_REQUESTS.labels("retried").inc()
                log.info("llm retry", error=kind, attempt=attempt + 1, wait=wait)
                await self._sleep(wait)
            except LLMUnavailable:
                LLM_REQUESTS.labels("failed").inc()  # an answer that is no chat completion
                raise
            else:
                LLM_REQUESTS.labels("ok").inc()
                LLM_TOKENS.labels("prompt").inc(completion.prompt_tokens)
                LLM_TOKENS.labels("completion").inc(completion.completion_tokens)
                return completion
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _request(
        self,
        messages: Sequence[ChatCompletionMessageParam],
        tools: Sequence[ChatCompletionToolParam],
        *,
        final: bool,
    ) -> Any:
        """POST /chat/completions; the answer's JSON. Through the client's `post` (its way
        to any endpoint) rather than `chat.completions.create`, which sends the same body
        after walking every message and tool schema against the package's type
        declarations, and builds its models from the answer: together two thirds of the
        client's CPU per request, for JSON that needs neither."""
        import httpx2

        body: dict[str, object] = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": self._settings.llm_max_tokens,
        }
        if tools:
            body["tools"] = list(tools)
            body["tool_choice"] = "none" if final else "auto"
        response = await self._openai().post(
            "/chat/completions",
            cast_to=httpx2.Response,
            body=body,
            options={"security": {"bearer_auth": True}},
        )
        try:
            return json.loads(response.content)
        except ValueError as error:
            raise LLMUnavailable("the provider's answer is not JSON") from error

    def _retry_wait(self, error: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after `error`, or None if it is not retried."""
        import openai

        backoff = self._settings.llm_retry_backoff_seconds * 2.0**attempt
        if isinstance(error, openai.APIConnectionError):  # timeouts included
            return min(backoff, self._settings.llm_retry_max_wait_seconds)
        if isinstance(error, openai.APIStatusError) and (
            error.status_code in _RETRIED_STATUSES or error.status_code >= 500
        ):
            asked = retry_after(error.response.headers.get("retry-after"))
            if asked is not None and asked > self._settings.llm_retry_max_wait_seconds:
                return None
            return min(max(backoff, asked or 0.0), self._settings.llm_retry_max_wait_seconds)
        return None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def _describe(error: Exception) -> str:
    """The error's kind and status: never its message, which may quote the key."""
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__} {status}" if status else type(error).__name__


def _completion(answer: Any) -> Completion:
    """The first choice of a chat completion (its JSON); LLMUnavailable if it is not one."""
    try:
        message = answer["choices"][0]["message"]
        calls = [
            ToolCall(str(call["id"]), str(call["function"]["name"]),
                     str(call["function"].get("arguments") or ""))
            for call in message.get("tool_calls") or []
            if call.get("type", "function") == "function"
        ]  # fmt: skip
        usage = answer.get("usage") or {}
        return Completion(
            text=str(message.get("content") or ""),
            tool_calls=calls,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )
    except (LookupError, TypeError, AttributeError, ValueError) as error:
        kind = type(error).__name__
        raise LLMUnavailable(f"the provider's answer is not a chat completion ({kind})") from error
