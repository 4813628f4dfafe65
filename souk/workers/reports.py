"""Reports drawn and sent by workers (the chart library stays out of web processes): one
on a staff member's request, and the daily digest to owners at the shop's local hour."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from souk.charts import revenue_chart
from souk.db.models import ChannelKind, Shop, ShopChannel, Staff, StaffRole
from souk.formatting import report_text
from souk.logs import get_logger
from souk.runtime import Runtime
from souk.services.reports import PeriodKind, ReportService
from souk.services.shops import shop_zone

log = get_logger("souk.workers")


async def send_report(
    runtime: Runtime,
    *,
    shop_id: int,
    bot_id: int,
    chat_id: int,
    kind: PeriodKind,
    language: str,
    now: datetime,
) -> bool:
    """Build the report and send it (text, then the chart); False if the bot is gone."""
    entry = await runtime.registry.get(bot_id)
    if entry is None:
        return False
    async with runtime.session_factory() as session:
        report = await ReportService(session, shop_id).sales(kind, now)
        shop_name = (await session.get_one(Shop, shop_id)).name
    with runtime.i18n.context(), runtime.i18n.use_locale(language):
        text = report_text(report, shop_name, language)
        chart = revenue_chart(
            report.days,
            revenue_label=_("Revenue"),
            profit_label=_("Gross profit"),
            title=_("Revenue and gross profit by day"),
        )
    await entry.bot.send_message(chat_id, text)
    await entry.bot.send_photo(chat_id, BufferedInputFile(chart, filename="report.png"))
    return True


async def send_digests(runtime: Runtime, now: datetime) -> int:
    """Yesterday's report to every owner of each shop whose local hour is the digest hour,
    once per shop and local day (a Redis mark); returns how many were sent."""
    hour = runtime.settings.reports.digest_hour
    async with runtime.session_factory() as session:
        rows = await session.execute(
            select(
                Shop.id,
                Shop.timezone,
                ShopChannel.external_id,
                Staff.telegram_user_id,
                Staff.language,
                Shop.default_language,
            )
            .join(Staff, (Staff.shop_id == Shop.id) & (Staff.role == StaffRole.OWNER))
            .join(
                ShopChannel,
                (ShopChannel.shop_id == Shop.id)
                & (ShopChannel.kind == ChannelKind.TELEGRAM)
                & ShopChannel.is_active.is_(True),
            )
            .where(Shop.is_active.is_(True))
            .order_by(Shop.id, Staff.id)
        )
        owners = list(rows)
    sent = 0
    for shop_id, timezone, bot_id, owner, language, shop_language in owners:
        local = now.astimezone(shop_zone(timezone))
        if local.hour != hour:
            continue
        mark = f"souk:digest:{shop_id}:{owner}:{local.date().isoformat()}"
        if not await runtime.redis.set(mark, 1, nx=True, ex=2 * 24 * 3600):
            continue  # sent already today
        try:
            done = await send_report(
                runtime,
                shop_id=shop_id,
                bot_id=int(bot_id),
                chat_id=owner,
                kind=PeriodKind.YESTERDAY,
                language=language or shop_language,
                now=now,
            )
        except Exception:
            await runtime.redis.delete(mark)  # the next run tries again
            raise
        sent += done
    if sent:
        log.info("daily digests sent", count=sent)
    return sent
