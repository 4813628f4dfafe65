"""What customers are told without asking: order status changes, abandoned-cart
reminders and campaigns. Rendered in the customer's language, queued in the outbox."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Order, Shop
from souk.formatting import cart_lines, money, staff_order_text, status_push
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import CartAction, CartCD, CheckoutAction, CheckoutCD, RemindersCD
from souk.keyboards.campaigns import campaign_keyboard
from souk.keyboards.checkout import open_order_keyboard
from souk.keyboards.staff import staff_order_keyboard
from souk.notify import CustomerNotifier, StaffNotifier
from souk.schedule_texts import outcome_text
from souk.services.campaigns import CampaignContent
from souk.services.cart import CartService
from souk.services.feeds import FeedOutcome, FeedRefusal
from souk.services.orders import LineChange, OrderService, StatusChange
from souk.services.outbox import ClaimedPush
from souk.services.reminders import DueCart
from souk.services.schedule_runs import ScheduleOutcome
from souk.services.schedule_times import local_text
from souk.services.shops import shop_zone


async def push_order_status(notifier: CustomerNotifier, change: StatusChange) -> bool:
    """Tell the customer their order moved on; once per change (the key names it)."""
    order = change.order

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return status_push(order), open_order_keyboard(order.id)

    return await notifier.send(
        order.customer_id,
        render,
        kind="order_status",
        key=f"order-status:{order.id}:{change.previous}>{order.status}",
    )


def _reminder_keyboard() -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(text=_("Check out"), callback_data=CheckoutCD(action=CheckoutAction.START))
    builder.button(text=_("Open the cart"), callback_data=CartCD(action=CartAction.SHOW))
    builder.button(text=_("Don't remind me"), callback_data=RemindersCD(enabled=False))
    builder.adjust(2, 1)
    return builder.as_markup()


async def push_cart_reminder(
    notifier: CustomerNotifier, session: AsyncSession, due: DueCart
) -> bool:
    """Remind the customer of what waits in their cart (once per state of the cart)."""
    cart = await CartService(session, shop_id=due.shop_id, customer_id=due.customer_id).view()
    if not cart.lines:
        return False

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        text = "\n".join(
            [
                _("You left these in your cart:"),
                cart_lines(cart, language),
                "",
                _("Shall we finish your order?"),
            ]
        )
        return text, _reminder_keyboard()

    return await notifier.send(
        due.customer_id,
        render,
        kind="cart_reminder",
        key=f"cart-reminder:{due.cart_id}:{due.updated_at.timestamp():.0f}",
    )


async def push_order_to_staff(
    notifier: StaffNotifier, orders: OrderService, order: Order, *, event: str
) -> int:
    """Tell the shop's staff about an order (a new one, a payment, a return request...),
    with the buttons its status allows; `event` keeps one push per happening."""
    items = await orders.items(order.id)
    customer = await orders.buyer(order)

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return staff_order_text(order, items, customer, language), staff_order_keyboard(order)

    return await notifier.send(
        order.shop_id, render, kind="staff_order", key=f"staff-order:{order.id}:{event}"
    )


async def push_return_refused(
    notifier: CustomerNotifier, change: StatusChange, reason: str, *, event: str
) -> bool:
    """Tell the customer their return request was refused, and why (`event` tells one
    refusal from a later one of the same order)."""
    order = change.order

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        text = _("The return of order #{number} was refused: {reason}").format(
            number=order.number, reason=escape(reason)
        )
        return text, open_order_keyboard(order.id)

    return await notifier.send(
        order.customer_id, render, kind="order_status", key=f"return-refused:{order.id}:{event}"
    )


async def push_order_changed(notifier: CustomerNotifier, change: LineChange, *, event: str) -> bool:
    """Tell the customer the shop took (part of) a line out of their order, and the new
    total; `event` (the staff's update) makes each change one push."""
    order = change.order

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        if change.after:
            what = _("{title}: {before} → {after} pcs.").format(
                title=escape(change.title), before=change.before, after=change.after
            )
        else:
            what = _("{title}: removed.").format(title=escape(change.title))
        lines = [
            _("The shop changed your order #{number}.").format(number=order.number),
            what,
            _("New total: {total}").format(total=money(order.total, order.currency, language)),
        ]
        if order.paid_at is not None:
            lines.append(_("The difference will be refunded."))
        return "\n".join(lines), open_order_keyboard(order.id)

    return await notifier.send(
        order.customer_id, render, kind="order_status", key=f"order-changed:{order.id}:{event}"
    )


async def push_held_to_staff(notifier: StaffNotifier, push: ClaimedPush) -> int:
    """Tell the shop's staff a push to a WhatsApp customer was held: their 24-hour window
    is closed and no approved template is configured for its kind."""
    if push.shop_id is None or push.kind == "campaign":  # a campaign's figures count those
        return 0
    text = str(push.payload.get("text") or push.payload.get("caption") or "")

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return (
            _(
                "A WhatsApp message was not sent: the customer last wrote more than 24 hours "
                "ago and no approved template is set for “{kind}” (WHATSAPP_TEMPLATES). "
                "It said:\n\n{text}"
            ).format(kind=escape(push.kind), text=escape(text[:1000])),
            None,
        )

    return await notifier.send(push.shop_id, render, kind="whatsapp_held", key=f"held:{push.id}")


async def push_schedule_outcome(notifier: StaffNotifier, outcome: ScheduleOutcome) -> int:
    """Tell the shop's staff what applying or reverting a schedule did (once per run: a
    schedule is applied once and reverted once)."""

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return outcome_text(outcome, language), None

    return await notifier.send(
        outcome.shop_id,
        render,
        kind="schedule",
        key=f"schedule:{outcome.schedule_id}:{outcome.action}",
    )


def feed_refusal_text(outcome: FeedOutcome, shop: Shop) -> str:
    """Why the Kaspi feed was not updated and what the marketplace gets meanwhile."""
    if outcome.refusal is FeedRefusal.EMPTY:
        why = _("it would offer no product (none active, priced and in the feed's currency)")
    elif outcome.refusal is FeedRefusal.SHRUNK:
        why = _("it would shrink from {served} to {offers} offers").format(
            served=outcome.served, offers=outcome.offers
        )
    else:
        why = _("it failed the check: {detail}").format(detail=escape(outcome.detail))
    if outcome.served_at is None:
        kept = _("Kaspi gets no feed until one passes.")
    else:
        kept = _("Kaspi keeps getting the last good one ({offers} offers, made {when}).").format(
            offers=outcome.served, when=local_text(outcome.served_at, shop_zone(shop.timezone))
        )
    text = _("The Kaspi price feed was not updated: {why}. {kept}").format(why=why, kept=kept)
    if outcome.refusal is FeedRefusal.SHRUNK:
        text += "\n\n" + _("If that is meant, publish it anyway: {command}").format(
            command=f"<code>souk feed publish --shop {escape(shop.slug)} --force</code>"
        )
    return text


async def push_feed_refused(notifier: StaffNotifier, outcome: FeedOutcome, shop: Shop) -> int:
    """Tell the shop's staff their feed is refused; once per streak of refusals (the key
    names when it began)."""
    assert outcome.refused_since is not None

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return feed_refusal_text(outcome, shop), None

    return await notifier.send(
        shop.id,
        render,
        kind="feed_refused",
        key=f"feed-refused:{shop.id}:{outcome.refused_since.timestamp():.0f}",
    )


def campaign_message(content: CampaignContent) -> tuple[str, dict[str, object]]:
    """A campaign as sent, in the current language (its buttons): the platform method and
    its parameters but the chat. Staff preview exactly this."""
    markup = campaign_keyboard(content.button).model_dump(mode="json", exclude_none=True)
    if content.photo_file_id is None:
        return "sendMessage", {"text": content.text, "reply_markup": markup}
    return "sendPhoto", {
        "photo": content.photo_file_id,
        "caption": content.text,
        "reply_markup": markup,
    }
