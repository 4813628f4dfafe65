"""Staff answering customers in person: the Reply button of a takeover push (then the
next message), a reply to the push, or `/reply C12 text` (or an order number); `/release
C12` and the push's button give the conversation back to the bot; `/history C12` shows
the conversation log.

A reply to a push, or after Reply, reaches the customer only while their conversation is
in human mode (staff may be answering a push an hour old, after the bot took over
again); `/reply` always does, and pauses the bot, whether the customer asked or not."""

from __future__ import annotations

import re

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import Settings
from souk.handlers.filters import PLAIN_TEXT, Matches
from souk.handlers.screens import replace_screen
from souk.handoff import customer_ref, log_line, send_staff_message, takeover_service
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import HistoryCD, TakeoverAction, TakeoverCD
from souk.notify import CustomerNotifier
from souk.services.message_log import MessageLogService
from souk.services.outbox import OutboxFactory
from souk.services.shops import ChannelInfo
from souk.services.takeover import find_customer

router = Router(name=__name__)

# How a takeover push names its customer: "Amal (C12, telegram)".
_PUSH_REF = re.compile(r"\(C(\d+), \w+\)")


class ReplyFlow(StatesGroup):
    text = State()


class _Context:
    """What sending a staff message needs, from the handler's data."""

    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        outbox: OutboxFactory,
        i18n: I18n,
        shop: ChannelInfo,
    ) -> None:
        self.session, self.shop = session, shop
        self.takeover = takeover_service(session, settings, outbox, i18n)
        self.customers = CustomerNotifier(session, outbox(session), i18n)

    async def send(self, message: Message, customer_id: int, text: str) -> str:
        assert message.from_user is not None and message.bot is not None
        sent = await send_staff_message(
            self.session,
            self.takeover,
            self.customers,
            shop_id=self.shop.shop_id,
            customer_id=customer_id,
            staff_telegram_id=message.from_user.id,
            text=text,
            key=f"staff-reply:{message.bot.id}:{message.chat.id}:{message.message_id}",
        )
        ref = customer_ref(customer_id)
        if not sent:
            return _(
                "{ref} cannot be reached: they blocked the shop or their channel is gone."
            ).format(ref=ref)
        return _("Sent to {ref}. The bot stays quiet for them until /release {ref}.").format(
            ref=ref
        )


def _released(customer_id: int) -> str:
    ref = customer_ref(customer_id)
    return _(
        "Not sent: the conversation with {ref} is back with the bot. To write to them "
        "anyway (the bot will pause again), send /reply {ref} your text."
    ).format(ref=ref)


async def _named_customer(
    message: Message, session: AsyncSession, shop: ChannelInfo, ref: str, usage: str
) -> int | None:
    """The customer `ref` names; None after telling the staff member why not (`usage`
    when nothing was named)."""
    customer_id = await find_customer(session, shop.shop_id, ref) if ref else None
    if customer_id is None:
        await message.answer(
            usage if not ref else _("No customer or order “{ref}” in this shop.").format(ref=ref)
        )
    return customer_id


@router.message(Command("reply"))
async def reply_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    shop: ChannelInfo,
) -> None:
    ref, _space, text = (command.args or "").strip().partition(" ")
    usage = _("Write: /reply C12 your text (a customer, or an order number).")
    customer_id = await _named_customer(message, session, shop, ref, usage)
    if customer_id is None:
        return
    if not text.strip():
        await message.answer(usage)
        return
    context = _Context(session, settings, outbox, i18n, shop)
    await message.answer(await context.send(message, customer_id, text.strip()))


@router.callback_query(TakeoverCD.filter(F.action == TakeoverAction.REPLY))
async def reply_button(query: CallbackQuery, callback_data: TakeoverCD, state: FSMContext) -> None:
    await state.set_state(ReplyFlow.text)
    await state.update_data(customer_id=callback_data.customer_id)
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            _("Write your message to {ref} (/cancel to stop).").format(
                ref=customer_ref(callback_data.customer_id)
            )
        )


@router.message(StateFilter(ReplyFlow.text), Command("cancel"))
async def reply_cancelled(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Nothing was sent."))


@router.message(StateFilter(ReplyFlow.text), PLAIN_TEXT)
async def reply_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    shop: ChannelInfo,
) -> None:
    customer_id = int((await state.get_data())["customer_id"])
    await state.clear()
    await message.answer(
        await _answer_in_human_mode(message, customer_id, session, settings, outbox, i18n, shop)
    )


