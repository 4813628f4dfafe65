"""WhatsApp Cloud API webhooks: the verify handshake, the signature, the envelope.

Meta signs every POST with HMAC-SHA256 of the raw body under the app secret
(`X-Hub-Signature-256: sha256=<hex>`). One POST may carry several messages and
delivery statuses, for several numbers of the business account. Each message becomes
one inbox row under (phone_number_id, wamid), the platform's own dedupe key; its
sender is the wa_id, or the business-scoped user id when no wa_id is given.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from souk.services.deliveries import ReportedStatus

SIGNATURE_HEADER = "X-Hub-Signature-256"
# A sender known only by a business-scoped user id is stored with this prefix, so it
# can never be mistaken for a phone number.
BSUID_PREFIX = "bsuid:"


class MalformedEnvelope(ValueError):
    """The body is JSON but not a WhatsApp Business Account webhook."""


@dataclass(frozen=True)
class InboundMessage:
    """One customer message, as it will be stored in the inbox."""

    phone_number_id: str
    sender: str  # wa_id, or BSUID_PREFIX + the business-scoped user id
    message_id: str
    kind: str  # text, interactive, location, contacts, image, ... as WhatsApp names it
    payload: dict[str, Any]  # {"sender", "message", "contact"}: the message as received


@dataclass(frozen=True)
class MarketingPreference:
    """The customer stopped or resumed marketing messages in WhatsApp itself."""

    phone_number_id: str
    sender: str
    subscribed: bool


@dataclass
class Envelope:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[ReportedStatus] = field(default_factory=list)
    preferences: list[MarketingPreference] = field(default_factory=list)
    # Parts acknowledged and dropped, with why (a group message, no sender, ...).
    ignored: list[str] = field(default_factory=list)


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `header` is the app secret's HMAC-SHA256 of exactly these bytes."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").lower(), expected)


def handshake_answer(query: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo for a valid subscription handshake, else None."""
    if query.get("hub.mode") != "subscribe":
        return None
    given = query.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge")


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedEnvelope(f"{where} is not an object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedEnvelope(f"{where} is not a list")
    return value


def _sender(message: Mapping[str, Any], contacts: list[Any]) -> str | None:
    """wa_id when present, else the business-scoped user id (also looked up among the
    contacts of the change by the message's `from`)."""
    wa_id = message.get("from")
    if isinstance(wa_id, str) and wa_id:
        return wa_id
    user_id = message.get("from_user_id")
    if isinstance(user_id, str) and user_id:
        return BSUID_PREFIX + user_id
    if len(contacts) == 1 and isinstance(contacts[0], Mapping):
        found = contacts[0].get("wa_id") or contacts[0].get("user_id")
        if isinstance(found, str) and found:
            return found if contacts[0].get("wa_id") else BSUID_PREFIX + found
    return None


def _contact_of(sender: str, contacts: list[Any]) -> dict[str, Any]:
    for contact in contacts:
        if isinstance(contact, Mapping) and sender in (
            contact.get("wa_id"),
            BSUID_PREFIX + str(contact.get("user_id")),
        ):
            return dict(contact)
    return {}


def _timestamp(value: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _status(phone_number_id: str, raw: object) -> ReportedStatus | None:
    if not isinstance(raw, Mapping):
        return None
    message_id, status = raw.get("id"), raw.get("status")
    if not isinstance(message_id, str) or not isinstance(status, str):
        return None
    errors = raw.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    code = first.get("code") if isinstance(first, Mapping) else None
    title = first.get("title") if isinstance(first, Mapping) else None
    return ReportedStatus(
        phone_number_id=phone_number_id,
        message_id=message_id,
        status=status,
        recipient=str(raw.get("recipient_id") or raw.get("recipient_user_id") or ""),
        occurred_at=_timestamp(raw.get("timestamp")),
        error_code=code if isinstance(code, int) else None,
        error_title=str(title)[:200] if title else None,
    )


def parse_envelope(document: object) -> Envelope:
    """Messages and statuses of a webhook body; MalformedEnvelope if it is not one."""
    body = _mapping(document, "the body")
    if body.get("object") != "whatsapp_business_account":
        raise MalformedEnvelope("not a whatsapp_business_account webhook")
    envelope = Envelope()
    for entry in _list(body.get("entry"), "entry"):
        for change in _list(_mapping(entry, "an entry").get("changes"), "changes"):
            change = _mapping(change, "a change")
            if change.get("field") not in ("messages", "user_preferences"):
                envelope.ignored.append(f"field {change.get('field')}")
                continue
            value = _mapping(change.get("value"), "a change's value")
            metadata = _mapping(value.get("metadata"), "metadata")
            number = metadata.get("phone_number_id")
            if not isinstance(number, str) or not number:
                raise MalformedEnvelope("metadata without a phone_number_id")
            contacts = _list(value.get("contacts"), "contacts")
            for raw in _list(value.get("user_preferences"), "user_preferences"):
                _add_preference(envelope, number, raw)
            for raw in _list(value.get("messages"), "messages"):
                _add_message(envelope, number, raw, contacts)
            for raw in _list(value.get("statuses"), "statuses"):
                status = _status(number, raw)
                if status is None:
                    envelope.ignored.append("a status without id or status")
                else:
                    envelope.statuses.append(status)
    return envelope


def _add_preference(envelope: Envelope, number: str, raw: object) -> None:
    if not isinstance(raw, Mapping) or raw.get("value") not in ("stop", "resume"):
        envelope.ignored.append("a preference that is neither stop nor resume")
        return
    wa_id, user_id = raw.get("wa_id"), raw.get("user_id")
    if isinstance(wa_id, str) and wa_id:
        sender = wa_id
    elif isinstance(user_id, str) and user_id:
        sender = BSUID_PREFIX + user_id
    else:
        envelope.ignored.append("a preference without a sender")
        return
    envelope.preferences.append(MarketingPreference(number, sender, raw["value"] == "resume"))


def _add_message(envelope: Envelope, number: str, raw: object, contacts: list[Any]) -> None:
    if not isinstance(raw, Mapping):
        envelope.ignored.append("a message that is not an object")
        return
    message_id, kind = raw.get("id"), raw.get("type")
    if not isinstance(message_id, str) or not message_id or not isinstance(kind, str):
        envelope.ignored.append("a message without id or type")
        return
    if raw.get("group_id"):
        envelope.ignored.append("a group message")
        return
    sender = _sender(raw, contacts)
    if sender is None:
        envelope.ignored.append("a message without a sender")
        return
    envelope.messages.append(
        InboundMessage(
            phone_number_id=number,
            sender=sender,
            message_id=message_id,
            kind=kind,
            payload={
                "sender": sender,
                "message": dict(raw),
                "contact": _contact_of(sender, contacts),
            },
        )
    )
