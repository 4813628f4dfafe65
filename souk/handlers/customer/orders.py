"""/orders: the customer's orders, one order, cancelling it, asking for a return."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import OrderStatus
from souk.errors import InvalidInput, NotFoundError
from souk.formatting import order_text, status_name
from souk.handlers.filters import PLAIN_TEXT
from souk.handlers.screens import replace_screen
from souk.keyboards.callbacks import OrderAction, OrderCD, OrdersCD
from souk.keyboards.checkout import cancel_sure_keyboard, order_keyboard, orders_keyboard
from souk.notify import StaffNotifier
from souk.pushes import push_order_to_staff
from souk.services.customers import Person
from souk.services.orders import OrderService, StatusNotAllowed
from souk.services.outbox import OutboxFactory
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


class ReturnRequest(StatesGroup):
    reason = State()


async def orders_screen(
    session: AsyncSession, shop: ChannelInfo, person: Person, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    orders = await OrderService(session, shop.shop_id).of_customer(person.customer_id)
    if not orders:
        return _("You have no orders yet. Browse the products with /catalog."), None
    return _("Your orders (the latest first):"), orders_keyboard(orders, language)


async def _order_screen(
    orders: OrderService, order_id: int, person: Person, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    order = await orders.get(order_id, customer_id=person.customer_id)
    return order_text(order, await orders.items(order.id), language), order_keyboard(order)


@router.message(Command("orders"))
async def orders_command(
    message: Message, session: AsyncSession, shop: ChannelInfo, person: Person, i18n: I18n
) -> None:
    text, keyboard = await orders_screen(session, shop, person, i18n.current_locale)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(OrdersCD.filter())
async def orders_button(
    query: CallbackQuery, session: AsyncSession, shop: ChannelInfo, person: Person, i18n: I18n
) -> None:
    text, keyboard = await orders_screen(session, shop, person, i18n.current_locale)
    await query.answer()
    await replace_screen(query, text, keyboard)


@router.callback_query(OrderCD.filter())
async def order_button(
    query: CallbackQuery,
    callback_data: OrderCD,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
    outbox: OutboxFactory,
) -> None:
    orders, language = OrderService(session, shop.shop_id), i18n.current_locale
    action, order_id = callback_data.action, callback_data.order_id
    try:
        if action is OrderAction.CANCEL:
            order = await orders.get(order_id, customer_id=person.customer_id)
            await query.answer()
            await replace_screen(
                query,
                _("Cancel order #{number}?").format(number=order.number),
                cancel_sure_keyboard(order.id),
            )
            return
        if action is OrderAction.CANCEL_SURE:
            change = await orders.change_status(
                order_id, OrderStatus.CANCELLED, customer_id=person.customer_id
            )
            await query.answer(
                _("Order #{number} is cancelled.").format(number=change.order.number)
            )
            await push_order_to_staff(
                StaffNotifier(session, outbox(session), i18n),
                orders,
                change.order,
                event="cancelled",
            )
        elif action is OrderAction.RETURN:
            order = await orders.get(order_id, customer_id=person.customer_id)
            if order.status is not OrderStatus.DELIVERED:
                raise StatusNotAllowed(order, OrderStatus.RETURN_REQUESTED)
            await state.set_state(ReturnRequest.reason)
            await state.set_data({"order_id": order.id})
            await query.answer()
            await replace_screen(
                query,
                _(
                    "Why would you like to return order #{number}? Please describe it in a "
                    "message (or /cancel)."
                ).format(number=order.number),
                None,
            )
            return
        else:
            await query.answer()
    except NotFoundError:
        await query.answer(_("This order was not found."), show_alert=True)
        return
    except StatusNotAllowed as refused:
        await query.answer(
            _("Order #{number} is {status} and can no longer be changed that way.").format(
                number=refused.order.number, status=status_name(refused.order.status)
            ),
            show_alert=True,
        )
    text, keyboard = await _order_screen(orders, order_id, person, language)
    await replace_screen(query, text, keyboard)


@router.message(StateFilter(ReturnRequest.reason), Command("cancel"))
async def return_cancelled(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("All right, no return. Your orders: /orders"))


@router.message(StateFilter(ReturnRequest.reason), PLAIN_TEXT)
async def return_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    person: Person,
    i18n: I18n,
    outbox: OutboxFactory,
) -> None:
    assert message.text is not None
    order_id = int((await state.get_data())["order_id"])
    orders = OrderService(session, shop.shop_id)
    try:
        change = await orders.request_return(order_id, person.customer_id, message.text)
    except InvalidInput:
        await message.answer(_("Please describe the reason in a few words (or /cancel)."))
        return
    except (NotFoundError, StatusNotAllowed):
        await state.clear()
        await message.answer(_("This order can no longer be returned. Your orders: /orders"))
        return
    await state.clear()
    await push_order_to_staff(
        StaffNotifier(session, outbox(session), i18n), orders, change.order, event="return"
    )
    await message.answer(
        _("Your return request for order #{number} is sent. The shop will answer you here.").format(
            number=change.order.number
        )
    )


@router.message(StateFilter(ReturnRequest.reason))
async def return_expects_text(message: Message) -> None:
    await message.answer(_("Please describe the reason in a few words (or /cancel)."))
