"""/cart and the cart buttons: add from a card, more, less, remove, empty."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from souk.errors import NotFoundError
from souk.formatting import cart_text, short_title
from souk.handlers.screens import replace_screen
from souk.keyboards.callbacks import CartAction, CartCD, RemindersCD
from souk.keyboards.cart import cart_keyboard
from souk.services.cart import CartService, NotEnoughStock
from souk.services.catalog import localized
from souk.services.customers import CustomerService, Person
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


def _cart(session: AsyncSession, shop: ChannelInfo, person: Person) -> CartService:
    return CartService(session, shop_id=shop.shop_id, customer_id=person.customer_id)


@router.message(Command("cart"))
async def cart_command(
    message: Message, shop: ChannelInfo, person: Person, session: AsyncSession, i18n: I18n
) -> None:
    view = await _cart(session, shop, person).view()
    language = i18n.current_locale
    await message.answer(cart_text(view, language), reply_markup=cart_keyboard(view, language))


@router.callback_query(CartCD.filter())
async def cart_button(
    query: CallbackQuery,
    callback_data: CartCD,
    shop: ChannelInfo,
    person: Person,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    cart = _cart(session, shop, person)
    product_id, action = callback_data.product_id, callback_data.action
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
        builder = InlineKeyboardBuilder()
        builder.button(text=_("Remind me again"), callback_data=RemindersCD(enabled=True))
        await query.message.edit_reply_markup(reply_markup=builder.as_markup())