def _replied_push(message: Message) -> int | None:
    """The customer of the takeover push this message replies to, if it does."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or not replied.from_user.is_bot:
        return None
    found = _PUSH_REF.search(replied.text or "")
    return int(found[1]) if found else None


@router.message(PLAIN_TEXT, Matches(F.reply_to_message.text.contains("(C")))
async def reply_to_push(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    shop: ChannelInfo,
) -> None:
    customer_id = _replied_push(message)
    if customer_id is None:
        await message.answer(_("Reply to a customer's message, or write /reply C12 your text."))
        return
    await message.answer(
        await _answer_in_human_mode(message, customer_id, session, settings, outbox, i18n, shop)
    )


async def _answer_in_human_mode(
    message: Message,
    customer_id: int,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    shop: ChannelInfo,
) -> str:
    context = _Context(session, settings, outbox, i18n, shop)
    if not await context.takeover.is_human(shop.shop_id, customer_id):
        return _released(customer_id)
    return await context.send(message, customer_id, message.text or "")


async def _release(
    customer_id: int,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    shop: ChannelInfo,
) -> str:
    takeover = takeover_service(session, settings, outbox, i18n)
    ref = customer_ref(customer_id)
    if await takeover.release(shop_id=shop.shop_id, customer_id=customer_id):
        return _("The bot answers {ref} again; they were told.").format(ref=ref)
    return _("The bot was already answering {ref}.").format(ref=ref)


@router.message(Command("release"))
async def release_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    shop: ChannelInfo,
) -> None:
    usage = _("Write: /release C12 (a customer, or an order number).")
    customer_id = await _named_customer(message, session, shop, (command.args or "").strip(), usage)
    if customer_id is None:
        return
    await message.answer(await _release(customer_id, session, settings, outbox, i18n, shop))


@router.callback_query(TakeoverCD.filter(F.action == TakeoverAction.RELEASE))
async def release_button(
    query: CallbackQuery,
    callback_data: TakeoverCD,
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    shop: ChannelInfo,
) -> None:
    text = await _release(callback_data.customer_id, session, settings, outbox, i18n, shop)
    await query.answer(text, show_alert=True)


def _history_keyboard(customer_id: int, page: int, pages: int) -> InlineKeyboardMarkup | None:
    builder = KeyboardBuilder()
    if page + 1 < pages:
        builder.button(
            text=_("◀ Older"), callback_data=HistoryCD(customer_id=customer_id, page=page + 1)
        )
    if page > 0:
        builder.button(
            text=_("Newer ▶"), callback_data=HistoryCD(customer_id=customer_id, page=page - 1)
        )
    return builder.as_markup() if page + 1 < pages or page > 0 else None


async def _history(
    session: AsyncSession, settings: Settings, shop: ChannelInfo, customer_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await MessageLogService(session).history(
        shop.shop_id, customer_id, size=settings.messages.history_page, page=page
    )
    ref = customer_ref(customer_id)
    if not found.messages:
        return _("No messages with {ref} are logged.").format(ref=ref), None
    head = _("Conversation with {ref}, page {page} of {pages} (newest last):").format(
        ref=ref, page=found.pages - found.page, pages=found.pages
    )
    text = "\n".join([head, "", *map(log_line, found.messages)])
    return text, _history_keyboard(customer_id, found.page, found.pages)


@router.message(Command("history"))
async def history_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    shop: ChannelInfo,
) -> None:
    usage = _("Write: /history C12 (a customer, or an order number).")
    customer_id = await _named_customer(message, session, shop, (command.args or "").strip(), usage)
    if customer_id is None:
        return
    text, keyboard = await _history(session, settings, shop, customer_id, 0)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(HistoryCD.filter())
async def history_page(
    query: CallbackQuery,
    callback_data: HistoryCD,
    session: AsyncSession,
    settings: Settings,
    shop: ChannelInfo,
) -> None:
    # A button of another shop's bot cannot name this shop's customers: found per shop.
    text, keyboard = await _history(
        session, settings, shop, callback_data.customer_id, callback_data.page
    )
    await query.answer()
    await replace_screen(query, text, keyboard)
