"""/report today|week|month: the sales report with its chart, drawn by a worker."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from souk.services.reports import PeriodKind
from souk.services.shops import ChannelInfo
from souk.workers.kick import Jobs

router = Router(name=__name__)

_ASKABLE = (PeriodKind.TODAY, PeriodKind.YESTERDAY, PeriodKind.WEEK, PeriodKind.MONTH)


@router.message(Command("report"))
async def report_command(
    message: Message, command: CommandObject, shop: ChannelInfo, jobs: Jobs, i18n: I18n
) -> None:
    asked = (command.args or "today").strip().lower()
    if asked not in {kind.value for kind in _ASKABLE}:
        await message.answer(
            _("Which period? /report today, /report yesterday, /report week or /report month")
        )
        return
    assert message.bot is not None
    queued = await jobs.send_report(
        shop_id=shop.shop_id,
        bot_id=message.bot.id,
        chat_id=message.chat.id,
        kind=asked,
        language=i18n.current_locale,
    )
    await message.answer(
        _("Preparing the report with its chart; it comes in a moment.")
        if queued
        else _("Reports cannot be prepared right now. Please try again in a minute.")
    )
