"""Test session: real Postgres (+pgvector) and Redis from the embedded starters, one database
per run with migrations applied once, and a fake Bot API over real HTTP.

Tests do not share rows: each makes its own shop and bot (`make_shop`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from souk.cli import migrate_database
from souk.config import Settings
from souk.db.models import Staff, StaffRole
from souk.db.session import create_engine, create_session_factory
from souk.embedded import EmbeddedServices, ServiceURLs
from souk.logs import setup_logging
from souk.runtime import Runtime
from souk.services.shops import ShopService
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.whatsapp_api import FakeWhatsAppAPI

setup_logging(level="INFO")

# Settings read the environment: nothing of the developer's may leak into tests.
for _name in list(os.environ):
    if _name.startswith(
        (
            "TELEGRAM_",
            "WHATSAPP_",
            "OPENAI_",
            "DATABASE_URL",
            "REDIS_URL",
            "INBOX_",
            "OUTBOX_",
            "HTTP_",
            "MONITOR_",
            "REPRICE_",
            "FEED_",
            "SYNC_",
            "PROMETHEUS_MULTIPROC_DIR",
        )
    ):
        del os.environ[_name]


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="souk-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded(data_dir: Path) -> Iterator[EmbeddedServices]:
    services = EmbeddedServices(data_dir=data_dir, database_url=None, redis_url=None, fast=True)
    services.start()
    yield services
    services.stop(only_started=False)


@pytest.fixture(scope="session")
def urls(embedded: EmbeddedServices) -> ServiceURLs:
    found = embedded.urls()
    migrate_database(found.database_url)
    return found


@pytest.fixture(scope="session")
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI()
    await api.start()
    yield api
    await api.close()


@pytest.fixture(scope="session")
async def fake_whatsapp() -> AsyncIterator[FakeWhatsAppAPI]:
    api = FakeWhatsAppAPI()
    await api.start()
    yield api
    await api.close()


# The WhatsApp app of the test runtime: it signs webhooks with this secret.
WHATSAPP_APP_SECRET = "test-app-secret"
WHATSAPP_VERIFY_TOKEN = "test-verify-token"


# A platform admin (ADMIN_TELEGRAM_IDS) of the test runtime.
ADMIN_ID = 990001


def make_settings(
    fake_api: FakeBotAPI, data_dir: Path, fake_whatsapp: FakeWhatsAppAPI | None = None
) -> Settings:
    settings = Settings()
    settings.core.data_dir = data_dir
    settings.core.admin_telegram_ids = [ADMIN_ID]
    settings.telegram.api_base = fake_api.base_url
    if fake_whatsapp is not None:
        settings.whatsapp.api_base = fake_whatsapp.base_url
        settings.whatsapp.app_secret = SecretStr(WHATSAPP_APP_SECRET)
        settings.whatsapp.verify_token = SecretStr(WHATSAPP_VERIFY_TOKEN)
    settings.inbox.sweep_seconds = 0.5
    settings.inbox.stale_seconds = 1.0
    return settings


@pytest.fixture(scope="session")
def settings(fake_api: FakeBotAPI, fake_whatsapp: FakeWhatsAppAPI, data_dir: Path) -> Settings:
    return make_settings(fake_api, data_dir, fake_whatsapp)


@pytest.fixture(scope="session")
async def runtime(settings: Settings, urls: ServiceURLs) -> AsyncIterator[Runtime]:
    """One update-handling runtime per session (aiogram routers join one dispatcher)."""
    kicks: list[int] = []
    rt = Runtime.create(
        settings, urls, handle_updates=True, on_outbox_committed=lambda: kicks.append(1)
    )
    yield rt
    await rt.close()


@pytest.fixture(scope="session")
async def engine(urls: ServiceURLs) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(urls.database_url, pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture(scope="session")
async def redis(urls: ServiceURLs) -> AsyncIterator[Redis]:
    client = Redis.from_url(urls.redis_url)
    yield client
    await client.aclose()


def new_bot_token() -> str:
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"


@dataclass(frozen=True)
class TestShop:
    __test__ = False  # a fixture value, not a test class

    shop_id: int
    slug: str
    bot_id: int
    token: str
    secret: str
    whatsapp_number: str | None = None


MakeShop = Callable[..., Awaitable[TestShop]]


@pytest.fixture
def make_shop(
    session_factory: async_sessionmaker[AsyncSession],
    fake_api: FakeBotAPI,
    fake_whatsapp: FakeWhatsAppAPI,
) -> MakeShop:
    """A new shop with its own bot (known to the fake API), optionally a WhatsApp number
    (known to the fake Graph API), and optionally staff."""

    async def make(
        *,
        staff: dict[int, StaffRole] | None = None,
        payment_token: str | None = None,
        whatsapp: bool = False,
    ) -> TestShop:
        token = new_bot_token()
        fake_api.add_bot(token)
        slug = f"t-{secrets.token_hex(5)}"
        number = str(secrets.randbelow(9 * 10**14) + 10**14) if whatsapp else None
        async with session_factory() as session, session.begin():
            shops = ShopService(session)
            shop = await shops.create(slug=slug, name=f"Shop {slug}")
            channel = await shops.connect_telegram(shop, token, payment_token=payment_token)
            if number is not None:
                access = secrets.token_urlsafe(24)
                fake_whatsapp.add_number(number, access)
                await shops.connect_whatsapp(shop, number, access)
            for user_id, role in (staff or {}).items():
                session.add(Staff(shop_id=shop.id, telegram_user_id=user_id, role=role))
        assert channel.webhook_secret is not None
        return TestShop(
            shop.id, slug, int(channel.external_id), token, channel.webhook_secret, number
        )

    return make
