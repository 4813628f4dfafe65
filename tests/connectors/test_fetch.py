"""The polite fetcher against a fake competitor site over real HTTP. Its clock and sleep are
injected: waits are recorded and move the clock, nothing here sleeps for time to pass (the
only real waits are the fetcher's own short timeouts against a site that never answers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from souk.config import MonitorSettings
from souk.connectors.fetch import FetchedPage, FetchError, FetchProblem, PageFetcher
from souk.connectors.hosts import retry_after_seconds
from souk.connectors.pages import PageOffer, extract_offer
from tests.fakes.competitor_site import Answer, CompetitorSite, product_page
from tests.fakes.http_fake import ManualClock

AGENT = "souk-test-monitor/1.0"


class FakeTime:
    """The fetcher's clock and sleep: a sleep is recorded and moves the clock."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.clock.advance(seconds)
        await asyncio.sleep(0)


def monitor_settings(**changes: object) -> MonitorSettings:
    values: dict[str, object] = {
        "per_host_delay_seconds": 2.0,
        "per_host_concurrency": 1,
        "timeout_seconds": 0.25,
        "retries": 2,
        "backoff_seconds": 1.0,
        "breaker_seconds": 3600.0,
        "max_page_bytes": 64 * 1024,
        "allow_private_addresses": True,
        "user_agent": AGENT,
    }
    return MonitorSettings(**{**values, **changes})  # type: ignore[arg-type]


@pytest.fixture
async def site() -> AsyncIterator[CompetitorSite]:
    async with CompetitorSite() as fake:
        yield fake


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


Make = Callable[..., PageFetcher]


@pytest.fixture
async def make_fetcher(fake_time: FakeTime) -> AsyncIterator[Make]:
    made: list[PageFetcher] = []

    def make(**changes: object) -> PageFetcher:
        fetcher = PageFetcher(
            monitor_settings(**changes), clock=fake_time.clock, sleep=fake_time.sleep
        )
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        await fetcher.close()


def other_host(site: CompetitorSite) -> str:
    """The same fake site under another host name: its own pacing and breaker."""
    return site.base_url.replace("127.0.0.1", "localhost")


