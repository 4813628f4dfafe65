"""What human takeover tells people, rendered with aiogram's keyboards and translations
and queued in the outbox (so not a service): the staff push of a customer asking for a
person, each customer message forwarded to staff meanwhile, and the customer's notice
that the bot answers again. `takeover_service` wires `TakeoverService` to them."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import Settings
from souk.db.models import Customer, Direction
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import TakeoverAction, TakeoverCD
from souk.notify import Attachment, CustomerNotifier, StaffNotifier
from souk.services.message_log import LoggedMessage, MessageLogService
from souk.services.outbox import STAFF_REPLY_KIND, OutboxFactory
from souk.services.takeover import Handoff, Now, Resumed, TakeoverService, utc_now

LINE_CHARS = 300  # of one logged message in a push
# Logged kinds whose text is the whole message.
_JUST_TEXT = frozenset({"text", "command", "callback", "edit", "staff"})


def customer_ref(customer_id: int) -> str:
    """How staff name a customer in /reply and /history (and how a push names them)."""
    return f"C{customer_id}"


def log_line(message: LoggedMessage) -> str:
    """One logged message as staff read it: who, when, what (escaped, cut); what is not
    just text shows its kind first ("[photo] caption", "[reaction] 👍")."""
    arrow = "→" if message.direction is Direction.IN else "←"
    text = message.text or ""
    if message.kind not in _JUST_TEXT:
        text = f"[{message.kind}] {text}".rstrip()
    if len(text) > LINE_CHARS:
        text = text[: LINE_CHARS - 1] + "…"
    return f"{arrow} <i>{message.created_at:%d.%m %H:%M}</i> {escape(text)}"


def staff_keyboard(customer_id: int) -> InlineKeyboardMarkup:
    builder = KeyboardBuilder()
    builder.button(
        text=_("Reply"),
        callback_data=TakeoverCD(action=TakeoverAction.REPLY, customer_id=customer_id),
    )
    builder.button(
        text=_("Give back to the bot"),
        callback_data=TakeoverCD(action=TakeoverAction.RELEASE, customer_id=customer_id),
    )
    builder.adjust(2)
    return builder.as_markup()


def _who(customer_id: int, name: str, channel: str) -> str:
    label = escape(name) if name else _("A customer")
    return f"{label} ({customer_ref(customer_id)}, {channel})"


class HandoffPushes:
    """`TakeoverPushes` through the outbox."""

    def __init__(self, staff: StaffNotifier, customers: CustomerNotifier) -> None:
        self._staff = staff
        self._customers = customers

    async def handoff(self, handoff: Handoff) -> int:
        def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
            who = _who(handoff.customer_id, handoff.customer_name, handoff.channel.value)
            lines = [_("🙋 {who} asks for a person.").format(who=who)]
            if handoff.reason:
                lines.append(_("Reason: {reason}").format(reason=escape(handoff.reason)))
            if handoff.recent:
                lines += ["", _("Last messages:"), *map(log_line, handoff.recent)]
            lines += ["", _("Reply to this message, or press Reply, to write to them.")]
            return "\n".join(lines), staff_keyboard(handoff.customer_id)

        return await self._staff.send(handoff.shop_id, render, kind="handoff", key=handoff.key)

    async def resumed(self, resumed: Resumed) -> bool:
        def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
            return _(
                "The shop's assistant is answering you again. Send /help to see what it can do."
            ), None

        return await self._customers.send(
            resumed.customer_id,
            render,
            kind="takeover",
            key=f"resumed:{resumed.conversation_id}:{resumed.started_at.timestamp():.0f}",
        )


async def forward_to_staff(
    session: AsyncSession,
    staff: StaffNotifier,
    *,
    shop_id: int,
    customer_id: int,
    answered_by: int | None,
    message: LoggedMessage,
    key: str,
    copy: Attachment | None = None,
) -> int:
    """Pass a message of a customer in human mode to the staff member answering them
    (to all staff while nobody has, or if they left the shop), with the Reply button,
    followed by a copy of the message itself if it is more than text (`copy`)."""
    customer = await session.get(Customer, customer_id)
    name = (customer.name or customer.username or "") if customer is not None else ""
    channel = customer.channel.value if customer is not None else ""

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        text = "\n".join([f"💬 {_who(customer_id, name, channel)}", log_line(message)])
        return text, staff_keyboard(customer_id)

    sent = 0
    if answered_by is not None:
        sent = await staff.send(
            shop_id, render, kind="handoff", key=key, only=answered_by, copy=copy
        )
    return sent or await staff.send(shop_id, render, kind="handoff", key=key, copy=copy)


async def send_staff_message(
    session: AsyncSession,
    takeover: TakeoverService,
    customers: CustomerNotifier,
    *,
    shop_id: int,
    customer_id: int,
    staff_telegram_id: int,
    text: str,
    key: str,
) -> bool:
    """Queue a staff member's message to the customer on their channel, log it, and pause
    the bot for them (human mode, answered by this staff member); False if the customer
    cannot be reached (blocked the shop, channel gone)."""
    await takeover.staff_wrote(
        shop_id=shop_id, customer_id=customer_id, staff_telegram_id=staff_telegram_id
    )

    def render(language: str) -> tuple[str, InlineKeyboardMarkup | None]:
        return escape(text), None

    recipient = await customers.recipient(customer_id)
    if recipient is None:
        return False
    await customers.send(customer_id, render, kind=STAFF_REPLY_KIND, key=key)
    await MessageLogService(session).add_sent(
        shop_id=shop_id,
        customer_id=customer_id,
        channel=recipient.channel,
        text=text,
        staff_telegram_id=staff_telegram_id,
    )
    return True


def takeover_service(
    session: AsyncSession,
    settings: Settings,
    outbox: OutboxFactory,
    i18n: I18n,
    *,
    now: Now = utc_now,
) -> TakeoverService:
    """The takeover service of this transaction, its pushes going through the outbox."""
    queue = outbox(session)
    pushes = HandoffPushes(
        StaffNotifier(session, queue, i18n), CustomerNotifier(session, queue, i18n)
    )
    return TakeoverService(
        session,
        settings.takeover,
        pause=timedelta(minutes=settings.core.human_takeover_minutes),
        pushes=pushes,
        now=now,
    )
