"""Accepting Telegram updates into the inbox: shared by the webhook and long polling."""

from __future__ import annotations

import json
from collections.abc import Mapping

from souk.channels.telegram import update_chat_key, update_kind
from souk.db.models import ChannelKind
from souk.metrics import UPDATES_DUPLICATE, UPDATES_IN, UPDATES_REJECTED
from souk.runtime import Runtime
from souk.services.inbox import ChatRef, NewUpdate


async def accept_telegram_update(
    runtime: Runtime, bot_id: int, update: Mapping[str, object], raw: str | None = None
) -> bool:
    """Store the update and queue it for processing; False for a duplicate or an ignored kind.

    `raw` is the JSON exactly as received, stored as it is; it is rebuilt from `update`
    when missing. Returns only after the update is committed, so the caller may
    acknowledge it, and once the process has room for more (see `wait_for_room`).
    """
    kind = update_kind(update)
    if kind is None or not isinstance(update.get(kind), Mapping):
        UPDATES_REJECTED.labels("telegram", "ignored_kind").inc()
        return False
    chat = ChatRef(ChannelKind.TELEGRAM, str(bot_id), update_chat_key(update, kind))
    new = NewUpdate(chat, str(update["update_id"]), kind, raw or json.dumps(update))
    if not await runtime.inbox_writer.store(new):
        UPDATES_DUPLICATE.labels("telegram").inc()
        return False
    UPDATES_IN.labels("telegram", kind).inc()
    assert runtime.processor is not None
    runtime.processor.submit(chat)
    await runtime.processor.wait_for_room()
    return True
