"""Accepting a Telegram update into the inbox: shared by the webhook and long polling."""

from __future__ import annotations

from collections.abc import Mapping

from souk.channels.telegram import update_chat_key, update_kind
from souk.db.models import ChannelKind
from souk.metrics import UPDATES_DUPLICATE, UPDATES_IN, UPDATES_REJECTED
from souk.runtime import Runtime
from souk.services.inbox import ChatRef, InboxService


async def accept_telegram_update(
    runtime: Runtime, bot_id: int, update: Mapping[str, object]
) -> bool:
    """Store the update and queue it for processing; False for a duplicate or an ignored kind.

    Returns only after the update is committed, so the caller may acknowledge it.
    """
    kind = update_kind(update)
    if kind is None or not isinstance(update.get(kind), Mapping):
        UPDATES_REJECTED.labels("telegram", "ignored_kind").inc()
        return False
    chat = ChatRef(ChannelKind.TELEGRAM, str(bot_id), update_chat_key(update, kind))
    async with runtime.intake_engine.connect() as connection:  # autocommit: one round trip
        stored = await InboxService.store(
            connection,
            channel=chat.channel,
            receiver=chat.receiver,
            external_id=str(update["update_id"]),
            chat_key=chat.chat_key,
            kind=kind,
            payload=dict(update),
        )
    if not stored:
        UPDATES_DUPLICATE.labels("telegram").inc()
        return False
    UPDATES_IN.labels("telegram", kind).inc()
    assert runtime.processor is not None
    runtime.processor.submit(chat)
    return True
