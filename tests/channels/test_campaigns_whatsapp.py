"""Campaigns to WhatsApp customers through the fake Graph API: a message inside the
24-hour window, the approved campaign template outside it (sent at once, no message tried
first), and, with no template set, skipped and counted apart in the figures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.campaign_texts import stats_text
from souk.db.models import ChannelKind, StaffRole
from souk.runtime import Runtime
from souk.services.campaigns import CampaignContent, CampaignService, CampaignStats
from souk.workers.campaigns import advance_campaign
from tests.conftest import MakeShop, TestShop
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.whatsapp_api import FakeWhatsAppAPI
from tests.services.test_campaigns import add_customer, start_campaign

OWNER = 7951
SALE = CampaignContent("Spring <b>sale</b>:\nall kettles -20%")
TELEGRAM_USER = 7952
# WhatsApp customers by when they last wrote: just now, a minute inside the window's
# safety margin, and a day and a half ago.
FRESH, CLOSING, SILENT = "77015559001", "77015559002", "77015559003"
WROTE_HOURS_AGO = {FRESH: 1.0, CLOSING: 23.75, SILENT: 36.0}


@pytest.fixture
def campaign_template(runtime: Runtime, fake_whatsapp: FakeWhatsAppAPI) -> Iterator[str]:
    """WHATSAPP_TEMPLATES={"campaign": "news:en_US"}, approved at the fake Graph API."""
    fake_whatsapp.add_template("news", "en_US", body_parameters=1)
    runtime.settings.whatsapp.templates = {"campaign": "news:en_US"}
    yield "news"
    runtime.settings.whatsapp.templates = {}


@dataclass(frozen=True)
class Audience:
    """A shop with a number, one Telegram customer and three WhatsApp ones."""

    runtime: Runtime
    sessions: async_sessionmaker[AsyncSession]
    api: FakeWhatsAppAPI
    shop: TestShop
    number: str

    async def send(self) -> CampaignStats:
        """The campaign sent and delivered; its figures."""
        campaign_id = await start_campaign(self.sessions, self.shop, content=SALE)
        await advance_campaign(self.runtime, campaign_id, datetime.now(UTC))
        await self.runtime.deliverer().run(time_budget=10)
        await advance_campaign(self.runtime, campaign_id, datetime.now(UTC))  # settles it
        async with self.sessions() as session:
            return await CampaignService(session, self.shop.shop_id).stats(campaign_id)

    def figures(self, stats: CampaignStats) -> str:
        with self.runtime.i18n.context(), self.runtime.i18n.use_locale("en"):
            return stats_text(stats, "en")


@pytest.fixture
async def wa(
    runtime: Runtime,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    fake_whatsapp: FakeWhatsAppAPI,
) -> Audience:
    """The audience; the fake Graph API knows when each WhatsApp customer wrote."""
    now = datetime.now(UTC)
    shop = await make_shop(whatsapp=True, staff={OWNER: StaffRole.OWNER})
    assert shop.whatsapp_number is not None
    async with session_factory() as session, session.begin():
        await add_customer(session, shop, TELEGRAM_USER, seen=now - timedelta(days=90))
        for wa_id, hours in WROTE_HOURS_AGO.items():
            seen = now - timedelta(hours=hours)
            await add_customer(session, shop, int(wa_id), seen=seen, channel=ChannelKind.WHATSAPP)
            fake_whatsapp.customer_wrote(
                shop.whatsapp_number, wa_id, at=time.monotonic() - hours * 3600
            )
    return Audience(runtime, session_factory, fake_whatsapp, shop, shop.whatsapp_number)


async def test_without_a_template_whatsapp_customers_out_of_the_window_are_skipped_and_counted(
    wa: Audience, fake_api: FakeBotAPI
) -> None:
    stats = await wa.send()
    assert (stats.recipients, stats.sent, stats.failed) == (4, 2, 0)
    assert (stats.skipped, stats.skipped_no_template) == (2, 2)
    (message,) = [call.body for call in wa.api.delivered(FRESH, wa.number)]
    assert message["type"] == "interactive"  # the text and its Unsubscribe button
    assert message["interactive"]["body"]["text"] == "Spring *sale*:\nall kettles -20%"
    assert wa.api.calls(wa.number, CLOSING) == wa.api.calls(wa.number, SILENT) == []
    assert [
        call.params["text"]
        for call in fake_api.calls("sendMessage", chat_id=TELEGRAM_USER)
        if call.bot_id == wa.shop.bot_id
    ] == [SALE.text]
    assert wa.figures(stats).splitlines()[-1] == (
        "Skipped on WhatsApp (silent for 24 hours, and no campaign template is set in "
        "WHATSAPP_TEMPLATES): 2"
    )


async def test_with_a_template_whatsapp_customers_out_of_the_window_get_it_at_once(
    wa: Audience, campaign_template: str
) -> None:
    stats = await wa.send()
    assert (stats.recipients, stats.sent, stats.skipped, stats.failed) == (4, 4, 0, 0)
    assert wa.api.delivered(FRESH, wa.number)[0].body["type"] == "interactive"
    for wa_id in (CLOSING, SILENT):
        # One call each, the template: no message refused for the closed window first.
        (call,) = wa.api.calls(wa.number, wa_id)
        assert call.ok and call.body["type"] == "template"
        template = call.body["template"]
        assert (template["name"], template["language"]["code"]) == (campaign_template, "en_US")
        (parameter,) = template["components"][0]["parameters"]
        assert parameter == {"type": "text", "text": "Spring *sale*: all kettles -20%"}
    assert "Skipped" not in wa.figures(stats)


async def test_a_window_closed_by_delivery_time_falls_back_to_the_template(
    wa: Audience, campaign_template: str
) -> None:
    """Queued as a message (the customer wrote an hour ago, as we know it) but refused
    for the window by WhatsApp: the deliverer sends the template instead."""
    wa.api.customer_wrote(wa.number, FRESH, at=time.monotonic() - 30 * 3600)
    stats = await wa.send()
    assert (stats.sent, stats.failed) == (4, 0)
    refused, template = wa.api.calls(wa.number, FRESH)
    assert not refused.ok and template.ok and template.body["type"] == "template"
