"""Checkout and order keyboards. No business logic."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from souk.db.models import Order, OrderStatus, PaymentMethod, ShippingOption
from souk.formatting import order_line, shipping_label
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import (
    CheckoutAction,
    CheckoutCD,
    ConfirmCD,
    OrderAction,
    OrderCD,
    OrdersCD,
    ShippingCD,
)
from souk.services.orders import CANCELLABLE


def _cancel_checkout(builder: InlineKeyboardBuilder) -> None:
    builder.button(
        text=_("Cancel checkout"), callback_data=CheckoutCD(action=CheckoutAction.CANCEL)
    )


def shipping_keyboard(
    options: list[ShippingOption], currency: str, language: str
) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    for option in options:
        builder.button(
            text=shipping_label(option, currency, language),
            callback_data=ShippingCD(code=option.code),
        )
    _cancel_checkout(builder)
    builder.adjust(1)
    return builder.as_markup()


def contact_keyboard(saved_phone: str | None) -> ReplyKeyboardMarkup:
    """Share the Telegram number with one tap (or the number used last time)."""
    rows = [[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)]]
    if saved_phone:
        rows.append([KeyboardButton(text=saved_phone)])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=True)


def confirm_keyboard(total_cents: int, *, online: bool) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(
        text=_("✅ Confirm — pay on delivery"),
        callback_data=ConfirmCD(method=PaymentMethod.CASH_ON_DELIVERY, total=total_cents),
    )
    if online:
        builder.button(
            text=_("💳 Confirm and pay now"),
            callback_data=ConfirmCD(method=PaymentMethod.TELEGRAM, total=total_cents),
        )
    _cancel_checkout(builder)
    builder.adjust(1)
    return builder.as_markup()


def orders_keyboard(orders: list[Order], language: str) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    for order in orders:
        builder.button(
            text=order_line(order, language),
            callback_data=OrderCD(action=OrderAction.SHOW, order_id=order.id),
        )
    builder.adjust(1)
    return builder.as_markup()


def order_keyboard(order: Order) -> InlineKeyboardMarkup:
    """What the customer can do with the order now, and the way back to the list."""
    builder = KeyboardBuilder()
    if order.status in CANCELLABLE:
        builder.button(
            text=_("Cancel the order"),
            callback_data=OrderCD(action=OrderAction.CANCEL, order_id=order.id),
        )
    if order.status is OrderStatus.DELIVERED:
        builder.button(
            text=_("Return it"),
            callback_data=OrderCD(action=OrderAction.RETURN, order_id=order.id),
        )
    builder.button(text=_("‹ My orders"), callback_data=OrdersCD())
    builder.adjust(1)
    return builder.as_markup()


def cancel_sure_keyboard(order_id: int) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(
        text=_("Yes, cancel it"),
        callback_data=OrderCD(action=OrderAction.CANCEL_SURE, order_id=order_id),
    )
    builder.button(
        text=_("No, keep it"), callback_data=OrderCD(action=OrderAction.SHOW, order_id=order_id)
    )
    builder.adjust(2)
    return builder.as_markup()


def open_order_keyboard(order_id: int) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(
        text=_("Open the order"), callback_data=OrderCD(action=OrderAction.SHOW, order_id=order_id)
    )
    return builder.as_markup()
