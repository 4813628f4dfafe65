"""A polite fetcher of competitors' pages (aiohttp).

- Per host: at most `MONITOR_PER_HOST_CONCURRENCY` requests in flight, starts at least
  `MONITOR_PER_HOST_DELAY_SECONDS` apart (retries and redirects included).
- A timeout, a connection failure or a 5xx is retried `MONITOR_RETRIES` times after
  `MONITOR_BACKOFF_SECONDS`, doubling.
- 403, 405 or 429 opens the host's breaker for `MONITOR_BREAKER_SECONDS`, or for the
  answer's `Retry-After` if that is longer; while open, a fetch for that host is refused
  without a request.
- Only http and https; redirects are followed here (at most `MONITOR_MAX_REDIRECTS`), so
  each hop is checked and paced like the first; a body over `MONITOR_MAX_PAGE_BYTES` is
  refused; unless `MONITOR_ALLOW_PRIVATE_ADDRESSES`, loopback and private addresses are
  refused (staff give the URLs; the server's own network is not theirs to read).

The breaker and the pacing live in this process. Clock, sleep and wall time are injected
so tests never wait for them.
"""

from __future__ import annotations

import asyncio
import enum
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from yarl import URL

from souk.config import MonitorSettings
from souk.connectors.hosts import (
    HostGate,
    HostState,
    PrivateAddress,
    PublicAddressResolver,
    is_public_address,
    retry_after_seconds,
)
from souk.errors import SoukError
from souk.logs import get_logger

log = get_logger("souk.monitor")

_BREAKER_STATUSES = frozenset({403, 405, 429})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


class FetchProblem(enum.StrEnum):
    BAD_URL = "bad_url"  # not http(s), no host, or a private address
    BREAKER_OPEN = "breaker_open"  # the host refused us recently: no request was made
    BLOCKED = "blocked"  # 403, 405 or 429 now: the breaker has opened
    HTTP_ERROR = "http_error"  # another 4xx (404, 410...) or a redirect without a target
    SERVER_ERROR = "server_error"  # 5xx, retries used up
    TIMEOUT = "timeout"  # retries used up
    NETWORK = "network"  # no connection, retries used up
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"


class FetchError(SoukError):
    """A page could not be fetched; `retry_in` says when the host may be asked again
    (breaker problems only)."""

    def __init__(
        self,
        problem: FetchProblem,
        url: str,
        *,
        status: int | None = None,
        retry_in: float | None = None,
        detail: str = "",
    ) -> None:
        self.problem = problem
        self.url = url
        self.status = status
        self.retry_in = retry_in
        self.detail = detail
        status_text = f" {status}" if status is not None else ""
        super().__init__(
            f"{problem.value}{status_text}: {url}" + (f" ({detail})" if detail else "")
        )