async def fetch_error(fetcher: PageFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as failed:
        await fetcher.fetch(url)
    return failed.value


async def test_a_page_is_fetched_and_read(site: CompetitorSite, make_fetcher: Make) -> None:
    site.page("/kettle", product_page("Kettle", "12990", "KZT"))
    page = await make_fetcher().fetch(site.base_url + "/kettle#reviews")
    assert isinstance(page, FetchedPage)
    assert (page.status, page.final_url) == (200, site.base_url + "/kettle")
    offer = extract_offer(page.text())
    assert isinstance(offer, PageOffer)
    assert (str(offer.price), offer.title) == ("12990.00 KZT", "Kettle")
    assert site.requests[0].user_agent == AGENT


async def test_requests_to_one_host_start_the_delay_apart(
    site: CompetitorSite, make_fetcher: Make, fake_time: FakeTime
) -> None:
    site.page("/a", "<p>a</p>")
    fetcher = make_fetcher()
    for _ in range(3):
        await fetcher.fetch(site.base_url + "/a")
    assert fake_time.sleeps == [2.0, 2.0]
    await fetcher.fetch(other_host(site) + "/a")  # another host does not wait
    assert fake_time.sleeps == [2.0, 2.0]
    fake_time.clock.advance(5.0)  # time passed on its own: no wait either
    await fetcher.fetch(site.base_url + "/a")
    assert fake_time.sleeps == [2.0, 2.0]
    assert site.hits("/a") == 5


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_requests_in_flight_per_host_are_limited(
    site: CompetitorSite, make_fetcher: Make, concurrency: int
) -> None:
    site.answer("/slow", Answer(body="<p>done</p>", delay=0.05))
    fetcher = make_fetcher(per_host_concurrency=concurrency, per_host_delay_seconds=0.0)
    urls = [site.base_url + "/slow"] * 4 + [other_host(site) + "/slow"] * 4
    pages = await asyncio.gather(*(fetcher.fetch(url) for url in urls))
    assert all(page.status == 200 for page in pages)
    assert site.max_in_flight == {"127.0.0.1": concurrency, "localhost": concurrency}


async def test_a_slow_page_times_out_after_its_retries(
    site: CompetitorSite, make_fetcher: Make, fake_time: FakeTime
) -> None:
    site.answer("/slow", Answer(body="<p>late</p>", delay=30))
    failure = await fetch_error(make_fetcher(), site.base_url + "/slow")
    assert failure.problem is FetchProblem.TIMEOUT
    assert site.hits("/slow") == 3
    # Backoff 1 s then 2 s; the first backoff is shorter than the host's 2 s delay.
    assert fake_time.sleeps == [1.0, 1.0, 2.0]


async def test_a_server_error_is_retried_until_it_succeeds(
    site: CompetitorSite, make_fetcher: Make, fake_time: FakeTime
) -> None:
    site.answer("/flaky", Answer(status=500), Answer(status=502), Answer(body="<p>ok</p>"))
    page = await make_fetcher(per_host_delay_seconds=0.0).fetch(site.base_url + "/flaky")
    assert page.status == 200
    assert [r.status for r in site.requests] == [500, 502, 200]
    assert fake_time.sleeps == [1.0, 2.0]


async def test_server_errors_beyond_the_retries_are_reported(
    site: CompetitorSite, make_fetcher: Make
) -> None:
    site.answer("/down", Answer(status=503))
    failure = await fetch_error(make_fetcher(retries=1), site.base_url + "/down")
    assert (failure.problem, failure.status) == (FetchProblem.SERVER_ERROR, 503)
    assert site.hits("/down") == 2


async def test_429_opens_the_breaker_for_the_longer_of_retry_after_and_the_setting(
    site: CompetitorSite, make_fetcher: Make, fake_time: FakeTime
) -> None:
    site.answer("/limited", Answer(status=429, headers={"Retry-After": "7200"}))
    site.page("/other", "<p>other</p>")
    fetcher = make_fetcher()
    failure = await fetch_error(fetcher, site.base_url + "/limited")
    assert (failure.problem, failure.status, failure.retry_in) == (
        FetchProblem.BLOCKED,
        429,
        7200.0,
    )
    assert site.hits("/limited") == 1  # not retried

    refused = await fetch_error(fetcher, site.base_url + "/other")
    assert refused.problem is FetchProblem.BREAKER_OPEN
    assert refused.retry_in == pytest.approx(7200.0)
    assert len(site.requests) == 1  # refused without a request
    assert fetcher.breaker_open_for(site.base_url + "/other") == pytest.approx(7200.0)

    await fetcher.fetch(other_host(site) + "/other")  # other hosts are not held back
    fake_time.clock.advance(7200.0)
    assert fetcher.breaker_open_for(site.base_url + "/other") is None
    assert (await fetcher.fetch(site.base_url + "/other")).status == 200


async def test_requests_waiting_for_a_host_are_refused_once_its_breaker_opens(
    site: CompetitorSite, make_fetcher: Make
) -> None:
    site.answer("/limited", Answer(status=429))
    site.page("/other", "<p>other</p>")
    fetcher = make_fetcher()
    first, second = await asyncio.gather(
        fetcher.fetch(site.base_url + "/limited"),
        fetcher.fetch(site.base_url + "/other"),
        return_exceptions=True,
    )
    assert isinstance(first, FetchError) and first.problem is FetchProblem.BLOCKED
    assert isinstance(second, FetchError) and second.problem is FetchProblem.BREAKER_OPEN
    assert [request.path for request in site.requests] == ["/limited"]


async def test_a_short_retry_after_still_rests_the_host_for_the_breaker_setting(
    site: CompetitorSite, make_fetcher: Make
) -> None:
    site.answer("/limited", Answer(status=429, headers={"Retry-After": "60"}))
    failure = await fetch_error(make_fetcher(), site.base_url + "/limited")
    assert failure.retry_in == 3600.0


async def test_retry_after_as_a_date_is_measured_from_the_answers_date(
    site: CompetitorSite, make_fetcher: Make
) -> None:
    headers = {
        "Date": "Sat, 21 Nov 2026 10:00:00 GMT",
        "Retry-After": "Sat, 21 Nov 2026 12:30:00 GMT",
    }
    site.answer("/limited", Answer(status=429, headers=headers))
    failure = await fetch_error(make_fetcher(), site.base_url + "/limited")
    assert failure.retry_in == 9000.0


@pytest.mark.parametrize("status", [403, 405])
async def test_a_refusal_opens_the_breaker(
    site: CompetitorSite, make_fetcher: Make, status: int
) -> None:
    site.answer("/blocked", Answer(status=status, body="Access denied"))
    fetcher = make_fetcher()
    failure = await fetch_error(fetcher, site.base_url + "/blocked")
    assert (failure.problem, failure.status, failure.retry_in) == (
        FetchProblem.BLOCKED,
        status,
        3600.0,
    )
    assert (await fetch_error(fetcher, site.base_url + "/blocked")).problem is (
        FetchProblem.BREAKER_OPEN
    )
    assert site.hits("/blocked") == 1


async def test_a_missing_page_is_reported_without_retries(
    site: CompetitorSite, make_fetcher: Make
) -> None:
    failure = await fetch_error(make_fetcher(), site.base_url + "/gone")
    assert (failure.problem, failure.status) == (FetchProblem.HTTP_ERROR, 404)
    assert site.hits("/gone") == 1
    assert make_fetcher().breaker_open_for(site.base_url + "/gone") is None


@pytest.mark.parametrize(
    "answer",
    [Answer(body=b"x" * 100_000), Answer(stream_bytes=10 * 1024 * 1024)],
    ids=["content-length", "chunked"],
)
async def test_a_huge_page_is_refused(
    site: CompetitorSite, make_fetcher: Make, answer: Answer
) -> None:
    site.answer("/huge", answer)
    failure = await fetch_error(make_fetcher(), site.base_url + "/huge")
    assert failure.problem is FetchProblem.TOO_LARGE
    assert site.hits("/huge") == 1


async def test_redirects_are_followed_and_paced(
    site: CompetitorSite, make_fetcher: Make, fake_time: FakeTime
) -> None:
    site.answer("/old", Answer(status=301, headers={"Location": "/new"}))
    site.page("/new", "<p>new</p>")
    site.answer("/loop", Answer(status=302, headers={"Location": "/loop"}))
    site.answer("/ftp", Answer(status=302, headers={"Location": "ftp://files.example/x"}))
    fetcher = make_fetcher(max_redirects=3)
    page = await fetcher.fetch(site.base_url + "/old")
    assert (page.url, page.final_url) == (site.base_url + "/old", site.base_url + "/new")
    assert fake_time.sleeps == [2.0]
    assert (await fetch_error(fetcher, site.base_url + "/loop")).problem is (
        FetchProblem.TOO_MANY_REDIRECTS
    )
    assert site.hits("/loop") == 4
    assert (await fetch_error(fetcher, site.base_url + "/ftp")).problem is FetchProblem.BAD_URL


@pytest.mark.parametrize(
    "url",
    [
        "ftp://shop.example/p",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "shop.example/p",
        "http://",
    ],
)
async def test_only_http_and_https_urls(make_fetcher: Make, url: str) -> None:
    assert (await fetch_error(make_fetcher(), url)).problem is FetchProblem.BAD_URL


async def test_private_addresses_are_refused_unless_allowed(
    site: CompetitorSite, make_fetcher: Make
) -> None:
    site.page("/a", "<p>a</p>")
    fetcher = make_fetcher(allow_private_addresses=False)
    for url in (site.base_url + "/a", other_host(site) + "/a", "http://[::1]/", "http://10.0.0.8/"):
        failure = await fetch_error(fetcher, url)
        assert failure.problem is FetchProblem.BAD_URL, url
    assert site.requests == []  # "localhost" resolves to 127.0.0.1: refused at resolution


async def test_the_body_is_decoded_by_its_declared_charset(
    site: CompetitorSite, make_fetcher: Make
) -> None:
    html = '<meta charset="windows-1251"><p>Цена: 1 299 ₽</p>'.replace("₽", "руб.")
    site.answer("/cp", Answer(body=html.encode("cp1251"), content_type="text/html"))
    site.answer(
        "/koi",
        Answer(body="<p>Чайник</p>".encode("koi8-r"), content_type="text/html; charset=koi8-r"),
    )
    fetcher = make_fetcher(per_host_delay_seconds=0.0)
    assert "Цена: 1 299 руб." in (await fetcher.fetch(site.base_url + "/cp")).text()
    assert "Чайник" in (await fetcher.fetch(site.base_url + "/koi")).text()


def test_retry_after_values() -> None:
    now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

    def headers(**values: str) -> CIMultiDictProxy[str]:
        return CIMultiDictProxy(CIMultiDict({k.replace("_", "-"): v for k, v in values.items()}))

    assert retry_after_seconds(headers(Retry_After="120"), now) == 120.0
    assert retry_after_seconds(headers(Retry_After="Sat, 21 Nov 2026 11:00:00 GMT"), now) == 3600.0
    assert retry_after_seconds(headers(Retry_After="Sat, 21 Nov 2026 09:00:00 GMT"), now) == 0.0
    assert retry_after_seconds(headers(Retry_After="soon"), now) is None
    assert retry_after_seconds(headers(), now) is None
