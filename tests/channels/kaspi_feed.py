"""A shop with a Kaspi feed turned on, its products, the beat job, and the feed fetched
over HTTP: `Kaspi`, which each feed test module makes its `kaspi` fixture of."""

from __future__ import annotations

# Parsing what the server under test answered.
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from aiohttp import ClientResponse, ClientSession, encode_basic_auth
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import Category, OutboxMessage, Product, Shop, StaffRole
from souk.runtime import Runtime
from souk.services.feed_setup import FeedOptions, FeedSetup
from souk.services.feeds import FeedOutcome
from souk.workers.feeds import refresh_feeds
from tests.conftest import MakeShop, TestShop

NS = "{kaspiShopping}"
OWNER = 7601
T0 = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    sku: str
    title: str = "Kettle"
    price: str = "1000.00"
    stock: int = 5
    brand: str | None = "Acme"
    currency: str = "KZT"
    category: str = "kitchen"
    active: bool = True


@dataclass(frozen=True)
class FeedShop:
    shop: TestShop
    secret: str

    @property
    def path(self) -> str:
        return f"/feeds/kaspi/{self.shop.slug}.xml"

    @property
    def auth(self) -> str:
        """The Authorization header the marketplace sends."""
        return encode_basic_auth("kaspi", self.secret)


def parse(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - the document under test


def offers(root: ET.Element) -> dict[str, ET.Element]:
    return {offer.attrib["sku"]: offer for offer in root.iter(f"{NS}offer")}


def price(offer: ET.Element) -> str | None:
    return offer.findtext(f"{NS}price")


def availability(offer: ET.Element) -> set[str]:
    return {store.attrib["available"] for store in offer.iter(f"{NS}availability")}


@dataclass(frozen=True)
class Kaspi:
    """The feed's world in a test: shops with feeds, the beat job, the web server."""

    runtime: Runtime
    make_shop: MakeShop
    sessions: async_sessionmaker[AsyncSession]
    http: ClientSession
    server: TestServer

    async def shop(self, items: list[Item], *, categories: list[str] | None = None) -> FeedShop:
        """A shop (with an owner to be told) selling `items`, its feed turned on for
        stores PP1 and PP2 of merchant M-77."""
        shop = await self.make_shop(staff={OWNER: StaffRole.OWNER})
        async with self.sessions() as session, session.begin():
            ids = {}
            for slug in sorted({item.category for item in items} | {"kitchen"}):
                category = Category(shop_id=shop.shop_id, slug=slug, name=slug.title())
                session.add(category)
                await session.flush()
                ids[slug] = category.id
            session.add_all(
                Product(
                    shop_id=shop.shop_id,
                    category_id=ids[item.category],
                    sku=item.sku,
                    title=item.title,
                    brand=item.brand,
                    price=Decimal(item.price),
                    currency=item.currency,
                    stock=item.stock,
                    is_active=item.active,
                )
                for item in items
            )
            owned = await session.get_one(Shop, shop.shop_id)
            options = FeedOptions("M-77", ["PP1", "PP2"], categories=categories)
            secret = await FeedSetup(session, owned).enable(options)
        assert secret is not None
        return FeedShop(shop, secret)

    async def deactivate(self, feed: FeedShop, skus: list[str]) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Product)
                .where(Product.shop_id == feed.shop.shop_id, Product.sku.in_(skus))
                .values(is_active=False)
            )

    async def refresh(self, feed: FeedShop, now: datetime = T0) -> FeedOutcome:
        """The beat job at `now`; what it did to this shop's feed."""
        outcomes = await refresh_feeds(self.runtime, now)
        (mine,) = [outcome for outcome in outcomes if outcome.shop_id == feed.shop.shop_id]
        return mine

    async def fetch(
        self,
        feed: FeedShop,
        headers: dict[str, str] | None = None,
        *,
        client: ClientSession | None = None,
    ) -> tuple[ClientResponse, bytes]:
        sent = {"Authorization": feed.auth, **(headers or {})}
        async with (client or self.http).get(
            self.server.make_url(feed.path), headers=sent
        ) as response:
            return response, await response.read()

    async def served(self, feed: FeedShop) -> dict[str, ET.Element]:
        response, body = await self.fetch(feed)
        assert response.status == 200
        return offers(parse(body))

    async def staff_told(self, feed: FeedShop) -> list[str]:
        async with self.sessions() as session:
            found = await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.shop_id == feed.shop.shop_id,
                    OutboxMessage.kind == "feed_refused",
                )
                .order_by(OutboxMessage.id)
            )
            return [str(push.payload["text"]) for push in found]


def kaspi_world(
    runtime: Runtime,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    http: ClientSession,
    server: TestServer,
) -> Kaspi:
    """The `kaspi` fixture (each module: `kaspi = pytest.fixture(kaspi_world)`)."""
    return Kaspi(runtime, make_shop, session_factory, http, server)
