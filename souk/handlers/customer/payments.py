"""Telegram Payments: the pre-checkout check (within Telegram's 10 s) and the successful
payment, the only proof that an order is paid."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message, PreCheckoutQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.errors import NotFoundError
from souk.handlers.filters import Matches
from souk.notify import StaffNotifier
from souk.pushes import push_order_to_staff
from souk.services.customers import Person
from souk.services.orders import OrderService
from souk.services.outbox import OutboxFactory
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


def _order_id(payload: str) -> int | None:
    kind, _, value = payload.partition(":")
    return int(value) if kind == "order" and value.isdigit() else None


@router.pre_checkout_query()
async def pre_checkout(
    query: PreCheckoutQuery, session: AsyncSession, shop: ChannelInfo, person: Person
) -> None:
    """Yes only for an open, unpaid order of this customer with the invoiced total (its
    stock was reserved when it was placed and stays reserved while it is open)."""
    orders, order_id = OrderService(session, shop.shop_id), _order_id(query.invoice_payload)
    problem = "missing"
    if order_id is not None:
        try:
            order = await orders.get(order_id, customer_id=person.customer_id)
        except NotFoundError:
            pass
        else:
            problem = (
                orders.payable_problem(order, amount=query.total_amount, currency=query.currency)
                or ""
            )
    if not problem:
        await query.answer(ok=True)
        return
    messages = {
        "paid": _("This order is paid already."),
        "closed": _(
            "This order is no longer open (it may have been cancelled). Please order again."
        ),
        "changed": _("The order's total has changed. Please open /orders and pay the new invoice."),
        "missing": _("This order was not found. Please order again."),
    }
    await query.answer(ok=False, error_message=messages[problem])


@router.message(Matches(F.successful_payment))
async def payment_received(
    message: Message,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
    outbox: OutboxFactory,
) -> None:
    paid = message.successful_payment
    assert paid is not None
    order_id = _order_id(paid.invoice_payload)
    if order_id is None:
        await message.answer(
            _(
                "We received your payment but cannot tell which order it is for. "
                "The shop will contact you to sort it out."
            )
        )
        return
    orders = OrderService(session, shop.shop_id)
    payment = await orders.record_payment(
        order_id, charge_id=paid.telegram_payment_charge_id, amount=paid.total_amount
    )
    if payment.duplicate:
        return
    await push_order_to_staff(
        StaffNotifier(session, outbox(session), i18n),
        orders,
        payment.order,
        event=f"paid:{paid.telegram_payment_charge_id}",
    )
    number = payment.order.number
    if payment.refund_due:
        await message.answer(
            _(
                "We received your payment for order #{number}, but the order can no longer be "
                "fulfilled (it was cancelled or its products are gone). The money will be "
                "refunded."
            ).format(number=number)
        )
        return
    await message.answer(
        _(
            "Payment received, thank you! Order #{number} is paid. We will let you know when "
            "it ships."
        ).format(number=number)
    )
