"""Tests of the fake WhatsApp Cloud API over real HTTP with an aiohttp client.

Every limit is tried at its edge (accepted) and one past it (refused with the right HTTP
status and Graph error code). Time-based limits use a manual clock: nothing sleeps.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.fakes import whatsapp_webhooks as wh
from tests.fakes.http_fake import ManualClock, standalone
from tests.fakes.whatsapp_api import FakeWhatsAppAPI, WhatsAppLimits
from tests.fakes.whatsapp_limits import SendLimiter

PNID = "106540352242922"
OTHER_PNID = "106540352242923"
TOKEN = "EAAG-test-token"
OTHER_TOKEN = "EAAG-other-token"
USER = "16505551234"
USER2 = "16505550000"
BSUID = "US.13491208655302741918"
DAY = 24 * 3600.0

Json = dict[str, Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def api(clock: ManualClock) -> AsyncIterator[FakeWhatsAppAPI]:
    fake = FakeWhatsAppAPI({PNID: TOKEN, OTHER_PNID: OTHER_TOKEN}, clock=clock)
    await fake.start()
    yield fake
    await fake.close()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Graph:
    """A minimal Cloud API client: POST a body, get (HTTP status, JSON)."""

    def __init__(self, http: aiohttp.ClientSession, api: FakeWhatsAppAPI) -> None:
        self.http = http
        self.api = api

    async def send(self, body: Json, number: str = PNID, token: str = TOKEN) -> tuple[int, Json]:
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{self.api.base_url}/{number}/messages"
        async with self.http.post(url, json=body, headers=headers) as resp:
            return resp.status, await resp.json()

    async def code(self, body: Json, number: str = PNID) -> int | None:
        """The Graph error code of a send, None if it was accepted."""
        status, answer = await self.send(body, number)
        return None if status == 200 else int(answer["error"]["code"])


@pytest.fixture
def graph(http: aiohttp.ClientSession, api: FakeWhatsAppAPI) -> Graph:
    return Graph(http, api)


def text(body: str = "hi", to: str = USER) -> Json:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def interactive(kind: str, action: Json) -> Json:
    parts = {
        "type": kind,
        "header": {"type": "text", "text": "Tea"},
        "body": {"text": "Pick one"},
        "footer": {"text": "souk"},
        "action": action,
    }
    return {**text(), "recipient_type": "individual", "type": "interactive", "interactive": parts}


def buttons(count: int = 3) -> Json:
    replies = [
        {"type": "reply", "reply": {"id": f"b{n}", "title": f"Buy {n}"}} for n in range(count)
    ]
    return interactive("button", {"buttons": replies})


def listing(sections: int = 1, rows: int = 10) -> Json:
    """A list message of ``rows`` rows spread over ``sections`` sections."""
    per = rows // sections
    return interactive(
        "list",
        {
            "button": "Choose",
            "sections": [
                {
                    "title": f"Section {s}",
                    "rows": [
                        {"id": f"r{s}-{r}", "title": f"Tea {r}", "description": "Green"}
                        for r in range(per)
                    ],
                }
                for s in range(sections)
            ],
        },
    )


def changed(body: Json, path: str, value: Any) -> Json:
    """A deep copy of ``body`` with the dotted ``path`` (list indexes as digits) set."""
    result = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = result
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


def edge(
    name: str, body: Json, path: str, limit: int, where: str, code: int = 131009
) -> tuple[str, Json, Json, int, str]:
    """A string field of ``body`` at its ``limit`` length, and one character past it."""
    at, past = changed(body, path, "x" * limit), changed(body, path, "x" * (limit + 1))
    return name, at, past, code, where


BUTTON = "interactive.action.buttons.0.reply"
SECTION = "interactive.action.sections.0"
ROW = f"{SECTION}.rows.0"
IMAGE = {**text(), "type": "image", "image": {"link": "https://x.y/a.jpg"}}
PLACE = {**text(), "type": "location", "location": {"latitude": 90, "longitude": -180}}
# (name, body at the limit, body one past it, Graph code, field named in the details)
EDGES: list[tuple[str, Json, Json, int, str]] = [
    edge("text", text(), "text.body", 4096, "text['body']", code=100),
    ("empty text", text("x"), text(""), 100, "text['body']"),
    ("buttons", buttons(3), buttons(4), 131009, "['buttons']"),
    ("no buttons", buttons(1), buttons(0), 131009, "['buttons']"),
    edge("button title", buttons(1), f"{BUTTON}.title", 20, "[0]['reply']['title']"),
    edge("button id", buttons(1), f"{BUTTON}.id", 256, "[0]['reply']['id']"),
    ("button ids", buttons(2), changed(buttons(2), f"{BUTTON}.id", "b1"), 131009, "unique ids"),
    edge("button body", buttons(), "interactive.body.text", 1024, "['body']['text']"),
    edge("button header", buttons(), "interactive.header.text", 60, "['header']['text']"),
    edge("button footer", buttons(), "interactive.footer.text", 60, "['footer']['text']"),
    edge("list button", listing(), "interactive.action.button", 20, "['action']['button']"),
    ("sections", listing(10, 10), listing(11, 11), 131009, "['sections']"),
    ("rows in all", listing(2, 10), listing(2, 12), 131009, "rows in all"),
    ("rows in a section", listing(1, 10), listing(1, 11), 131009, "[0]['rows']"),
    edge("row title", listing(), f"{ROW}.title", 24, "['rows'][0]['title']"),
    edge("row id", listing(), f"{ROW}.id", 200, "['rows'][0]['id']"),
    ("row ids", listing(), changed(listing(), f"{ROW}.id", "r0-1"), 131009, "unique row ids"),
    edge("row description", listing(), f"{ROW}.description", 72, "['description']"),
    edge("section title", listing(), f"{SECTION}.title", 24, "['sections'][0]['title']"),
    (
        "section title needed",
        changed(listing(1, 2), f"{SECTION}.title", None),
        changed(listing(2, 2), f"{SECTION}.title", None),
        131009,
        "['sections'][0]['title'] is required",
    ),
    edge("list body", listing(), "interactive.body.text", 4096, "['body']['text']"),
    edge("list footer", listing(), "interactive.footer.text", 60, "['footer']['text']"),
    edge("list header", listing(), "interactive.header.text", 60, "['header']['text']"),
    edge("caption", IMAGE, "image.caption", 1024, "image['caption']"),
    ("latitude", PLACE, changed(PLACE, "location.latitude", 90.5), 131009, "['latitude']"),
]


# -- limits, no HTTP -----------------------------------------------------------------


def test_pair_rate_bucket(clock: ManualClock) -> None:
    limiter = SendLimiter(WhatsAppLimits(pair_burst=2), clock)
    for _ in range(2):
        assert limiter.pair_error(PNID, USER) is None
        limiter.take(PNID, USER)
    error = limiter.pair_error(PNID, USER)
    assert error is not None and (error.status, error.code) == (400, 131056)
    assert limiter.pair_error(PNID, USER2) is None  # other users are independent
    assert limiter.pair_error(OTHER_PNID, USER) is None  # so are other numbers
    clock.advance(5.9)
    assert limiter.pair_error(PNID, USER) is not None
    clock.advance(0.1)  # one message every 6 s
    assert limiter.pair_error(PNID, USER) is None
    off = SendLimiter(WhatsAppLimits(pair_burst=1, pair_enabled=False), clock)
    off.take(PNID, USER)
    assert off.pair_error(PNID, USER) is None


# -- sending over HTTP ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_text_roundtrip(api: FakeWhatsAppAPI, graph: Graph, clock: ManualClock) -> None:
    assert api.base_url.endswith("/v23.0")
    api.customer_wrote(PNID, USER)
    status, answer = await graph.send({**text("hello"), "to": "+1 650-555-1234"})
    assert status == 200
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert answer == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+1 650-555-1234", "wa_id": USER}],
        "messages": [{"id": wamid}],
    }
    reply = {**text("again"), "context": {"message_id": "wamid.customer"}}
    assert (await graph.send(reply))[0] == 200
    assert api.delivered_texts(USER) == ["hello", "again"]
    call = api.delivered("+16505551234")[1]
    assert (call.method, call.path, call.endpoint, call.phone_number_id) == (
        "POST",
        f"/{PNID}/messages",
        "messages",
        PNID,
    )
    assert (call.status, call.code, call.type, call.at) == (200, None, "text", clock.now)
    assert call.body["context"] == {"message_id": "wamid.customer"}
    assert api.message(wamid) == api.delivered(USER)[0]
    unversioned = f"{api.root_url}/{PNID}/messages"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with graph.http.post(unversioned, json=text("plain"), headers=headers) as resp:
        assert resp.status == 200
    assert api.calls(to=USER)[-1].path == f"/{PNID}/messages"


@pytest.mark.asyncio
async def test_read_receipt_and_number_profile(
    api: FakeWhatsAppAPI, graph: Graph, http: aiohttp.ClientSession
) -> None:
    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.in"}
    typing = {**receipt, "typing_indicator": {"type": "text"}}
    for body in (receipt, typing):  # no window needed: it is not a message
        assert await graph.send(body) == (200, {"success": True})
    assert await graph.code({**receipt, "message_id": ""}) == 100
    assert await graph.code({**typing, "typing_indicator": {"type": "audio"}}) == 100
    assert [c.endpoint for c in api.calls()] == ["mark_read"] * 4
    assert api.delivered(USER) == [] and api.stats()["mark_read"]["ok"] == 2
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with http.get(f"{api.base_url}/{PNID}", headers=headers) as resp:
        profile = await resp.json()
    assert (profile["id"], profile["display_phone_number"]) == (PNID, wh.DISPLAY_PHONE_NUMBER)
    async with http.get(f"{api.base_url}/{OTHER_PNID}", headers=headers) as resp:
        assert (resp.status, (await resp.json())["error"]["code"]) == (400, 100)


@pytest.mark.asyncio
async def test_auth_and_unknown_number(
    api: FakeWhatsAppAPI, graph: Graph, http: aiohttp.ClientSession
) -> None:
    for token in ("wrong", ""):
        status, answer = await graph.send(text(), token=token)
        assert status == 401
        error = answer["error"]
        assert (error["type"], error["code"]) == ("OAuthException", 190)
        assert error["message"].startswith("Invalid OAuth access token")
        assert error["fbtrace_id"]
    status, answer = await graph.send(text(), number="999")
    assert (status, answer["error"]["code"], answer["error"]["error_subcode"]) == (400, 100, 33)
    assert "Object with ID '999' does not exist" in answer["error"]["message"]
    # A real token that may not use this number is refused the same way.
    assert (await graph.send(text(), number=OTHER_PNID))[0] == 400
    url = f"{api.base_url}/{PNID}/messages"
    async with http.post(url, params={"access_token": TOKEN}, json=text()) as resp:
        assert (await resp.json())["error"]["code"] == 131047  # authorized, window closed
    async with http.post(f"{api.base_url}/{PNID}/nope", json={}) as resp:
        assert (resp.status, (await resp.json())["error"]["code"]) == (400, 2500)
    codes = [c.code for c in api.calls()]
    assert codes == [190, 190, 100, 100, 131047, 2500]


@pytest.mark.parametrize(
    ("name", "edge", "past", "code", "where"), EDGES, ids=[e[0] for e in EDGES]
)
@pytest.mark.asyncio
async def test_content_limits(
    api: FakeWhatsAppAPI, graph: Graph, name: str, edge: Json, past: Json, code: int, where: str
) -> None:
    api.configure_limits(pair_enabled=False)
    api.customer_wrote(PNID, USER)
    status, answer = await graph.send(edge)
    assert status == 200, answer
    status, answer = await graph.send(past)
    assert status == 400
    error = answer["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{code}) ")
    assert where in error["error_data"]["details"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert [c.code for c in api.calls()] == [None, code]
    assert len(api.delivered(USER)) == 1


@pytest.mark.asyncio
async def test_malformed_sends(api: FakeWhatsAppAPI, graph: Graph) -> None:
    api.customer_wrote(PNID, USER)
    image = {**text(), "type": "image"}
    cases: list[tuple[Json, int, str]] = [
        ({"to": USER, "text": {"body": "x"}}, 100, "messaging_product is required"),
        ({**text(), "messaging_product": "sms"}, 100, "messaging_product"),
        ({**text(), "type": "audio"}, 100, "Param type"),
        ({k: v for k, v in text().items() if k != "to"}, 100, "parameter to is required"),
        ({**text(), "to": "call me"}, 100, "Param to"),
        ({**text(), "text": "hi"}, 100, "text must be a JSON object"),
        ({**image, "image": {"link": "https://a/b.jpg", "id": "1"}}, 100, "exactly one"),
        ({**image, "image": {"link": "ftp://a/b.jpg"}}, 100, "image['link']"),
        ({**image, "image": {"id": "404"}}, 131009, "image['id'] is not a valid media ID"),
        ({**text(), "type": "location", "location": {"latitude": 1}}, 100, "longitude"),
        (changed(buttons(1), "interactive.action.buttons.0.type", "url"), 100, "'reply'"),
        (changed(buttons(1), "interactive.type", "flow"), 100, "interactive['type']"),
    ]
    for body, code, words in cases:
        status, answer = await graph.send(body)
        assert (status, answer["error"]["code"]) == (400, code), body
        assert words in answer["error"]["message"] + answer["error"]["error_data"]["details"]
    async with graph.http.post(
        f"{api.base_url}/{PNID}/messages",
        data=b"not json",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    ) as resp:
        assert "messaging_product is required" in (await resp.json())["error"]["message"]
    assert api.delivered(USER) == []


@pytest.mark.asyncio
async def test_templates(api: FakeWhatsAppAPI, graph: Graph) -> None:
    def template(name: str, language: str = "en_US", params: int = 1) -> Json:
        values = [{"type": "text", "text": f"#{n}"} for n in range(params)]
        components = [{"type": "body", "parameters": values}]
        spec = {"name": name, "language": {"code": language}, "components": components}
        return {**text(), "type": "template", "template": spec}

    status, answer = await graph.send(template("order_ready"))
    assert (status, answer["error"]["code"]) == (404, 132001)
    assert "order_ready" in answer["error"]["error_data"]["details"]
    api.add_template("order_ready", "en_US", body_parameters=1)
    assert await graph.code(template("order_ready")) is None  # no window needed
    assert await graph.code(template("order_ready", "ar")) == 132001
    assert await graph.code(template("order_ready", params=2)) == 132000
    assert api.delivered(USER)[0].body["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "#0"}
    ]
    assert api.delivered_texts(USER) == ["order_ready"]


@pytest.mark.asyncio
async def test_customer_service_window(
    api: FakeWhatsAppAPI, graph: Graph, clock: ManualClock
) -> None:
    status, answer = await graph.send(text())
    assert (status, answer["error"]["code"]) == (400, 131047)
    assert answer["error"]["message"] == "(#131047) Re-engagement message"
    assert "24 hours" in answer["error"]["error_data"]["details"]
    api.customer_wrote(PNID, USER)
    clock.advance(DAY)
    assert await graph.code(text()) is None  # the last second of the window
    clock.advance(1)
    assert await graph.code(text()) == 131047
    assert await graph.code(buttons()) == 131047
    api.customer_wrote(PNID, USER, at=clock.now - 10)
    assert await graph.code(text()) is None
    api.configure_limits(window_enabled=False)
    assert await graph.code(text(to=USER2)) is None


@pytest.mark.asyncio
async def test_window_per_number_and_bsuid(api: FakeWhatsAppAPI, graph: Graph) -> None:
    other = graph
    payload = api.inbound(wh.text_message(PNID, USER, "hi", user_id=BSUID, name="Sheena"))
    assert payload["entry"][0]["changes"][0]["value"]["contacts"][0]["user_id"] == BSUID
    assert await other.code(text()) is None
    status, answer = await other.send(text(), OTHER_PNID, OTHER_TOKEN)
    assert (status, answer["error"]["code"]) == (400, 131047)  # the window is per number
    by_bsuid = {k: v for k, v in text("via bsuid").items() if k != "to"} | {"recipient": BSUID}
    status, answer = await other.send(by_bsuid)
    assert status == 200
    assert answer["contacts"] == [{"input": BSUID, "user_id": BSUID}]
    assert api.delivered_texts(USER) == ["hi", "via bsuid"]  # one customer, two ids
    api.inbound(wh.text_message(PNID, None, "no phone", user_id="BR.77"))
    assert await other.code({**by_bsuid, "recipient": "BR.77"}) is None


@pytest.mark.asyncio
async def test_throughput_limit(api: FakeWhatsAppAPI, graph: Graph, clock: ManualClock) -> None:
    api.configure_limits(pair_enabled=False)
    api.customer_wrote(PNID, USER)
    results = await asyncio.gather(*(graph.code(text(str(n))) for n in range(80)))
    assert results == [None] * 80
    status, answer = await graph.send(text("81"))
    assert (status, answer["error"]["code"]) == (429, 130429)
    assert answer["error"]["message"] == "(#130429) Rate limit hit"
    api.customer_wrote(OTHER_PNID, USER)
    assert (await graph.send(text(), OTHER_PNID, OTHER_TOKEN))[0] == 200  # per number
    clock.advance(1 / 80)
    assert await graph.code(text("81")) is None
    assert api.stats()["messages"] == {"ok": 82, "rate_limited": 1, "errors": 0}


@pytest.mark.asyncio
async def test_pair_rate_limit(api: FakeWhatsAppAPI, graph: Graph, clock: ManualClock) -> None:
    assert (api.limits.pair_interval, api.limits.pair_burst) == (6.0, 45)
    api.customer_wrote(PNID, USER)
    api.customer_wrote(PNID, USER2)
    for n in range(45):
        assert await graph.code(text(str(n))) is None
    status, answer = await graph.send(text("46"))
    assert (status, answer["error"]["code"]) == (400, 131056)
    assert "pair rate limit hit" in answer["error"]["message"]
    assert await graph.code(text(to=USER2)) is None
    assert await graph.code(text("")) == 100  # refused sends consume nothing ...
    clock.advance(6)
    assert await graph.code(text("46")) is None  # ... so the next token is there
    assert await graph.code(text("47")) == 131056
    api.configure_limits(pair_burst=1)
    assert await graph.code(text()) is None
    assert await graph.code(text()) == 131056
    api.configure_limits(pair_enabled=False)
    assert [await graph.code(text()) for _ in range(3)] == [None] * 3
    assert api.stats()["messages"]["rate_limited"] == 3


@pytest.mark.asyncio
async def test_block_and_failure_injection(api: FakeWhatsAppAPI, graph: Graph) -> None:
    api.customer_wrote(PNID, USER)
    api.block("+1 650 555 1234")
    status, answer = await graph.send(text())
    assert (status, answer["error"]["code"]) == (400, 131026)
    api.unblock(USER)
    assert await graph.code(text()) is None
    api.fail_next(2, status=503, code=2, message="(#2) Service temporarily unavailable")
    for _ in range(2):
        status, answer = await graph.send(text())
        assert (status, answer["error"]["code"]) == (503, 2)
        assert answer["error"]["message"] == "(#2) Service temporarily unavailable"
    assert await graph.code(text()) is None
    api.fail_next()
    status, answer = await graph.send(text())
    assert (status, answer["error"]["message"]) == (500, "(#131000) Something went wrong")
    assert api.stats()["messages"]["errors"] == 4


@pytest.mark.asyncio
async def test_media_roundtrip(
    api: FakeWhatsAppAPI, graph: Graph, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}

    async def upload(data: bytes, mime: str, product: str = "whatsapp") -> tuple[int, Json]:
        form = aiohttp.FormData()
        form.add_field("messaging_product", product)
        form.add_field("type", mime)
        form.add_field("file", data, filename="photo", content_type=mime)
        async with http.post(f"{api.base_url}/{PNID}/media", data=form, headers=auth) as resp:
            return resp.status, await resp.json()

    png = b"\x89PNG\r\n" + b"p" * 100
    status, answer = await upload(png, "image/png")
    assert status == 200
    media_id = answer["id"]
    async with http.get(f"{api.base_url}/{media_id}", headers=auth) as resp:
        info = await resp.json()
    assert info["id"] == media_id and info["messaging_product"] == "whatsapp"
    assert (info["mime_type"], info["file_size"]) == ("image/png", len(png))
    assert info["sha256"] == hashlib.sha256(png).hexdigest()
    async with http.get(info["url"], headers=auth) as resp:
        assert (resp.status, await resp.read()) == (200, png)
    async with http.get(info["url"]) as resp:
        assert resp.status == 401
    clock.advance(301)
    async with http.get(info["url"], headers=auth) as resp:
        assert resp.status == 404  # download URLs expire after 5 minutes
    api.customer_wrote(PNID, USER)
    sent = {**text(), "type": "image", "image": {"id": media_id, "caption": "Tea"}}
    assert await graph.code(sent) is None
    assert (await upload(b"GIF89a", "image/gif"))[1]["error"]["code"] == 100
    assert (await upload(png, "image/png", product="sms"))[1]["error"]["code"] == 100
    status, answer = await upload(b"j" * (5 * 1024 * 1024 + 1), "image/jpeg")
    assert (status, answer["error"]["code"]) == (400, 131053)
    inbound = api.add_media("4490709327384033", b"jpeg bytes")
    async with http.get(f"{api.base_url}/{inbound.id}", headers=auth) as resp:
        assert (await resp.json())["sha256"] == hashlib.sha256(b"jpeg bytes").hexdigest()
    async with http.delete(f"{api.base_url}/{inbound.id}", headers=auth) as resp:
        assert await resp.json() == {"success": True}
    async with http.get(f"{api.base_url}/{inbound.id}", headers=auth) as resp:
        assert (resp.status, (await resp.json())["error"]["code"]) == (400, 100)
    assert api.media(media_id).data == png
    assert api.stats()["media_download"] == {"ok": 1, "rate_limited": 0, "errors": 2}


# -- waiting, control and standalone -------------------------------------------------


@pytest.mark.asyncio
async def test_wait_for(api: FakeWhatsAppAPI, graph: Graph) -> None:
    api.customer_wrote(PNID, USER)
    waiter = asyncio.create_task(api.wait_for(lambda a: len(a.delivered(USER)) == 2))
    await graph.send(text("one"))
    assert not waiter.done()
    await graph.send(text("two"))
    await waiter
    with pytest.raises(TimeoutError, match=r"still false after 0.05s; 2 requests recorded"):
        await api.wait_for(lambda a: False, timeout=0.05)


@pytest.mark.asyncio
async def test_control_endpoints(
    api: FakeWhatsAppAPI, graph: Graph, http: aiohttp.ClientSession
) -> None:
    ctl = f"{api.root_url}/_fake"
    config = {
        "pair_burst": 1,
        "numbers": {"777": "T7"},
        "templates": [["hello", "en_US"]],
        "blocked": [USER2],
        "customer_wrote": [{"phone_number_id": PNID, "wa_id": USER}],
    }
    async with http.post(f"{ctl}/config", json=config) as resp:
        assert (await resp.json())["limits"]["pair_burst"] == 1
    async with http.post(f"{ctl}/config", json={"bogus": 1}) as resp:
        assert resp.status == 400
    assert await graph.code(text("one")) is None
    assert await graph.code(text("two")) == 131056
    api.customer_wrote(PNID, USER2)
    assert await graph.code(text(to=USER2)) == 131026
    assert (await graph.send(text(), "777", "T7"))[1]["error"]["code"] == 131047
    async with http.post(f"{ctl}/inbound", json=wh.text_message("777", USER, "hey")) as resp:
        assert resp.status == 200
    assert (await graph.send(text(), "777", "T7"))[0] == 200
    async with http.get(f"{ctl}/calls", params={"to": USER, "phone_number_id": PNID}) as resp:
        assert [(c["body"]["text"]["body"], c["code"]) for c in await resp.json()] == [
            ("one", None),
            ("two", 131056),
        ]
    async with http.get(f"{ctl}/stats") as resp:
        assert (await resp.json())["messages"] == {"ok": 2, "rate_limited": 1, "errors": 2}
    async with http.post(f"{ctl}/reset") as resp:
        assert resp.status == 200
    assert api.calls() == [] and api.stats() == {}
    api.customer_wrote("777", USER)
    assert (await graph.send(text(), "777", "T7"))[0] == 200  # numbers survive a reset


@pytest.mark.asyncio
async def test_runs_as_a_process() -> None:
    number = f"{PNID}:{TOKEN}"
    module = "tests.fakes.whatsapp_api"
    async with standalone(module, "--number", number, "--no-window", "--no-limits") as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v23.0")
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession() as http:
            for n in range(50):  # no window and no pair rate: all accepted
                sent = http.post(f"{url}/{PNID}/messages", json=text(str(n)), headers=headers)
                async with sent as resp:
                    assert resp.status == 200
