"""Reports drawn and sent by the worker's code: on request, and the owners' daily digest."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.db.models import Shop, StaffRole
from souk.runtime import Runtime
from souk.services.reports import PeriodKind
from souk.workers.reports import send_digests, send_report
from tests.conftest import MakeShop
from tests.fakes.telegram_api import FakeBotAPI

OWNER, MANAGER = 6801, 6802


async def test_a_report_is_sent_as_text_and_a_png_chart(
    runtime: Runtime, make_shop: MakeShop, fake_api: FakeBotAPI
) -> None:
    shop = await make_shop(staff={OWNER: StaffRole.OWNER})
    sent = await send_report(
        runtime,
        shop_id=shop.shop_id,
        bot_id=shop.bot_id,
        chat_id=OWNER,
        kind=PeriodKind.WEEK,
        language="ru",
        now=datetime.now(UTC),
    )
    assert sent
    (text,) = fake_api.delivered_texts(OWNER, bot_id=shop.bot_id)
    assert text.startswith(f"<b>Shop {shop.slug}</b>: продажи ")
    assert "Выручка: 0,00\xa0$" in text and "Остатки по возрасту" in text
    (photo,) = fake_api.calls("sendPhoto", chat_id=OWNER)
    upload = photo.params[photo.params["photo"].removeprefix("attach://")]
    assert upload["content_type"] == "image/png" or upload["filename"].endswith(".png")
    assert upload["size"] > 5000


async def test_the_digest_goes_to_owners_once_a_day_at_the_shops_hour(
    runtime: Runtime,
    make_shop: MakeShop,
    fake_api: FakeBotAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    shop = await make_shop(staff={OWNER + 10: StaffRole.OWNER, MANAGER: StaffRole.MANAGER})
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Shop).where(Shop.id == shop.shop_id).values(timezone="Asia/Almaty")
        )
    hour = runtime.settings.reports.digest_hour
    at_digest_hour = datetime(2031, 5, 6, hour - 5, 20, tzinfo=UTC)  # Almaty is UTC+5
    assert await send_digests(runtime, at_digest_hour.replace(hour=hour - 4)) == 0  # an hour late
    assert await send_digests(runtime, at_digest_hour) == 1
    assert await send_digests(runtime, at_digest_hour.replace(minute=50)) == 0  # once a day
    texts = fake_api.delivered_texts(OWNER + 10, bot_id=shop.bot_id)
    assert len(texts) == 1 and "2031-05-05" in texts[0]  # yesterday, in the shop's time
    assert fake_api.delivered_texts(MANAGER, bot_id=shop.bot_id) == []
