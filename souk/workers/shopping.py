"""Beat jobs of the shopping side: reminders about abandoned carts, and releasing the stock
of orders whose online payment never came. `now` is given, so tests choose the time."""

from __future__ import annotations

from datetime import datetime, timedelta

from souk.db.models import OrderStatus
from souk.logs import get_logger
from souk.notify import CustomerNotifier
from souk.pushes import push_cart_reminder, push_order_status
from souk.runtime import Runtime
from souk.services.orders import OrderService, unpaid_orders
from souk.services.reminders import CartReminders

log = get_logger("souk.workers")


async def remind_abandoned_carts(runtime: Runtime, now: datetime) -> int:
    """Queue one reminder per due cart; returns how many were queued."""
    sent = 0
    async with runtime.session_factory() as session, session.begin():
        reminders = CartReminders(session, runtime.settings.cart)
        notifier = CustomerNotifier(session, runtime.outbox(session), runtime.i18n)
        for due in await reminders.due(now):
            if await push_cart_reminder(notifier, session, due):
                sent += 1
            await reminders.mark_reminded(due.cart_id, now)
    if sent:
        log.info("cart reminders queued", count=sent)
    return sent


async def expire_unpaid_orders(runtime: Runtime, now: datetime) -> int:
    """Cancel orders unpaid for TELEGRAM_PAYMENT_TIMEOUT_MINUTES (their stock goes back)
    and tell the customers; returns how many were cancelled."""
    timeout = timedelta(minutes=runtime.settings.telegram.payment_timeout_minutes)
    cancelled = 0
    async with runtime.session_factory() as session:
        due = await unpaid_orders(session, before=now - timeout)
    for shop_id, order_id in due:
        # One transaction per order: a payment landing meanwhile wins on the row lock.
        async with runtime.session_factory() as session, session.begin():
            orders = OrderService(session, shop_id)
            order = await orders.get(order_id, lock=True)  # decide on what is true now
            if order.status is not OrderStatus.NEW or order.paid_at is not None:
                continue
            change = await orders.change_status(order_id, OrderStatus.CANCELLED)
            notifier = CustomerNotifier(session, runtime.outbox(session), runtime.i18n)
            await push_order_status(notifier, change)
            cancelled += 1
    if cancelled:
        log.info("unpaid orders cancelled", count=cancelled)
    return cancelled
