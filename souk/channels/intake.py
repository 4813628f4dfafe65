"""Accepting inbound updates into the inbox: Telegram (the webhook and long polling),
WhatsApp (the webhook) and the demo web chat."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from souk.channels.telegram import update_chat_key, update_kind
from souk.channels.whatsapp_intake import Envelope, MarketingPreference
from souk.db.models import ChannelKind
from souk.logs import get_logger
from souk.metrics import UPDATES_DUPLICATE, UPDATES_IN, UPDATES_REJECTED
from souk.runtime import Runtime
from souk.services.customers import CustomerService
from souk.services.deliveries import record_statuses
from souk.services.inbox import ChatRef, NewUpdate

log = get_logger("souk.intake")


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


async def accept_whatsapp(runtime: Runtime, envelope: Envelope) -> int:
    """Store the envelope's messages (each once) and record its statuses; returns how
    many messages were new. A message for a number no active shop has is dropped."""
    stored = 0
    for reason in envelope.ignored:
        UPDATES_REJECTED.labels("whatsapp", "ignored").inc()
        log.info("whatsapp part ignored", reason=reason)
    for message in envelope.messages:
        if await runtime.numbers.get(message.phone_number_id) is None:
            UPDATES_REJECTED.labels("whatsapp", "unknown_number").inc()
            log.warning("whatsapp message for an unknown number", number=message.phone_number_id)
            continue
        chat = ChatRef(ChannelKind.WHATSAPP, message.phone_number_id, message.sender)
        new = NewUpdate(chat, message.message_id, message.kind, json.dumps(message.payload))
        if not await runtime.inbox_writer.store(new):
            UPDATES_DUPLICATE.labels("whatsapp").inc()
            continue
        UPDATES_IN.labels("whatsapp", message.kind).inc()
        stored += 1
        assert runtime.processor is not None
        runtime.processor.submit(chat)
    if envelope.statuses:
        async with runtime.session_factory() as session, session.begin():
            await record_statuses(session, ChannelKind.WHATSAPP, envelope.statuses)
    for preference in envelope.preferences:
        await _set_preference(runtime, preference)
    if stored:
        assert runtime.processor is not None
        await runtime.processor.wait_for_room()
    return stored


async def accept_web(
    runtime: Runtime, receiver: str, visitor: str, message: dict[str, Any], language: str
) -> bool:
    """Store a web chat message (once per page-made id) and queue it; False for a repeat.
    `language` is the page's: the bot answers in it, as in a Telegram client's."""
    chat = ChatRef(ChannelKind.WEB, receiver, visitor)
    contact = {"profile": {"name": "Guest"}, "language": language}
    payload = {"sender": visitor, "message": message, "contact": contact}
    new = NewUpdate(chat, f"{visitor}:{message['id']}", str(message["type"]), json.dumps(payload))
    if not await runtime.inbox_writer.store(new):
        UPDATES_DUPLICATE.labels("web").inc()
        return False
    UPDATES_IN.labels("web", str(message["type"])).inc()
    assert runtime.processor is not None
    runtime.processor.submit(chat)
    await runtime.processor.wait_for_room()
    return True


async def _set_preference(runtime: Runtime, preference: MarketingPreference) -> None:
    """A stop (or resume) of marketing messages made in WhatsApp: campaigns follow it."""
    entry = await runtime.numbers.get(preference.phone_number_id)
    if entry is None:
        UPDATES_REJECTED.labels("whatsapp", "unknown_number").inc()
        return
    async with runtime.session_factory() as session, session.begin():
        customers = CustomerService(session)
        customer_id = await customers.ensure(
            shop_id=entry.channel.shop_id,
            channel=ChannelKind.WHATSAPP,
            external_id=preference.sender,
        )
        await customers.set_campaigns(
            customer_id, subscribed=preference.subscribed, now=datetime.now(UTC)
        )
    log.info("whatsapp marketing preference", subscribed=preference.subscribed)
