"""Staff and orders: /orders [status] with pages, the action buttons of an order push
(accept, reject, shipped, delivered), and cancelling or editing a confirmed order with
the PIN (editing takes lines or units out; the order stays open for edits a while)."""

from __future__ import annotations

import time

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import Settings
from souk.db.models import OrderStatus
from souk.errors import NotFoundError
from souk.formatting import money, staff_order_text, status_name
from souk.handlers.filters import PLAIN_TEXT, Matches
from souk.handlers.screens import replace_screen
from souk.handlers.seller.menu import forget_pin
from souk.keyboards.callbacks import (
    LineEdit,
    StaffEditCD,
    StaffOrderAction,
    StaffOrderCD,
    StaffOrdersCD,
)
from souk.keyboards.staff import order_edit_keyboard, staff_order_keyboard, staff_orders_keyboard
from souk.notify import CustomerNotifier
from souk.pushes import push_order_changed, push_order_status, push_return_refused
from souk.services.orders import EDITABLE, LastLine, OrderService, StatusNotAllowed
from souk.services.outbox import OutboxFactory
from souk.services.shops import ChannelInfo
from souk.services.staff import PinGuard, StaffService

router = Router(name=__name__)

PAGE_SIZE = 8
_TARGETS = {
    StaffOrderAction.ACCEPT: OrderStatus.CONFIRMED,
    StaffOrderAction.REJECT: OrderStatus.REJECTED,
    StaffOrderAction.SHIP: OrderStatus.SHIPPED,
    StaffOrderAction.DELIVER: OrderStatus.DELIVERED,
    StaffOrderAction.ACCEPT_RETURN: OrderStatus.RETURNED,
}


class StaffPin(StatesGroup):
    waiting = State()


class ReturnRefusal(StatesGroup):
    reason = State()


class OrderEdit(StatesGroup):
    editing = State()


# What the PIN is typed for.
_CANCEL, _EDIT = "cancel", "edit"