class _Retryable(Exception):
    def __init__(self, problem: FetchProblem, status: int | None = None, detail: str = "") -> None:
        super().__init__(detail)
        self.problem = problem
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class FetchedPage:
    """A page as fetched: where it ended up after redirects, its status and body."""

    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str
    charset: str | None

    def text(self) -> str:
        """The body decoded by the charset of its Content-Type, else of its <meta>, else
        UTF-8 (undecodable bytes replaced)."""
        charset = self.charset
        if charset is None:
            found = _META_CHARSET.search(self.body[:4096])
            charset = found.group(1).decode("ascii") if found else "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class PageFetcher:
    """Fetches pages politely (see the module); build one per process and `close()` it."""

    def __init__(
        self,
        settings: MonitorSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._gate = HostGate(
            concurrency=settings.per_host_concurrency,
            delay=settings.per_host_delay_seconds,
            clock=clock,
            sleep=sleep,
        )
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def breaker_open_for(self, url: str) -> float | None:
        """Seconds until the breaker of `url`'s host closes; None when it is closed."""
        host = URL(url).host
        if host is None:
            return None
        remaining = self._gate.state(host).open_until - self._clock()
        return remaining if remaining > 0 else None

    async def fetch(self, url: str) -> FetchedPage:
        """The page at `url`, or `FetchError` saying why not."""
        target = self._checked(url, url)
        for _ in range(self._settings.max_redirects + 1):
            answer = await self._with_retries(url, target)
            if isinstance(answer, FetchedPage):
                return answer
            target = self._checked(url, str(answer))
        raise FetchError(FetchProblem.TOO_MANY_REDIRECTS, url)

    def _checked(self, url: str, value: str) -> URL:
        try:
            target = URL(value).with_fragment(None)
        except ValueError:
            raise FetchError(FetchProblem.BAD_URL, url, detail=value) from None
        if target.scheme not in ("http", "https") or not target.host:
            raise FetchError(FetchProblem.BAD_URL, url, detail=value)
        if not self._settings.allow_private_addresses and is_public_address(target.host) is False:
            raise FetchError(FetchProblem.BAD_URL, url, detail=f"{target.host} is not public")
        return target

    async def _with_retries(self, url: str, target: URL) -> FetchedPage | URL:
        failure = _Retryable(FetchProblem.NETWORK)
        for attempt in range(self._settings.retries + 1):
            if attempt:
                await self._sleep(self._settings.backoff_seconds * 2 ** (attempt - 1))
            try:
                return await self._attempt(url, target)
            except _Retryable as retryable:
                failure = retryable
                log.info(
                    "competitor page attempt failed",
                    url=str(target),
                    attempt=attempt + 1,
                    problem=failure.problem.value,
                    status=failure.status,
                )
        raise FetchError(failure.problem, url, status=failure.status, detail=failure.detail)

    def _refuse_if_open(self, url: str, state: HostState) -> None:
        remaining = state.open_until - self._clock()
        if remaining > 0:
            raise FetchError(FetchProblem.BREAKER_OPEN, url, retry_in=remaining)

    async def _attempt(self, url: str, target: URL) -> FetchedPage | URL:
        assert target.host is not None
        self._refuse_if_open(url, self._gate.state(target.host))
        async with self._gate.turn(target.host) as state:
            # The breaker may have opened while this request waited for its turn.
            self._refuse_if_open(url, state)
            try:
                async with self._client().get(
                    target,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self._settings.timeout_seconds),
                ) as response:
                    return await self._answer(url, target, state, response)
            except TimeoutError:
                raise _Retryable(FetchProblem.TIMEOUT) from None
            except PrivateAddress as private:
                raise FetchError(
                    FetchProblem.BAD_URL, url, detail=f"{private} is not public"
                ) from None
            except aiohttp.InvalidURL as invalid:
                raise FetchError(FetchProblem.BAD_URL, url, detail=str(invalid)) from None
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
                raise _Retryable(FetchProblem.NETWORK, detail=str(error)) from None

    async def _answer(
        self, url: str, target: URL, state: HostState, response: aiohttp.ClientResponse
    ) -> FetchedPage | URL:
        status = response.status
        if status in _BREAKER_STATUSES:
            wait = max(
                self._settings.breaker_seconds,
                retry_after_seconds(response.headers, self._now()) or 0.0,
            )
            state.open_until = self._clock() + wait
            log.warning(
                "competitor host refused us: breaker open",
                host=target.host,
                status=status,
                seconds=wait,
            )
            raise FetchError(FetchProblem.BLOCKED, url, status=status, retry_in=wait)
        if status >= 500:
            raise _Retryable(FetchProblem.SERVER_ERROR, status)
        location = response.headers.get("Location")
        if status in _REDIRECT_STATUSES and location:
            return target.join(URL(location))
        if status >= 300:
            raise FetchError(FetchProblem.HTTP_ERROR, url, status=status)
        return FetchedPage(
            url=url,
            final_url=str(target),
            status=status,
            body=await self._body(url, response),
            content_type=response.content_type,
            charset=response.charset,
        )

    async def _body(self, url: str, response: aiohttp.ClientResponse) -> bytes:
        limit = self._settings.max_page_bytes
        too_large = FetchError(FetchProblem.TOO_LARGE, url, detail=f"over {limit} bytes")
        if response.content_length is not None and response.content_length > limit:
            raise too_large
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            resolver = None if self._settings.allow_private_addresses else PublicAddressResolver()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver, limit_per_host=0),
                headers={"User-Agent": self._settings.user_agent, "Accept": _ACCEPT},
            )
        return self._session
