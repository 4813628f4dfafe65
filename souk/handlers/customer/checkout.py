"""Checkout as a state machine: shipping -> contact -> address -> summary -> confirm.

The order is placed by `OrderService.place`, which reserves the stock and re-checks the
prices in one transaction; a change is shown before the customer confirms again.
"""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Order, PaymentMethod
from souk.errors import NotFoundError
from souk.formatting import cart_text, checkout_summary, money, shipping_name
from souk.handlers.filters import PLAIN_TEXT, Matches
from souk.handlers.screens import replace_screen
from souk.keyboards.callbacks import CheckoutAction, CheckoutCD, ConfirmCD, ShippingCD
from souk.keyboards.cart import cart_keyboard
from souk.keyboards.checkout import (
    confirm_keyboard,
    contact_keyboard,
    open_order_keyboard,
    shipping_keyboard,
)
from souk.notify import StaffNotifier
from souk.pushes import push_order_to_staff
from souk.services.cart import CartService
from souk.services.catalog import localized
from souk.services.customers import CustomerService, Person, normalize_phone
from souk.services.orders import (
    EmptyCart,
    OrderService,
    OutOfStock,
    PricesChanged,
    Quote,
    cents,
    minor_units,
)
from souk.services.outbox import OutboxFactory
from souk.services.shops import ChannelInfo

router = Router(name=__name__)

_ADDRESS_LENGTH = (5, 300)


class Checkout(StatesGroup):
    shipping = State()
    contact = State()
    address = State()
    confirm = State()


def _orders(session: AsyncSession, shop: ChannelInfo) -> OrderService:
    return OrderService(session, shop.shop_id)


async def _begin(
    state: FSMContext, session: AsyncSession, shop: ChannelInfo, person: Person, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    cart = await CartService(session, shop_id=shop.shop_id, customer_id=person.customer_id).view()
    if not cart.lines:
        await state.clear()
        return _("Your cart is empty. Browse the products with /catalog."), None
    options = await _orders(session, shop).shipping_options()
    if not options:
        return _("Ordering is not available right now. Please try again later."), None
    await state.set_state(Checkout.shipping)
    await state.set_data({})
    assert cart.currency is not None
    text = _("Your cart comes to {total}. How should we deliver it?").format(
        total=money(cart.total, cart.currency, language)
    )
    return text, shipping_keyboard(options, cart.currency, language)


@router.message(Command("checkout"))
async def checkout_command(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
) -> None:
    text, keyboard = await _begin(state, session, shop, person, i18n.current_locale)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(CheckoutCD.filter(F.action == CheckoutAction.START))
async def checkout_button(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
) -> None:
    text, keyboard = await _begin(state, session, shop, person, i18n.current_locale)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=keyboard)


async def _cancelled(state: FSMContext) -> str:
    await state.clear()
    return _("Checkout cancelled. Your cart is kept: /cart")


@router.message(StateFilter(Checkout), Command("cancel"))
async def cancel_command(message: Message, state: FSMContext) -> None:
    await message.answer(await _cancelled(state), reply_markup=ReplyKeyboardRemove())


@router.callback_query(CheckoutCD.filter(F.action == CheckoutAction.CANCEL))
async def cancel_button(query: CallbackQuery, state: FSMContext) -> None:
    text = await _cancelled(state)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


@router.callback_query(StateFilter(Checkout.shipping), ShippingCD.filter())
async def shipping_chosen(
    query: CallbackQuery,
    callback_data: ShippingCD,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
) -> None:
    try:
        option = await _orders(session, shop).shipping_option(callback_data.code)
    except NotFoundError:
        await query.answer(_("This delivery option is no longer offered."), show_alert=True)
        text, keyboard = await _begin(state, session, shop, person, i18n.current_locale)
        await replace_screen(query, text, keyboard)
        return
    await state.update_data(shipping=option.code, needs_address=option.needs_address)
    await state.set_state(Checkout.contact)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Delivery: {option}").format(
                option=escape(shipping_name(option, i18n.current_locale))
            )
        )
        saved = await CustomerService(session).phone(person.customer_id)
        await query.message.answer(
            _("Your phone number, please: tap the button below or type it."),
            reply_markup=contact_keyboard(saved),
        )


async def _phone_given(
    message: Message,
    phone: str,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    language: str,
) -> None:
    await CustomerService(session).set_phone(person.customer_id, phone)
    await state.update_data(phone=phone)
    if (await state.get_data()).get("needs_address", True):
        await state.set_state(Checkout.address)
        await message.answer(
            _("Where should we deliver? Type the address: city, street, house, flat."),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    await message.answer(_("Thank you!"), reply_markup=ReplyKeyboardRemove())
    await _summary(message, state, session, shop, person, language)


@router.message(StateFilter(Checkout.contact), Matches(F.contact))
async def contact_shared(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
) -> None:
    assert message.contact is not None
    phone = normalize_phone(message.contact.phone_number)
    if phone is None:
        await message.answer(_("This contact has no phone number I can use. Please type it."))
        return
    await _phone_given(message, phone, state, session, shop, person, i18n.current_locale)


@router.message(StateFilter(Checkout.contact), PLAIN_TEXT)
async def phone_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
) -> None:
    assert message.text is not None
    phone = normalize_phone(message.text)
    if phone is None:
        await message.answer(
            _(
                "That does not look like a phone number. Please type it with the country "
                "code, for example +44 20 7946 0958."
            )
        )
        return
    await _phone_given(message, phone, state, session, shop, person, i18n.current_locale)


@router.message(StateFilter(Checkout.address), Matches(F.location))
async def location_shared(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
) -> None:
    assert message.location is not None
    where = f"📍 {message.location.latitude:.6f}, {message.location.longitude:.6f}"
    await state.update_data(address=where)
    await _summary(message, state, session, shop, person, i18n.current_locale)


