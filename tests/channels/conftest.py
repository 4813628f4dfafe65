"""The web application under test, served over real HTTP for the whole session; the fake
LLM the assistant can be pointed at."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from souk.ai.llm import LLMClient
from souk.config import AISettings
from souk.runtime import Runtime
from souk.web import build_app
from tests.fakes.openai_api import FakeOpenAI, RecordedWaits


@pytest.fixture(scope="session")
async def server(runtime: Runtime) -> AsyncIterator[TestServer]:
    test_server = TestServer(build_app(runtime))
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as client:
        yield client


@pytest.fixture(scope="session")
async def fake_llm() -> AsyncIterator[FakeOpenAI]:
    api = FakeOpenAI()
    await api.start()
    yield api
    await api.close()


@pytest.fixture
async def llm_on(
    runtime: Runtime, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RecordedWaits]:
    """The test runtime's assistant talks to the fake LLM (as with OPENAI_API_KEY and
    OPENAI_BASE_URL set) for this test; its retry waits are recorded, not slept."""
    fake_llm.reset()
    waits = RecordedWaits()
    settings = AISettings(
        openai_api_key=SecretStr(fake_llm.api_key),
        openai_base_url=fake_llm.base_url,
        llm_model="fake-model",
    )
    client = LLMClient(settings, sleep=waits)
    monkeypatch.setattr(runtime.assistant, "llm", client)
    yield waits
    monkeypatch.undo()
    await client.close()