async def _orders_page(
    orders: OrderService, status: str, page: int, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    wanted = OrderStatus(status) if status else None
    found = await orders.of_shop(wanted, limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
    if not found:
        return _("No orders here yet."), None
    heading = (
        _("Orders ({status}), page {page}:").format(status=status_name(wanted), page=page + 1)
        if wanted
        else _("Orders, newest first, page {page}:").format(page=page + 1)
    )
    keyboard = staff_orders_keyboard(
        found[:PAGE_SIZE],
        status=status,
        page=page,
        has_next=len(found) > PAGE_SIZE,
        language=language,
    )
    return heading, keyboard


@router.message(Command("orders"))
async def orders_command(
    message: Message, command: CommandObject, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    status = (command.args or "").strip().lower()
    if status and status not in {s.value for s in OrderStatus}:
        await message.answer(
            _("Unknown status “{status}”. Use one of: {statuses}.").format(
                status=status, statuses=", ".join(s.value for s in OrderStatus)
            )
        )
        return
    text, keyboard = await _orders_page(
        OrderService(session, shop.shop_id), status, 0, i18n.current_locale
    )
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(StaffOrdersCD.filter())
async def orders_page(
    query: CallbackQuery,
    callback_data: StaffOrdersCD,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    status = callback_data.status if callback_data.status in set(OrderStatus) else ""
    text, keyboard = await _orders_page(
        OrderService(session, shop.shop_id), status, max(0, callback_data.page), i18n.current_locale
    )
    await query.answer()
    await replace_screen(query, text, keyboard)


async def _order_screen(
    orders: OrderService, order_id: int, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    order = await orders.get(order_id)
    text = staff_order_text(
        order, await orders.items(order.id), await orders.buyer(order), language
    )
    return text, staff_order_keyboard(order)


async def _moved(
    orders: OrderService,
    order_id: int,
    status: OrderStatus,
    *,
    actor: int,
    session: AsyncSession,
    outbox: OutboxFactory,
    i18n: I18n,
) -> str:
    """Change the order's status and tell the customer; the staff's confirmation."""
    change = await orders.change_status(order_id, status, actor_telegram_id=actor)
    await push_order_status(CustomerNotifier(session, outbox(session), i18n), change)
    return _("Order #{number}: {status}.").format(
        number=change.order.number, status=status_name(status)
    )


@router.callback_query(StaffOrderCD.filter())
async def order_action(
    query: CallbackQuery,
    callback_data: StaffOrderCD,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
    outbox: OutboxFactory,
    pin_guard: PinGuard,
) -> None:
    orders, language = OrderService(session, shop.shop_id), i18n.current_locale
    action, order_id = callback_data.action, callback_data.order_id
    try:
        if action in (StaffOrderAction.CANCEL, StaffOrderAction.EDIT):
            purpose = _CANCEL if action is StaffOrderAction.CANCEL else _EDIT
            await _ask_pin(query, state, session, shop, orders, order_id, pin_guard, purpose)
            return
        if action is StaffOrderAction.REFUSE_RETURN:
            await _ask_refusal(query, state, orders, order_id)
            return
        if action is StaffOrderAction.SHOW:
            await query.answer()
        else:
            done = await _moved(
                orders,
                order_id,
                _TARGETS[action],
                actor=query.from_user.id,
                session=session,
                outbox=outbox,
                i18n=i18n,
            )
            await query.answer(done)
    except NotFoundError:
        await query.answer(_("This order was not found."), show_alert=True)
        return
    except StatusNotAllowed as refused:
        # Someone else acted first, or the customer cancelled: show it as it is now.
        await query.answer(
            _("Order #{number} is {status} now; that is no longer possible.").format(
                number=refused.order.number, status=status_name(refused.order.status)
            ),
            show_alert=True,
        )
    text, keyboard = await _order_screen(orders, order_id, language)
    await replace_screen(query, text, keyboard)


async def _ask_pin(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    orders: OrderService,
    order_id: int,
    pin_guard: PinGuard,
    purpose: str,
) -> None:
    order = await orders.get(order_id)
    if order.status not in EDITABLE:
        raise StatusNotAllowed(order, OrderStatus.CANCELLED)
    if not await StaffService(session, shop.shop_id).has_pin():
        await query.answer(
            _("Cancelling a confirmed order needs the shop PIN. The owner sets it with /pin.")
            if purpose == _CANCEL
            else _("Editing a confirmed order needs the shop PIN. The owner sets it with /pin."),
            show_alert=True,
        )
        return
    wait = await pin_guard.locked_for(shop.shop_id, query.from_user.id)
    if wait:
        await query.answer(_locked(wait), show_alert=True)
        return
    await state.set_state(StaffPin.waiting)
    await state.set_data({"order_id": order.id, "purpose": purpose})
    await query.answer()
    if isinstance(query.message, Message):
        prompt = (
            _("Type the shop PIN to cancel order #{number} (or /cancel).")
            if purpose == _CANCEL
            else _("Type the shop PIN to edit order #{number} (or /cancel).")
        )
        await query.message.answer(prompt.format(number=order.number))


def _locked(seconds: int) -> str:
    return _("Too many wrong PINs. Try again in {minutes} min.").format(
        minutes=max(1, -(-seconds // 60))
    )


@router.message(StateFilter(StaffPin.waiting), Command("cancel"))
async def pin_cancelled(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("All right, the order stays as it is."))


@router.message(StateFilter(StaffPin.waiting), Matches(F.text))
async def pin_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
    outbox: OutboxFactory,
    pin_guard: PinGuard,
    event_update: Update,
    settings: Settings,
) -> None:
    assert message.text is not None and message.from_user is not None
    await forget_pin(message, session, event_update)
    staff_id = message.from_user.id
    wait = await pin_guard.locked_for(shop.shop_id, staff_id)
    if wait:
        await state.clear()
        await message.answer(_locked(wait))
        return
    if not await StaffService(session, shop.shop_id).pin_matches(message.text):
        left = await pin_guard.failed(shop.shop_id, staff_id)
        if left:
            await message.answer(_("Wrong PIN. Tries left: {count}.").format(count=left))
        else:
            await state.clear()
            await message.answer(_locked(await pin_guard.locked_for(shop.shop_id, staff_id)))
        return
    await pin_guard.succeeded(shop.shop_id, staff_id)
    data = await state.get_data()
    order_id = int(data["order_id"])
    await state.clear()
    orders = OrderService(session, shop.shop_id)
    if data.get("purpose") == _EDIT:
        await _start_editing(
            message, state, orders, order_id, settings=settings, language=i18n.current_locale
        )
        return
    try:
        done = await _moved(
            orders,
            order_id,
            OrderStatus.CANCELLED,
            actor=staff_id,
            session=session,
            outbox=outbox,
            i18n=i18n,
        )
    except (NotFoundError, StatusNotAllowed):
        await message.answer(_("This order can no longer be cancelled."))
        return
    text, keyboard = await _order_screen(orders, order_id, i18n.current_locale)
    await message.answer(f"{done}\n\n{text}", reply_markup=keyboard)


async def _edit_screen(
    orders: OrderService, order_id: int, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    order = await orders.get(order_id)
    items = await orders.items(order.id)
    text = staff_order_text(order, items, await orders.buyer(order), language)
    hint = _("Take out what the shop cannot deliver; the customer is told each change.")
    return f"{text}\n\n{hint}", order_edit_keyboard(order, items)


async def _start_editing(
    message: Message,
    state: FSMContext,
    orders: OrderService,
    order_id: int,
    *,
    settings: Settings,
    language: str,
) -> None:
    try:
        order = await orders.get(order_id)
    except NotFoundError:
        await message.answer(_("This order was not found."))
        return
    if order.status not in EDITABLE:
        await message.answer(
            _("Order #{number} is {status} now; that is no longer possible.").format(
                number=order.number, status=status_name(order.status)
            )
        )
        return
    await state.set_state(OrderEdit.editing)
    await state.set_data(
        {"order_id": order.id, "until": time.time() + settings.staff.edit_minutes * 60}
    )
    text, keyboard = await _edit_screen(orders, order.id, language)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(StateFilter(OrderEdit.editing), StaffEditCD.filter())
async def line_edited(
    query: CallbackQuery,
    callback_data: StaffEditCD,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
    outbox: OutboxFactory,
    event_update: Update,
) -> None:
    data = await state.get_data()
    if data.get("order_id") != callback_data.order_id or time.time() > float(data["until"]):
        await _edit_needs_pin(query)
        return
    orders, language = OrderService(session, shop.shop_id), i18n.current_locale
    if callback_data.action is LineEdit.DONE:
        await state.clear()
        await query.answer(_("Done."))
        text, keyboard = await _order_screen(orders, callback_data.order_id, language)
        await replace_screen(query, text, keyboard)
        return
    by = 1 if callback_data.action is LineEdit.LESS else None
    try:
        change = await orders.reduce_line(
            callback_data.order_id,
            callback_data.item_id,
            by=by,
            actor_telegram_id=query.from_user.id,
        )
    except LastLine:
        await query.answer(
            _("That is the order's only line: cancel the order instead."), show_alert=True
        )
        return
    except NotFoundError:
        await query.answer(_("This line is no longer in the order."), show_alert=True)
    except StatusNotAllowed as refused:
        await state.clear()
        await query.answer(
            _("Order #{number} is {status} now; that is no longer possible.").format(
                number=refused.order.number, status=status_name(refused.order.status)
            ),
            show_alert=True,
        )
        text, keyboard = await _order_screen(orders, callback_data.order_id, language)
        await replace_screen(query, text, keyboard)
        return
    else:
        await push_order_changed(
            CustomerNotifier(session, outbox(session), i18n),
            change,
            event=str(event_update.update_id),
        )
        await query.answer(
            _("New total: {total}").format(
                total=money(change.order.total, change.order.currency, language)
            )
        )
    text, keyboard = await _edit_screen(orders, callback_data.order_id, language)
    await replace_screen(query, text, keyboard)


@router.callback_query(StaffEditCD.filter())
async def edit_without_pin(query: CallbackQuery) -> None:
    await _edit_needs_pin(query)


async def _edit_needs_pin(query: CallbackQuery) -> None:
    await query.answer(
        _("Editing this order needs the PIN again: open the order and tap Edit."),
        show_alert=True,
    )


async def _ask_refusal(
    query: CallbackQuery, state: FSMContext, orders: OrderService, order_id: int
) -> None:
    order = await orders.get(order_id)
    if order.status is not OrderStatus.RETURN_REQUESTED:
        raise StatusNotAllowed(order, OrderStatus.DELIVERED)
    await state.set_state(ReturnRefusal.reason)
    await state.set_data({"order_id": order.id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Why is the return of order #{number} refused? The customer will read it "
                "(or /cancel)."
            ).format(number=order.number)
        )


@router.message(StateFilter(ReturnRefusal.reason), Command("cancel"))
async def refusal_cancelled(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("All right, the return request stays open."))


@router.message(StateFilter(ReturnRefusal.reason), PLAIN_TEXT)
async def refusal_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
    outbox: OutboxFactory,
) -> None:
    assert message.text is not None and message.from_user is not None
    reason = " ".join(message.text.split())
    order_id = int((await state.get_data())["order_id"])
    await state.clear()
    orders = OrderService(session, shop.shop_id)
    try:
        change = await orders.change_status(
            order_id, OrderStatus.DELIVERED, actor_telegram_id=message.from_user.id
        )
    except (NotFoundError, StatusNotAllowed):
        await message.answer(_("This return request is no longer open."))
        return
    await push_return_refused(
        CustomerNotifier(session, outbox(session), i18n),
        change,
        reason,
        event=str(message.message_id),
    )
    await message.answer(
        _("The return of order #{number} is refused; the customer is told why.").format(
            number=change.order.number
        )
    )
