"""A fake Telegram Bot API server speaking the real protocol over HTTP on 127.0.0.1.

A real ``aiogram.Bot`` pointed at ``TelegramAPIServer.from_base(base_url)`` talks to it
unchanged. It validates like Telegram, enforces flood limits with token buckets,
records every call, queues updates for getUpdates and can inject failures. Control
endpoints under ``/_fake/`` let another process (a benchmark) drive it.

Run standalone: ``python -m tests.fakes.telegram_api --port 8081 --token 123:abc``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from tests.fakes import telegram_limits as lim
from tests.fakes.http_fake import changed_limits, limit_changes, serve_until_stopped
from tests.fakes.telegram_limits import ApiError, FakeLimits, RateLimiter
from tests.fakes.telegram_methods import MethodsMixin
from tests.fakes.telegram_protocol import (
    INT_PATTERN,
    Params,
    RecordedCall,
    WebhookConfig,
    callback_query_update,
    message_update,
    parse_params,
)

__all__ = [
    "ApiError",
    "FakeBotAPI",
    "FakeLimits",
    "RecordedCall",
    "WebhookConfig",
    "callback_query_update",
    "main",
    "message_update",
]


class FakeBotAPI(MethodsMixin):
    """In-process fake of api.telegram.org for tests and benchmarks.

    ``await start()`` returns the base URL; every call is recorded as a ``RecordedCall``.
    ``reset()`` clears records and per-test state but keeps tokens and limits.
    """

    label = "fake Telegram"

    def __init__(
        self,
        tokens: Iterable[str] = (),
        limits: FakeLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._clock = clock
        self._tokens: dict[str, int] = {}
        for token in tokens:
            self.add_bot(token)
        self._limiter = RateLimiter(limits or FakeLimits(), clock)
        self._calls: list[RecordedCall] = []
        self._stats: dict[str, list[int]] = {}
        self._failures: deque[tuple[int, str]] = deque()
        self._storms: dict[int, list[int]] = {}
        self._blocked: set[int] = set()
        self._init_state()
        self._app.router.add_get("/_fake/calls", self._ctl_calls)
        self._app.router.add_get("/_fake/stats", self._ctl_stats)
        self._app.router.add_post("/_fake/reset", self._ctl_reset)
        self._app.router.add_post("/_fake/config", self._ctl_config)
        self._app.router.add_post("/_fake/updates/{bot_id:-?\\d+}", self._ctl_update)
        self._app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    # -- configuration ---------------------------------------------------------------

    def add_bot(self, token: str) -> int:
        """Accept ``token`` (``<bot_id>:<secret>``) from now on; return the bot id."""
        bot_id, sep, secret = token.partition(":")
        if not sep or not bot_id.isdigit() or not secret:
            raise ValueError(f"bad token {token!r}: expected '<bot_id>:<secret>'")
        self._tokens[token] = int(bot_id)
        return int(bot_id)

    @property
    def limits(self) -> FakeLimits:
        return self._limiter.limits

    def configure_limits(self, **changes: Any) -> FakeLimits:
        """Change limit fields (coerced to their types) and refill all buckets."""
        self._limiter.limits = changed_limits(self._limiter.limits, changes)
        self._limiter.reset()
        return self._limiter.limits

    def add_file(self, file_id: str, data: bytes) -> None:
        """Make ``file_id`` (as in a document of an update) downloadable with ``data``."""
        self._files[file_id] = data

    def file_bytes(self, file_id: str) -> bytes:
        """What was stored under ``file_id``: added, or uploaded by a bot (sendDocument)."""
        return self._files[file_id]

    def uploaded_file(self, filename: str) -> bytes:
        """The bytes of the last file a bot uploaded under ``filename``."""
        return self._files[self._upload_names[filename]]

    def block(self, chat_id: int) -> None:
        """Make ``chat_id`` answer 403 as if the user blocked the bot."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def fail_next(self, count: int = 1, status: int = 500, description: str | None = None) -> None:
        """Answer the next ``count`` sending calls (any bot, any chat) with ``status``."""
        text = description or ("Bad Gateway" if status == 502 else "Internal Server Error")
        self._failures.extend([(status, text)] * count)

    def force_retry_after(self, chat_id: int, retry_after: int, count: int = 1) -> None:
        """Answer the next ``count`` sends to ``chat_id`` with 429, ignoring the buckets."""
        self._storms[chat_id] = [count, retry_after]

    def reset(self) -> None:
        """Forget calls, messages, updates, webhooks, blocks and injected failures."""
        self._calls.clear()
        self._stats.clear()
        self._failures.clear()
        self._storms.clear()
        self._blocked.clear()
        self._limiter.reset()
        self._init_state()
        self._wake()

    # -- inspection ------------------------------------------------------------------

    def calls(
        self, method: str | None = None, chat_id: int | None = None, ok_only: bool = True
    ) -> list[RecordedCall]:
        """Recorded calls, oldest first, filtered by method (any case) and chat_id."""
        wanted = self.canonical(method) if method else None
        return [
            call
            for call in self._calls
            if (not ok_only or call.status == 200)
            and (wanted is None or call.method == wanted)
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    def delivered_texts(self, chat_id: int, bot_id: int | None = None) -> list[str]:
        """Texts of successful sendMessage calls to ``chat_id``, in order."""
        return [
            str(call.params.get("text"))
            for call in self.calls("sendMessage", chat_id=chat_id)
            if bot_id is None or call.bot_id == bot_id
        ]

    def stats(self) -> dict[str, dict[str, int]]:
        """Per method: ``ok`` answers, ``retry_after`` (429) answers and other ``errors``."""
        return {
            method: {"ok": ok, "retry_after": limited, "errors": errors}
            for method, (ok, limited, errors) in self._stats.items()
        }

    def webhook(self, bot_id: int) -> WebhookConfig | None:
        return self._webhooks.get(bot_id)

    def is_polling(self, bot_id: int) -> bool:
        """True while a getUpdates long poll of ``bot_id`` is waiting for updates."""
        return self._polling.get(bot_id, 0) > 0

    def _recent(self) -> str:
        last = ", ".join(
            f"{c.method}(chat_id={c.params.get('chat_id')})->{c.status}" for c in self._calls[-5:]
        )
        return f"{len(self._calls)} calls recorded, last: [{last}]"

    # -- plumbing shared with MethodsMixin -------------------------------------------

    def _admit(self, bot_id: int, chat_id: int | None, counted: bool = True) -> None:
        """Refuse blocked chats, then charge the flood-control buckets."""
        if chat_id in self._blocked:
            assert chat_id is not None
            reason = (
                "bot was blocked by the user"
                if chat_id > 0
                else "bot is not a member of the supergroup chat"
            )
            raise ApiError(403, f"Forbidden: {reason}")
        if counted:
            retry_after = self._limiter.acquire(bot_id, chat_id)
            if retry_after is not None:
                raise lim.too_many_requests(retry_after)

    def _inject(self, params: Params) -> None:
        if self._failures:
            status, description = self._failures.popleft()
            raise ApiError(status, description)
        chat_id = params.get("chat_id")
        if self._storms and isinstance(chat_id, int) and chat_id in self._storms:
            storm = self._storms[chat_id]
            storm[0] -= 1
            if storm[0] <= 0:
                del self._storms[chat_id]
            raise lim.too_many_requests(storm[1])

    def _record(self, bot_id: int, method: str, params: Params, status: int) -> None:
        self._calls.append(RecordedCall(bot_id, method, params, status, self._clock()))
        counters = self._stats.get(method)
        if counters is None:
            counters = self._stats[method] = [0, 0, 0]
        counters[0 if status == 200 else 1 if status == 429 else 2] += 1

    # -- HTTP ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = self.canonical(request.match_info["method"])
        known = self._tokens.get(token)
        prefix = token.partition(":")[0]
        # Unknown tokens are still recorded, under the id the token claims (0 if none).
        bot_id = known if known is not None else int(prefix) if prefix.isdigit() else 0
        params: Params = {}
        body: Params
        try:
            if known is None:
                raise ApiError(401, "Unauthorized")
            handler = self._handlers.get(method)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            params = await parse_params(request)
            self._uploads = await _uploaded_parts(request)
            if self.is_sending(method):
                self._inject(params)
            result = handler(bot_id, params)
            if isinstance(result, Awaitable):
                result = await result
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status = exc.status
            body = {"ok": False, "error_code": status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
        except Exception as exc:  # a bug in the fake must still answer in Telegram's shape
            status = 500
            body = {"ok": False, "error_code": 500, "description": f"Internal Error: {exc!r}"}
        self._record(bot_id, method, params, status)
        await self._notify()
        return web.Response(text=json.dumps(body), status=status, content_type="application/json")

    async def _download(self, request: web.Request) -> web.Response:
        """GET /file/bot<token>/<file_path>: the bytes of a file getFile returned a path of."""
        if request.match_info["token"] not in self._tokens:
            return web.json_response({"ok": False, "error_code": 401}, status=401)
        path = request.match_info["path"]
        file_id = next((f for f, p in self._file_paths.items() if p == path), None)
        if file_id is None:
            return web.json_response({"ok": False, "error_code": 404}, status=404)
        return web.Response(body=self._files[file_id], content_type="application/octet-stream")

    async def _ctl_calls(self, request: web.Request) -> web.Response:
        query = request.query
        chat = query.get("chat_id", "")
        calls = self.calls(
            method=query.get("method") or None,
            chat_id=int(chat) if INT_PATTERN.fullmatch(chat) else None,
            ok_only=query.get("ok_only", "1").lower() not in ("0", "false", "no"),
        )
        return web.json_response([call.to_json() for call in calls])

    async def _ctl_update(self, request: web.Request) -> web.Response:
        try:
            update = await request.json()
        except ValueError:
            update = None
        if not isinstance(update, dict):
            error = {"ok": False, "description": "update must be a JSON object"}
            return web.json_response(error, status=400)
        update_id = self.push_update(int(request.match_info["bot_id"]), update)
        return web.json_response({"ok": True, "update_id": update_id})

    async def _ctl_config(self, request: web.Request) -> web.Response:
        """Body: limit fields (top level or under "limits"), "tokens", "blocked", "unblocked",
        "fail_next" {count, status, description}, "force_retry_after" {chat_id, retry_after, count}.
        """
        try:
            config = await request.json()
            if not isinstance(config, dict):
                raise ValueError("config must be a JSON object")
            others = {"tokens", "blocked", "unblocked", "fail_next", "force_retry_after"}
            changes = limit_changes(config, FakeLimits, others)
            for token in config.get("tokens", ()):
                self.add_bot(str(token))
            for chat_id in config.get("blocked", ()):
                self.block(int(chat_id))
            for chat_id in config.get("unblocked", ()):
                self.unblock(int(chat_id))
            if "fail_next" in config:
                self.fail_next(**config["fail_next"])
            if "force_retry_after" in config:
                self.force_retry_after(**config["force_retry_after"])
            limits = self.configure_limits(**changes) if changes else self.limits
        except (TypeError, ValueError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "limits": asdict(limits)})


async def _uploaded_parts(request: web.Request) -> dict[str, bytes]:
    """The file parts of a multipart request (aiohttp keeps the parsed form)."""
    if not request.content_type.startswith("multipart/"):
        return {}
    parts = {}
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            value.file.seek(0)
            parts[key] = value.file.read()
    return parts


async def _serve(args: argparse.Namespace) -> None:
    api = FakeBotAPI(tokens=args.token, limits=FakeLimits(enabled=not args.no_limits))
    await serve_until_stopped(api, args.host, args.port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", action="append", default=[], help="<bot_id>:<secret>")
    parser.add_argument("--no-limits", action="store_true", help="disable flood control")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
