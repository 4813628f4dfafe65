"""Staff menus: the command list a staff member sees (set for their chat only), and
/pin, which the owner uses to set the PIN that confirms risky order changes."""

from __future__ import annotations

import contextlib

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import BotCommand, BotCommandScopeChat, Message, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import StaffRole
from souk.errors import InvalidInput
from souk.services.customers import Person
from souk.services.inbox import InboxService
from souk.services.shops import ChannelInfo
from souk.services.staff import StaffService

router = Router(name=__name__)


def role_name(role: StaffRole) -> str:
    return _("owner") if role is StaffRole.OWNER else _("manager")


def staff_commands(role: StaffRole) -> list[BotCommand]:
    """The commands a staff member of `role` has, in the current language."""
    commands = [
        BotCommand(command="orders", description=_("The shop's orders")),
        BotCommand(command="price", description=_("Change a price: /price SKU 199.90")),
        BotCommand(command="stock", description=_("Change the stock: /stock SKU 5")),
        BotCommand(command="product", description=_("A product by SKU")),
        BotCommand(command="find", description=_("Find products")),
        BotCommand(command="lowstock", description=_("Products running out")),
        BotCommand(command="receive", description=_("Goods received: /receive SKU QTY COST")),
        BotCommand(command="adjust", description=_("Correct the stock: /adjust SKU -2 why")),
        BotCommand(command="undo", description=_("Undo your last price or stock change")),
        BotCommand(command="import", description=_("Import a catalog file (CSV or XLSX)")),
        BotCommand(command="export", description=_("The catalog as a CSV file")),
        BotCommand(command="schedule", description=_("Scheduled price and stock changes")),
        BotCommand(command="unschedule", description=_("Cancel a schedule: /unschedule ID")),
        BotCommand(command="reprice", description=_("Repricing rules: /reprice SKU beat 1%")),
        BotCommand(command="reprice_log", description=_("Repricing decisions of a SKU")),
        BotCommand(command="report", description=_("Sales report: today, week, month")),
        BotCommand(command="watch", description=_("Watch a competitor: /watch SKU URL")),
        BotCommand(command="competitors", description=_("Competitors' prices: /competitors SKU")),
        BotCommand(command="watch_tier", description=_("How often to check: /watch_tier SKU fast")),
        BotCommand(command="broadcast", description=_("Send a campaign to customers")),
        BotCommand(command="reply", description=_("Write to a customer: /reply C12 text")),
        BotCommand(command="release", description=_("Give a customer back to the bot")),
        BotCommand(command="history", description=_("A customer's messages: /history C12")),
        BotCommand(command="faq", description=_("The FAQ: /faq list, /faq add, /faq delete N")),
        BotCommand(command="usage", description=_("The assistant's use of the AI provider")),
        BotCommand(command="ping", description=_("Check that pushes reach you")),
        BotCommand(command="help", description=_("What I can do")),
    ]
    if role is StaffRole.OWNER:
        commands.insert(1, BotCommand(command="pin", description=_("Set the shop PIN")))
    return commands


async def install_staff_menu(
    bot: Bot, chat_id: int, role: StaffRole, i18n: I18n, language: str
) -> None:
    """Show the staff commands in this staff member's chat only (customers keep theirs)."""
    with i18n.use_locale(language):
        commands = staff_commands(role)
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=chat_id))


async def forget_pin(message: Message, session: AsyncSession, update: Update) -> None:
    """A message holding a PIN: deleted from the chat, its text blanked in the inbox."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    assert message.bot is not None
    await InboxService.redact_text(
        session, receiver=str(message.bot.id), update_id=update.update_id
    )


@router.message(Command("pin"))
async def pin_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    event_update: Update,
) -> None:
    if person.staff_role is not StaffRole.OWNER:
        await message.answer(_("Only the shop's owner can set the PIN."))
        return
    await forget_pin(message, session, event_update)
    try:
        await StaffService(session, shop.shop_id).set_pin(command.args or "")
    except InvalidInput:
        await message.answer(_("Send the new PIN after the command, 4 to 8 digits: /pin 2580"))
        return
    await message.answer(
        _("The PIN is set. It will be asked for when a confirmed order is cancelled or edited.")
    )
