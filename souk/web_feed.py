"""`GET /feeds/kaspi/{shop}.xml`: the shop's last published Kaspi price feed.

HTTP basic auth, the feed's secret as the password (Kaspi's cabinet takes a URL, a login
and a password for an automatic price list). Unknown shop, disabled feed, wrong or no
password: one and the same 401. The document is served as it is stored, gzip, to
clients that accept it and decompressed on the fly to others; ETag and Last-Modified
let the marketplace's next fetch of an unchanged feed end in a 304.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from aiohttp.helpers import ETag

from souk.runtime import Runtime
from souk.services.feed_setup import PublishedFeed, ServedDocument, feed_document, feed_for_fetch

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FEED_ROUTE = "/feeds/kaspi/{shop}.xml"
_CONTENT_TYPE = "application/xml; charset=utf-8"
_CHUNK = 256 * 1024


def _password(request: web.Request) -> str | None:
    """The password of a basic Authorization header (aiohttp's BasicAuth is deprecated)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon else None


def _accepts_gzip(request: web.Request) -> bool:
    for coding in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in ("gzip", "*") and params.replace(" ", "") not in (
            "q=0",
            "q=0.0",
        ):
            return True
    return False


def _not_modified(request: web.Request, found: PublishedFeed) -> bool:
    """RFC 9110: If-None-Match (weak comparison) wins over If-Modified-Since."""
    assert found.etag is not None and found.generated_at is not None
    if request.if_none_match is not None:
        return any(tag.value in (found.etag, "*") for tag in request.if_none_match)
    since = request.if_modified_since
    return since is not None and found.generated_at.replace(microsecond=0) <= since


def _identity(response: web.StreamResponse, etag: str, generated_at: datetime) -> None:
    response.etag = ETag(value=etag, is_weak=True)  # one ETag for both encodings
    response.last_modified = generated_at
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Accept-Encoding, Authorization"


async def _decompressed(request: web.Request, document: ServedDocument) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": _CONTENT_TYPE})
    _identity(response, document.etag, document.generated_at)
    response.content_length = document.size
    await response.prepare(request)
    inflate = zlib.decompressobj(31)
    for start in range(0, len(document.gzipped), _CHUNK):
        await response.write(inflate.decompress(document.gzipped[start : start + _CHUNK]))
    await response.write(inflate.flush())
    await response.write_eof()
    return response


def kaspi_feed_view(runtime: Runtime) -> Handler:
    """The view serving every shop's feed from the database (shared by all replicas)."""

    async def kaspi_feed(request: web.Request) -> web.StreamResponse:
        async with runtime.session_factory() as session:
            found = await feed_for_fetch(session, request.match_info["shop"], _password(request))
            if found is None:
                return web.Response(
                    status=401,
                    text="unauthorized\n",
                    headers={"WWW-Authenticate": 'Basic realm="feed", charset="UTF-8"'},
                )
            if found.etag is None:  # enabled, never published yet
                return web.Response(status=503, text="not ready\n", headers={"Retry-After": "300"})
            if _not_modified(request, found):
                response = web.Response(status=304)
                assert found.generated_at is not None
                _identity(response, found.etag, found.generated_at)
                return response
            document = await feed_document(session, found.feed_id)
        if document is None:  # turned off between the two reads
            return web.Response(status=503, text="not ready\n", headers={"Retry-After": "300"})
        if not _accepts_gzip(request):
            return await _decompressed(request, document)
        response = web.Response(
            body=document.gzipped,
            headers={"Content-Type": _CONTENT_TYPE, "Content-Encoding": "gzip"},
        )
        _identity(response, document.etag, document.generated_at)
        return response

    return kaspi_feed
