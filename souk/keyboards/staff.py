"""Staff keyboards: what can be done with an order now, pages of orders. No logic."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from souk.db.models import Order, OrderItem, OrderStatus
from souk.formatting import order_line
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import (
    LineEdit,
    StaffEditCD,
    StaffOrderAction,
    StaffOrderCD,
    StaffOrdersCD,
)


def _actions(status: OrderStatus) -> list[tuple[str, StaffOrderAction]]:
    if status is OrderStatus.NEW:
        return [(_("✅ Accept"), StaffOrderAction.ACCEPT), (_("✖ Reject"), StaffOrderAction.REJECT)]
    if status in (OrderStatus.CONFIRMED, OrderStatus.PAID):
        return [
            (_("📦 Shipped"), StaffOrderAction.SHIP),
            (_("Edit (PIN)"), StaffOrderAction.EDIT),
            (_("Cancel (PIN)"), StaffOrderAction.CANCEL),
        ]
    if status is OrderStatus.SHIPPED:
        return [(_("🏁 Delivered"), StaffOrderAction.DELIVER)]
    if status is OrderStatus.RETURN_REQUESTED:
        return [
            (_("↩ Accept the return"), StaffOrderAction.ACCEPT_RETURN),
            (_("Refuse the return"), StaffOrderAction.REFUSE_RETURN),
        ]
    return []


def staff_order_keyboard(order: Order) -> InlineKeyboardMarkup | None:
    actions = _actions(order.status)
    if not actions:
        return None
    builder = KeyboardBuilder()
    for text, action in actions:
        builder.button(text=text, callback_data=StaffOrderCD(action=action, order_id=order.id))
    builder.adjust(2)
    return builder.as_markup()


def order_edit_keyboard(order: Order, items: list[OrderItem]) -> InlineKeyboardMarkup:
    """One row a line: take one out, take the line out (not the only line); then done."""
    builder = KeyboardBuilder()
    rows = []
    for item in items:
        buttons = []
        if item.quantity > 1:
            buttons.append((_("−1 {title}").format(title=item.title[:24]), LineEdit.LESS))
        if len(items) > 1:
            buttons.append((_("✕ {title}").format(title=item.title[:24]), LineEdit.REMOVE))
        for text, action in buttons:
            builder.button(
                text=text,
                callback_data=StaffEditCD(action=action, order_id=order.id, item_id=item.id),
            )
        if buttons:
            rows.append(len(buttons))
    builder.button(
        text=_("✅ Done"), callback_data=StaffEditCD(action=LineEdit.DONE, order_id=order.id)
    )
    builder.adjust(*rows, 1)
    return builder.as_markup()


def staff_orders_keyboard(
    orders: list[Order], *, status: str, page: int, has_next: bool, language: str
) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    for order in orders:
        builder.button(
            text=order_line(order, language),
            callback_data=StaffOrderCD(action=StaffOrderAction.SHOW, order_id=order.id),
        )
    navigation = []
    if page > 0:
        navigation.append((_("‹ Previous"), StaffOrdersCD(status=status, page=page - 1)))
    if has_next:
        navigation.append((_("Next ›"), StaffOrdersCD(status=status, page=page + 1)))
    for text, callback_data in navigation:
        builder.button(text=text, callback_data=callback_data)
    builder.adjust(*([1] * len(orders)), *([len(navigation)] if navigation else []))
    return builder.as_markup()
