"""Just enough of the Chrome DevTools protocol to drive Debian's headless Chromium from a
test: open a page, run JavaScript in it, wait for a condition, take a screenshot.

Chromium is started with the flags this machine needs (no sandbox as root, no
background networking: the network is closed) and a throwaway profile.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
INSTALLED = os.path.exists(CHROMIUM)
_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1000,1200",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class CDPError(RuntimeError):
    pass


class Page:
    """One tab, attached in flat mode: commands carry its session id."""

    def __init__(self, browser: Browser, session_id: str) -> None:
        self._browser = browser
        self._session = session_id

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self._browser.send(method, params, session_id=self._session)

    async def open(self, url: str) -> None:
        await self.send("Page.enable")
        loaded = self._browser.next_event("Page.loadEventFired", self._session)
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, 20)

    async def evaluate(self, expression: str) -> Any:
        answer = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in answer:
            raise CDPError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 20.0) -> Any:
        """Poll `expression` until it is truthy (the page talks to the server meanwhile)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"still false after {seconds}s: {expression[:120]}")
            await asyncio.sleep(0.1)  # polling the page, as a person would look again

    async def screenshot(self, selector: str) -> bytes:
        """A PNG of the element `selector` finds."""
        box = await self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect();"
            " return {x: r.x + window.scrollX, y: r.y + window.scrollY,"
            " width: r.width, height: r.height}; })()"
        )
        shot = await self.send(
            "Page.captureScreenshot",
            format="png",
            clip={**box, "scale": 1},
            captureBeyondViewport=True,
        )
        return base64.b64decode(shot["data"])


class Browser:
    def __init__(
        self, process: asyncio.subprocess.Process, socket: aiohttp.ClientWebSocketResponse
    ) -> None:
        self._process = process
        self._socket = socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[tuple[str, str | None, asyncio.Future[dict[str, Any]]]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self._socket:
            message = json.loads(frame.data)
            if "id" in message:
                future = self._waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
                continue
            for listener in list(self._listeners):
                method, session, future = listener
                if message.get("method") == method and session in (None, message.get("sessionId")):
                    self._listeners.remove(listener)
                    if not future.done():
                        future.set_result(message.get("params", {}))

    def close(self) -> None:
        self._reader.cancel()

    def next_event(
        self, method: str, session_id: str | None = None
    ) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._listeners.append((method, session_id, future))
        return future

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> dict[str, Any]:
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        await self._socket.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def new_page(self) -> Page:
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        return Page(self, attached["sessionId"])


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for the duration of the block."""
    profile = tempfile.mkdtemp(prefix="souk-chromium-")
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *_FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        endpoint = None
        while endpoint is None:
            line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode(errors="replace")
            if not line:
                raise CDPError("chromium exited before it listened")
            found = _LISTENING.search(line)
            endpoint = found.group(1) if found else None
        # Chromium keeps logging to stderr: drain it so a full pipe never blocks it.
        drain = asyncio.create_task(_drain(process.stderr))
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(endpoint, max_msg_size=0) as socket,
        ):
            browser = Browser(process, socket)
            try:
                yield browser
            finally:
                browser.close()
                drain.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 10)
            if process.returncode is None:
                process.kill()
        shutil.rmtree(profile, ignore_errors=True)
