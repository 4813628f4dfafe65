"""/usage: what the shop's assistant asked of the AI provider, the requests and tokens of
today, yesterday, the last 7 and the last 30 days (days in UTC, as they are counted),
so that staff can see what the assistant costs. "Today" is the day the command was sent."""

from __future__ import annotations

from datetime import UTC

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.assistant import AssistantKit
from souk.formatting import amount
from souk.services.llm_usage import Period, Usage, UsageService
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


def _period_name(period: Period) -> str:
    return {
        Period.TODAY: _("Today"),
        Period.YESTERDAY: _("Yesterday"),
        Period.WEEK: _("Last 7 days"),
        Period.MONTH: _("Last 30 days"),
    }[period]


def _line(period: Period, usage: Usage, language: str) -> str:
    return _("<b>{period}</b>: requests {requests} · tokens in {prompt} · out {completion}").format(
        period=_period_name(period),
        requests=amount(usage.requests, language),
        prompt=amount(usage.prompt_tokens, language),
        completion=amount(usage.completion_tokens, language),
    )


@router.message(Command("usage"))
async def usage_command(
    message: Message,
    session: AsyncSession,
    shop: ChannelInfo,
    assistant: AssistantKit,
    i18n: I18n,
) -> None:
    today = message.date.astimezone(UTC).date()
    periods = await UsageService(session).periods(shop.shop_id, today)
    language = i18n.current_locale
    lines = [_("The assistant's requests to the AI provider (days in UTC):")]
    lines += [_line(period, usage, language) for period, usage in periods.items()]
    if assistant.llm is None:
        lines.append(
            _(
                "No AI provider is set (OPENAI_API_KEY), so customers get the answers "
                "without a model: the FAQ, search and the shop's screens, which use no tokens."
            )
        )
    await message.answer("\n".join(lines))
