"""/cart and the cart buttons: add from a card, more, less, remove, empty."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.errors import NotFoundError
from souk.formatting import cart_text, short_title
from souk.handlers.filters import PLAIN_TEXT
from souk.handlers.screens import replace_screen
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import CartAction, CartCD, RemindersCD
from souk.keyboards.cart import cart_keyboard
from souk.services.cart import CartService, NotEnoughStock, parse_quantity
from souk.services.catalog import localized
from souk.services.customers import CustomerService, Person
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


class TypedQuantity(StatesGroup):
    waiting = State()


def _cart(session: AsyncSession, shop: ChannelInfo, person: Person) -> CartService:
    return CartService(session, shop_id=shop.shop_id, customer_id=person.customer_id)


async def send_cart(
    message: Message, session: AsyncSession, shop: ChannelInfo, person: Person, language: str
) -> None:
    """The cart as a new message: /cart, and free text that asks for it."""
    view = await _cart(session, shop, person).view()
    await message.answer(cart_text(view, language), reply_markup=cart_keyboard(view, language))


@router.message(Command("cart"))
async def cart_command(
    message: Message, shop: ChannelInfo, person: Person, session: AsyncSession, i18n: I18n
) -> None:
    await send_cart(message, session, shop, person, i18n.current_locale)


@router.callback_query(CartCD.filter())
async def cart_button(
    query: CallbackQuery,
    callback_data: CartCD,
    state: FSMContext,
    shop: ChannelInfo,
    person: Person,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    cart = _cart(session, shop, person)
    product_id, action = callback_data.product_id, callback_data.action
    if action is CartAction.TYPE:
        await _ask_quantity(query, state, cart, product_id, i18n.current_locale)
        return
    try:
        if action is CartAction.ADD:
            line = await cart.add(product_id)
            title = short_title(localized(line.product, "title", i18n.current_locale))
            await query.answer(
                _("Added to your cart: {title} × {quantity}. /cart").format(
                    title=title, quantity=line.quantity
                )
            )
            return  # the card stays where it is
        if action is CartAction.MORE:
            await cart.add(product_id)
        elif action is CartAction.LESS:
            await cart.set_quantity(product_id, await cart.quantity(product_id) - 1)
        elif action is CartAction.REMOVE:
            await cart.remove(product_id)
        elif action is CartAction.CLEAR:
            await cart.clear()
    except NotEnoughStock as short:
        text = (
            _("Sorry, this product is out of stock.")
            if short.available == 0
            else _("Only {count} in stock.").format(count=short.available)
        )
        await query.answer(text, show_alert=True)
        if action is CartAction.ADD:
            return
    except NotFoundError:
        await query.answer(_("This product is no longer available."), show_alert=True)
        if action is CartAction.ADD:
            return
    else:
        await query.answer()
    view = await cart.view()
    language = i18n.current_locale
    await replace_screen(query, cart_text(view, language), cart_keyboard(view, language))


@router.callback_query(RemindersCD.filter())
async def reminders_button(
    query: CallbackQuery, callback_data: RemindersCD, person: Person, session: AsyncSession
) -> None:
    await CustomerService(session).set_cart_reminders(
        person.customer_id, enabled=callback_data.enabled
    )
    if callback_data.enabled:
        await query.answer(_("Cart reminders are on again."))
        return
    await query.answer(_("No more cart reminders. Your cart is kept."), show_alert=True)
    if isinstance(query.message, Message):
        builder = KeyboardBuilder()
        builder.button(text=_("Remind me again"), callback_data=RemindersCD(enabled=True))
        await query.message.edit_reply_markup(reply_markup=builder.as_markup())


async def _ask_quantity(
    query: CallbackQuery, state: FSMContext, cart: CartService, product_id: int, language: str
) -> None:
    line = await cart.line(product_id)
    if line is None:
        await query.answer(_("This product is no longer in your cart."), show_alert=True)
        return
    await state.set_state(TypedQuantity.waiting)
    await state.set_data({"product_id": product_id})
    await query.answer()
    if isinstance(query.message, Message):
        title = short_title(localized(line.product, "title", language))
        await query.message.answer(
            _("How many “{title}”? Type a number (0 removes it), or /cancel.").format(title=title)
        )


@router.message(StateFilter(TypedQuantity.waiting), Command("cancel"))
async def quantity_cancelled(
    message: Message,
    state: FSMContext,
    shop: ChannelInfo,
    person: Person,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    await state.clear()
    await cart_command(message, shop, person, session, i18n)


@router.message(StateFilter(TypedQuantity.waiting), PLAIN_TEXT)
async def quantity_typed(
    message: Message,
    state: FSMContext,
    shop: ChannelInfo,
    person: Person,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    assert message.text is not None
    quantity = parse_quantity(message.text)
    if quantity is None:
        await message.answer(_("Please type a whole number, for example 2 (or /cancel)."))
        return
    if quantity < 0:
        await message.answer(_("A quantity cannot be negative. Type 0 to remove the product."))
        return
    cart = _cart(session, shop, person)
    product_id = int((await state.get_data())["product_id"])
    try:
        await cart.set_quantity(product_id, quantity)
    except NotEnoughStock as short:
        await message.answer(
            _("Only {count} in stock. How many would you like?").format(count=short.available)
            if short.available
            else _("Sorry, this product is out of stock.")
        )
        if short.available:
            return
    except NotFoundError:
        await message.answer(_("This product is no longer available."))
    await state.clear()
    await cart_command(message, shop, person, session, i18n)