@router.message(StateFilter(Checkout.address), PLAIN_TEXT)
async def address_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
) -> None:
    assert message.text is not None
    address = " ".join(message.text.split())
    low, high = _ADDRESS_LENGTH
    if not low <= len(address) <= high:
        await message.answer(
            _("An address is {low} to {high} characters. Please type it again.").format(
                low=low, high=high
            )
        )
        return
    await state.update_data(address=address)
    await _summary(message, state, session, shop, person, i18n.current_locale)


@router.message(StateFilter(Checkout.contact, Checkout.address), Matches(~F.text.startswith("/")))
async def checkout_expects_text(message: Message, state: FSMContext) -> None:
    """A sticker or a photo where a phone or an address was asked for."""
    if await state.get_state() == Checkout.contact.state:
        await message.answer(_("Please send your phone number (or /cancel)."))
    else:
        await message.answer(_("Please type the delivery address (or /cancel)."))


def _summary_screen(
    quote: Quote, data: dict[str, object], shop: ChannelInfo, language: str, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    text = checkout_summary(quote, str(data["phone"]), _address(data), language)
    keyboard = confirm_keyboard(cents(quote.total), online=shop.payment_token is not None)
    return (f"{note}\n\n{text}" if note else text), keyboard


def _address(data: dict[str, object]) -> str | None:
    address = data.get("address")
    return address if isinstance(address, str) else None


async def _summary(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    language: str,
) -> None:
    data = await state.get_data()
    try:
        quote = await _orders(session, shop).quote(person.customer_id, str(data["shipping"]))
    except (EmptyCart, NotFoundError):
        await state.clear()
        await message.answer(_("Your cart is empty now, so there is nothing to order."))
        return
    await state.set_state(Checkout.confirm)
    text, keyboard = _summary_screen(quote, data, shop, language)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(StateFilter(Checkout.confirm), ConfirmCD.filter())
async def confirmed(
    query: CallbackQuery,
    callback_data: ConfirmCD,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
    bot: Bot,
    outbox: OutboxFactory,
) -> None:
    language = i18n.current_locale
    method = callback_data.method
    if method is PaymentMethod.TELEGRAM and shop.payment_token is None:
        await query.answer(_("Paying online is not available here."), show_alert=True)
        return
    data = await state.get_data()
    orders = _orders(session, shop)
    try:
        order = await orders.place(
            person.customer_id,
            shipping_code=str(data["shipping"]),
            phone=str(data["phone"]),
            address=_address(data),
            method=method,
            expected_total=callback_data.total,
        )
    except PricesChanged as changed:
        await query.answer(_("Prices have changed. Please check the new total."), show_alert=True)
        note = _("⚠️ Prices have changed since you saw them.")
        text, keyboard = _summary_screen(changed.quote, data, shop, language, note)
        await replace_screen(query, text, keyboard)
        return
    except OutOfStock as short:
        await state.clear()
        title = localized(short.product, "title", language)
        await query.answer(
            _("Sorry, only {count} of “{title}” left. Please change your cart.").format(
                count=short.available, title=title
            )
            if short.available
            else _("Sorry, “{title}” has just sold out. Please change your cart.").format(
                title=title
            ),
            show_alert=True,
        )
        view = await CartService(
            session, shop_id=shop.shop_id, customer_id=person.customer_id
        ).view()
        await replace_screen(query, cart_text(view, language), cart_keyboard(view, language))
        return
    except (EmptyCart, NotFoundError):
        await state.clear()
        await query.answer(_("Your cart is empty now, so there is nothing to order."))
        return
    await state.clear()
    await query.answer()
    await replace_screen(query, _placed_text(order, language), open_order_keyboard(order.id))
    await push_order_to_staff(
        StaffNotifier(session, outbox(session), i18n), orders, order, event="placed"
    )
    if method is PaymentMethod.TELEGRAM:
        await _send_invoice(bot, query, order, shop, language)


def _placed_text(order: Order, language: str) -> str:
    total = money(order.total, order.currency, language)
    if order.payment_method is PaymentMethod.TELEGRAM:
        return _("Order #{number} is placed: {total}. Please pay with the invoice below.").format(
            number=order.number, total=total
        )
    return _(
        "Thank you! Order #{number} is placed: {total}, paid on delivery. "
        "We will let you know when it ships. Your orders: /orders"
    ).format(number=order.number, total=total)


async def _send_invoice(
    bot: Bot, query: CallbackQuery, order: Order, shop: ChannelInfo, language: str
) -> None:
    assert shop.payment_token is not None and query.message is not None
    prices = [LabeledPrice(label=_("Products"), amount=minor_units(order.subtotal, order.currency))]
    if order.shipping_price:
        prices.append(
            LabeledPrice(
                label=_("Delivery"), amount=minor_units(order.shipping_price, order.currency)
            )
        )
    await bot.send_invoice(
        chat_id=query.message.chat.id,
        title=_("Order #{number}").format(number=order.number),
        description=_("Order #{number} from {shop}").format(
            number=order.number, shop=shop.shop_name
        ),
        payload=f"order:{order.id}",
        provider_token=shop.payment_token,
        currency=order.currency,
        prices=prices,
    )


@router.callback_query(ConfirmCD.filter())
async def confirm_again(query: CallbackQuery) -> None:
    """A second tap on Confirm (or one on an old summary): the checkout is over."""
    await query.answer(
        _("This checkout is finished already. Your orders: /orders"), show_alert=True
    )


@router.callback_query(ShippingCD.filter())
async def shipping_again(query: CallbackQuery) -> None:
    await query.answer(
        _("This checkout step is over. Open /cart to check out again."), show_alert=True
    )
