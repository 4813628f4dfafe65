"""The web application under test, served over real HTTP for the whole session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from souk.runtime import Runtime
from souk.web import build_app


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
