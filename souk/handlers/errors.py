"""The one error router: a translated apology to the user, the full context to the log."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from souk.logs import get_logger
from souk.services.inbox import UpdateOutcome

log = get_logger("souk.handlers")
router = Router(name=__name__)


@router.errors()
async def on_error(
    event: ErrorEvent, shop_id: int | None = None, outcome: UpdateOutcome | None = None
) -> None:
    update = event.update
    if outcome is not None:
        outcome.error = type(event.exception).__name__  # the processor undoes the writes
    chat = update.message.chat if update.message else None
    log.error(
        "handler failed",
        exc_info=event.exception,
        shop_id=shop_id,
        update_id=update.update_id,
        update_type=update.event_type,
        chat_id=chat.id if chat else None,
    )
    text = _("Sorry, something went wrong on our side. Please try again in a moment.")
    if update.message is not None:
        await update.message.answer(text)
    elif update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
