"""/start (with deep links), /help and /language."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.handlers.screens import show_product
from souk.handlers.seller.menu import install_staff_menu, role_name, staff_commands
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import HumanCD, LanguageCD
from souk.keyboards.catalog import back_to_category, product_keyboard
from souk.keyboards.language import language_keyboard
from souk.services.catalog import CatalogService
from souk.services.customers import CustomerService, Person
from souk.services.deeplinks import DeepLinkKind, parse_start_payload
from souk.services.shops import ChannelInfo
from souk.services.staff import StaffService

router = Router(name=__name__)


@router.message(CommandStart())
async def start(
    message: Message, command: CommandObject, shop: ChannelInfo, session: AsyncSession, i18n: I18n
) -> None:
    link = parse_start_payload(command.args)
    if link.kind is DeepLinkKind.PRODUCT:
        product = await CatalogService(session, shop.shop_id).product_by_sku(link.value)
        if product is not None:
            keyboard = product_keyboard(product.id, back_to_category(product.category_id))
            await show_product(message, product, keyboard, i18n.current_locale)
            return
        await message.answer(_("That product is no longer available. Here is the shop instead."))
    elif link.kind is DeepLinkKind.INVITE:
        if await _joined_staff(message, link.value, session, shop, i18n):
            return
        await message.answer(
            _("This invite link is invalid or has expired. Ask the shop owner for a new one.")
        )
    elif link.kind is DeepLinkKind.INVALID:
        await message.answer(_("That link is broken. Here is the shop instead."))
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(
        _(
            "Hello, {name}! Welcome to {shop}.\n\nWrite what you are looking for, or send "
            "/help to see what I can do."
        ).format(name=name, shop=shop.shop_name)
    )


async def _joined_staff(
    message: Message, token: str, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> bool:
    """Redeem a staff invite for the sender; False if it is unknown, used or expired."""
    user = message.from_user
    if user is None or message.bot is None:
        return False
    language = i18n.current_locale
    role = await StaffService(session, shop.shop_id).redeem(
        token,
        telegram_user_id=user.id,
        name=user.full_name,
        language=language,
        now=datetime.now(UTC),
    )
    if role is None:
        return False
    await install_staff_menu(message.bot, message.chat.id, role, i18n, language)
    await message.answer(
        _(
            "Welcome to the team of {shop}! You are its {role} now: new orders come to this "
            "chat, and your commands are in the menu (/help lists them)."
        ).format(shop=shop.shop_name, role=role_name(role))
    )
    return True


@router.message(Command("help"))
async def help_command(message: Message, i18n: I18n, person: Person | None = None) -> None:
    lines = [
        _("Here is what I can do:"),
        _("/start — the shop's front page"),
        _("/catalog — browse the products"),
        _("/search — find products (or just write what you want)"),
        _("/cart — your cart"),
        _("/checkout — place an order"),
        _("/orders — your orders"),
        _("/compare — compare the products you picked"),
        _("/language — change the language"),
        _("/human — talk to a person of the shop"),
        _("/stop — no more news from the shop"),
        _("/help — this message"),
    ]
    if person is not None and person.staff_role is not None:
        lines += ["", _("For staff:")]
        lines += [f"/{c.command} — {c.description}" for c in staff_commands(person.staff_role)]
    await message.answer("\n".join(lines), reply_markup=_human_button(i18n.current_locale))


@functools.cache
def _human_button(language: str) -> InlineKeyboardMarkup:
    """The keyboard under /help in `language` (the current one), built once per language:
    building it cost a twentieth of answering /help."""
    builder = KeyboardBuilder()
    builder.button(text=_("Talk to a person"), callback_data=HumanCD())
    return builder.as_markup()


@router.message(Command("language"))
async def language_command(message: Message, i18n: I18n) -> None:
    await message.answer(
        _("Choose your language:"), reply_markup=language_keyboard(i18n.current_locale)
    )


@router.callback_query(LanguageCD.filter(F.code.in_({"en", "ru", "ar"})))
async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCD,
    person: Person,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    await CustomerService(session).set_language(person.customer_id, callback_data.code)
    with i18n.use_locale(callback_data.code):
        text = _("Language set: English.")
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


@router.callback_query(LanguageCD.filter())
async def language_unknown(query: CallbackQuery) -> None:
    await query.answer(_("This language is not available."), show_alert=True)
