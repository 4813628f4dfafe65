"""/broadcast_all for platform admins: a text announcement to the staff of every shop,
each through the shop's own bot, previewed before it is sent.

A platform admin does not write to the shops' customers: they are the shops' own, and
a shop reaches them with its campaigns (/broadcast)."""

from __future__ import annotations

import secrets

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import OutboxPriority
from souk.formatting import MESSAGE_LIMIT
from souk.handlers.filters import PLAIN_TEXT, Matches
from souk.handlers.screens import replace_screen
from souk.keyboards.callbacks import AnnouncementAction, AnnouncementCD
from souk.keyboards.campaigns import announcement_keyboard
from souk.notify import StaffNotifier
from souk.services.outbox import OutboxFactory
from souk.services.platform import PlatformService

router = Router(name=__name__)

# Room for the heading ("From the platform team:") in any language.
ANNOUNCEMENT_LIMIT = MESSAGE_LIMIT - 100


class Announcement(StatesGroup):
    text = State()
    preview = State()


def _announcement(text: str) -> str:
    return _("From the platform team:") + "\n\n" + text


@router.message(Command("broadcast_all"))
async def broadcast_all_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(Announcement.text)
    await message.answer(
        _(
            "Send the announcement as text. It goes to the staff of every shop, each "
            "through their shop's bot; you will see it before it is sent."
        )
    )


@router.message(StateFilter(Announcement.text), PLAIN_TEXT)
async def announcement_typed(message: Message, state: FSMContext, session: AsyncSession) -> None:
    length = len(message.text or "")
    if length > ANNOUNCEMENT_LIMIT:
        await message.answer(
            _("The text has {count} characters; an announcement holds {most}.").format(
                count=length, most=ANNOUNCEMENT_LIMIT
            )
        )
        return
    reached = await PlatformService(session).staff_reached()
    if not reached:
        await state.clear()
        await message.answer(_("No shop has staff to tell yet."))
        return
    ticket = secrets.token_hex(4)
    await state.set_state(Announcement.preview)
    await state.set_data({"ticket": ticket, "text": message.html_text})
    staff = sum(reached.values())
    await message.answer(_announcement(message.html_text))
    await message.answer(
        _(
            "Above is the announcement as staff will get it. It goes to {staff} staff "
            "members of {shops} shops."
        ).format(staff=staff, shops=len(reached)),
        reply_markup=announcement_keyboard(ticket, staff),
    )


@router.message(StateFilter(Announcement.text), Matches(~F.text))
async def text_expected(message: Message) -> None:
    await message.answer(_("Send the announcement as text."))


@router.message(StateFilter(Announcement), Command("cancel"))
async def cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("The announcement is cancelled; nothing was sent."))


@router.callback_query(AnnouncementCD.filter())
async def announcement_decision(
    query: CallbackQuery,
    callback_data: AnnouncementCD,
    state: FSMContext,
    session: AsyncSession,
    outbox: OutboxFactory,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    if (
        await state.get_state() != Announcement.preview.state
        or data.get("ticket") != callback_data.ticket
    ):
        await query.answer(_("This announcement was already sent or cancelled."), show_alert=True)
        return
    await state.clear()
    await query.answer()
    if callback_data.action is AnnouncementAction.CANCEL:
        await replace_screen(query, _("The announcement is cancelled; nothing was sent."), None)
        return
    text = str(data["text"])

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return _announcement(text), None

    reached = await PlatformService(session).staff_reached()
    notifier = StaffNotifier(session, outbox(session), i18n)
    queued = 0
    for shop_id in reached:
        queued += await notifier.send(
            shop_id,
            render,
            kind="announcement",
            key=f"announcement:{callback_data.ticket}:{shop_id}",
            priority=OutboxPriority.BULK,
        )
    await replace_screen(
        query,
        _("Queued for {count} staff members of {shops} shops; each shop's bot delivers it.").format(
            count=queued, shops=len(reached)
        ),
        None,
    )
