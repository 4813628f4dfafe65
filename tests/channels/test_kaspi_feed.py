"""GET /feeds/kaspi/{shop}.xml over HTTP: the Kaspi XML with every field, escaped,
prices in whole units, availability from stock; one 401 for an unknown shop, a wrong
secret or none; ETag and Last-Modified answered with 304; gzip or plain."""

from __future__ import annotations

import gzip
from email.utils import format_datetime

import pytest
from aiohttp import ClientSession, encode_basic_auth

from souk.db.models import Shop
from souk.services.feed_setup import FeedSetup
from souk.services.feeds import FeedStatus
from tests.channels.kaspi_feed import (
    NS,
    T0,
    Item,
    Kaspi,
    availability,
    kaspi_world,
    offers,
    parse,
    price,
)

kaspi = pytest.fixture(kaspi_world)


async def test_the_feed_is_kaspi_xml_with_every_field(kaspi: Kaspi) -> None:
    feed = await kaspi.shop(
        [
            Item("K-2", "Kettle 2 l", "15990.00", stock=3, brand="Tefal"),
            Item("K-1", "Kettle 1 l", "9990.00", stock=0, brand=None),
            Item("K-OFF", active=False),
            Item("K-USD", currency="USD"),
            Item("K-FREE", price="0.00"),
        ]
    )
    assert (await kaspi.refresh(feed)).status is FeedStatus.PUBLISHED
    response, body = await kaspi.fetch(feed)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    root = parse(body)
    assert root.tag == f"{NS}kaspi_catalog"  # the kaspiShopping namespace
    assert root.attrib["date"] == "2031-03-01 09:00"  # the shop's clock (UTC here)
    assert root.findtext(f"{NS}company") == f"Shop {feed.shop.slug}"
    assert root.findtext(f"{NS}merchantid") == "M-77"
    # Active, priced, in tenge: in SKU order.
    assert list(offers(root)) == ["K-1", "K-2"]
    kettle = offers(root)["K-2"]
    assert kettle.findtext(f"{NS}model") == "Kettle 2 l"
    assert kettle.findtext(f"{NS}brand") == "Tefal"
    assert price(kettle) == "15990"
    stores = kettle.findall(f"{NS}availabilities/{NS}availability")
    assert [(s.attrib["storeId"], s.attrib["available"]) for s in stores] == [
        ("PP1", "yes"),
        ("PP2", "yes"),
    ]
    sold_out = offers(root)["K-1"]
    assert sold_out.find(f"{NS}brand") is None
    assert availability(sold_out) == {"no"}


async def test_titles_are_escaped_and_prices_rounded_up_to_whole_units(kaspi: Kaspi) -> None:
    title = "Tom & Jerry <\"Deluxe\"> 'Edition'\x07 ]]>"
    feed = await kaspi.shop(
        [
            Item("A&B<1>", title, "1299.01", brand='R&D "Lab"'),
            Item("EXACT", price="1299.00"),
            Item("HALF", price="0.50"),
        ]
    )
    await kaspi.refresh(feed)
    found = await kaspi.served(feed)
    odd = found["A&B<1>"]
    assert odd.findtext(f"{NS}model") == "Tom & Jerry <\"Deluxe\"> 'Edition' ]]>"  # no BEL
    assert odd.findtext(f"{NS}brand") == 'R&D "Lab"'
    # Rounded up: the marketplace never sells under the shop's price.
    assert [price(found[sku]) for sku in ("A&B<1>", "EXACT", "HALF")] == ["1300", "1299", "1"]


async def test_only_the_chosen_categories_are_offered(kaspi: Kaspi) -> None:
    feed = await kaspi.shop(
        [Item("K-1"), Item("T-1", category="toys"), Item("G-1", category="garden")],
        categories=["toys", "garden"],
    )
    await kaspi.refresh(feed)
    assert sorted(await kaspi.served(feed)) == ["G-1", "T-1"]


async def test_an_unknown_shop_a_wrong_secret_and_none_get_the_same_401(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item("K-1")])
    other = await kaspi.shop([Item("K-1")])
    await kaspi.refresh(feed)
    answers = []
    for path, headers in [
        ("/feeds/kaspi/no-such-shop.xml", {"Authorization": feed.auth}),
        (feed.path, {"Authorization": encode_basic_auth("kaspi", "wrong")}),
        (feed.path, {"Authorization": other.auth}),  # another shop's secret
        (feed.path, {"Authorization": "Basic !!!not-base64"}),
        (feed.path, {"Authorization": f"Bearer {feed.secret}"}),
        (feed.path, {}),
    ]:
        async with kaspi.http.get(kaspi.server.make_url(path), headers=headers) as response:
            answers.append(
                (response.status, response.headers.get("WWW-Authenticate"), await response.text())
            )
    assert answers == [(401, 'Basic realm="feed", charset="UTF-8"', "unauthorized\n")] * 6
    assert (await kaspi.fetch(feed))[0].status == 200
    async with kaspi.sessions() as session, session.begin():
        shop = await session.get_one(Shop, feed.shop.shop_id)
        assert await FeedSetup(session, shop).disable()
    assert (await kaspi.fetch(feed))[0].status == 401


async def test_a_feed_never_published_is_not_ready(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item("K-1")])
    response, _ = await kaspi.fetch(feed)
    assert (response.status, response.headers["Retry-After"]) == (503, "300")


async def test_an_unchanged_feed_is_answered_with_304(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item("K-1")])
    await kaspi.refresh(feed)
    first, _ = await kaspi.fetch(feed)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('W/"')
    assert modified == format_datetime(T0, usegmt=True)
    again, body = await kaspi.fetch(feed, {"If-None-Match": etag})
    assert (again.status, body, again.headers["ETag"]) == (304, b"", etag)
    assert (await kaspi.fetch(feed, {"If-Modified-Since": modified}))[0].status == 304
    assert (await kaspi.fetch(feed, {"If-None-Match": 'W/"old"'}))[0].status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110).
    both = {"If-None-Match": 'W/"old"', "If-Modified-Since": modified}
    assert (await kaspi.fetch(feed, both))[0].status == 200


async def test_gzip_to_those_who_take_it_plain_to_others(kaspi: Kaspi) -> None:
    feed = await kaspi.shop([Item(f"K-{n}") for n in range(50)])
    await kaspi.refresh(feed)
    async with ClientSession(auto_decompress=False) as raw:
        zipped, zipped_body = await kaspi.fetch(feed, {"Accept-Encoding": "gzip"}, client=raw)
        plain, plain_body = await kaspi.fetch(feed, {"Accept-Encoding": "identity"}, client=raw)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(zipped_body) == plain_body
    assert int(plain.headers["Content-Length"]) == len(plain_body)
    assert len(offers(parse(plain_body))) == 50
    assert zipped.headers["ETag"] == plain.headers["ETag"]
    async with kaspi.http.head(
        kaspi.server.make_url(feed.path), headers={"Authorization": feed.auth}
    ) as head:
        assert head.status == 405
