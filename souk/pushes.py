"""What customers are told without asking: order status changes (and, from the worker,
reminders). Rendered in the customer's language, queued in the outbox."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from souk.formatting import status_push
from souk.keyboards.checkout import open_order_keyboard
from souk.services.notify import CustomerNotifier
from souk.services.orders import StatusChange


async def push_order_status(notifier: CustomerNotifier, change: StatusChange) -> bool:
    """Tell the customer their order moved on; once per change (the key names it)."""
    order = change.order

    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return status_push(order), open_order_keyboard(order.id)

    return await notifier.send(
        order.customer_id,
        render,
        kind="order_status",
        key=f"order-status:{order.id}:{change.previous}>{order.status}",
    )
