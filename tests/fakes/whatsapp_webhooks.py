"""Builders of the webhook payloads WhatsApp POSTs to a business, and their signature.

Each builder is a pure function returning the real envelope::

    {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number", "phone_number_id"},
        "contacts": [{"profile": {"name"}, "wa_id", "user_id"}],
        "messages": [{"from", "from_user_id", "id", "timestamp", "type", ...}]}}]}]}

A customer is named by ``wa_id`` (the phone number) and/or ``user_id`` (the business-scoped
user id, BSUID); either may be left out, as WhatsApp may. Pass the payload through
``FakeWhatsAppAPI.inbound()`` to open the customer service window for the sender.
Sign the exact bytes you POST with ``sign(body, app_secret)`` for ``X-Hub-Signature-256``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from typing import Literal, TypedDict, Unpack

from tests.fakes.whatsapp_limits import DETAILS, SOMETHING_WRONG, TITLES, Params

WABA_ID = "102290129340398"
DISPLAY_PHONE_NUMBER = "15550783881"
ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
UNSUPPORTED = 131051
Status = Literal["sent", "delivered", "read", "failed"]


class Inbound(TypedDict, total=False):
    """Optional parts of an inbound message, shared by every message builder."""

    name: str  # profile name, "Customer" by default
    user_id: str  # BSUID, in contacts[].user_id and messages[].from_user_id
    username: str  # the customer's WhatsApp username, if they set one
    message_id: str  # wamid of this message; a fresh one by default
    timestamp: int  # epoch seconds; now by default
    context_id: str  # wamid of the business message this one replies to
    display_phone_number: str
    waba_id: str


def new_wamid() -> str:
    """A fresh message id in WhatsApp's shape (``wamid.`` and base64)."""
    return "wamid." + base64.b64encode(b"\x15\x02\x00" + secrets.token_bytes(27)).decode()


def sign(body: bytes, app_secret: str) -> str:
    """``X-Hub-Signature-256`` of a webhook body: HMAC-SHA256 of the raw bytes."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verification_query(verify_token: str, challenge: str = "1158201444") -> dict[str, str]:
    """The query string of the GET Meta sends to verify a webhook URL."""
    return {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}


def envelope(
    phone_number_id: str,
    value: Params,
    *,
    field: str = "messages",
    display_phone_number: str | None = None,
    waba_id: str | None = None,
) -> Params:
    """Wrap a change ``value`` (messages, statuses, ...) as WhatsApp delivers it."""
    metadata = {
        "display_phone_number": display_phone_number or DISPLAY_PHONE_NUMBER,
        "phone_number_id": phone_number_id,
    }
    change = {
        "field": field,
        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id or WABA_ID, "changes": [change]}],
    }


def _contact(wa_id: str | None, meta: Inbound) -> Params:
    if wa_id is None and "user_id" not in meta:
        raise ValueError("a customer needs a wa_id, a user_id or both")
    profile = {"name": meta.get("name", "Customer")}
    if "username" in meta:
        profile["username"] = meta["username"]
    contact: Params = {"profile": profile}
    if wa_id is not None:
        contact["wa_id"] = wa_id
    if "user_id" in meta:
        contact["user_id"] = meta["user_id"]
    return contact


def _message(
    phone_number_id: str,
    wa_id: str | None,
    kind: str,
    content: Params | list[Params],
    meta: Inbound,
) -> Params:
    contact = _contact(wa_id, meta)
    message: Params = {}
    if wa_id is not None:
        message["from"] = wa_id
    if "user_id" in meta:
        message["from_user_id"] = meta["user_id"]
    message["id"] = meta.get("message_id") or new_wamid()
    message["timestamp"] = str(meta.get("timestamp") or int(time.time()))
    if "context_id" in meta:
        display = meta.get("display_phone_number") or DISPLAY_PHONE_NUMBER
        message["context"] = {"from": display, "id": meta["context_id"]}
    message["type"] = kind
    message[kind] = content
    return envelope(
        phone_number_id,
        {"contacts": [contact], "messages": [message]},
        display_phone_number=meta.get("display_phone_number"),
        waba_id=meta.get("waba_id"),
    )


def text_message(
    phone_number_id: str, wa_id: str | None, body: str, **meta: Unpack[Inbound]
) -> Params:
    return _message(phone_number_id, wa_id, "text", {"body": body}, meta)


def button_reply(
    phone_number_id: str,
    wa_id: str | None,
    reply_to: str,
    button_id: str,
    title: str,
    **meta: Unpack[Inbound],
) -> Params:
    """A tap on a reply button of the business message ``reply_to`` (its wamid)."""
    reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
    return _message(phone_number_id, wa_id, "interactive", reply, {**meta, "context_id": reply_to})


def list_reply(
    phone_number_id: str,
    wa_id: str | None,
    reply_to: str,
    row_id: str,
    title: str,
    description: str | None = None,
    **meta: Unpack[Inbound],
) -> Params:
    """A row chosen in the list message ``reply_to`` (its wamid)."""
    row = {"id": row_id, "title": title}
    if description is not None:
        row["description"] = description
    reply = {"type": "list_reply", "list_reply": row}
    return _message(phone_number_id, wa_id, "interactive", reply, {**meta, "context_id": reply_to})


def location(
    phone_number_id: str,
    wa_id: str | None,
    latitude: float,
    longitude: float,
    *,
    place: str | None = None,
    address: str | None = None,
    **meta: Unpack[Inbound],
) -> Params:
    content: Params = {"latitude": latitude, "longitude": longitude}
    if place is not None:
        content["name"] = place
    if address is not None:
        content["address"] = address
    return _message(phone_number_id, wa_id, "location", content, meta)


def contacts(
    phone_number_id: str,
    wa_id: str | None,
    formatted_name: str,
    phone: str,
    *,
    phone_wa_id: str | None = None,
    **meta: Unpack[Inbound],
) -> Params:
    """The customer shares one contact card (``contacts`` is a list of cards)."""
    card_phone = {"phone": phone, "type": "CELL"}
    if phone_wa_id is not None:
        card_phone["wa_id"] = phone_wa_id
    first = formatted_name.split(" ", 1)[0]
    card = {"name": {"formatted_name": formatted_name, "first_name": first}, "phones": [card_phone]}
    return _message(phone_number_id, wa_id, "contacts", [card], meta)


def _media(media_id: str, sha256: str, mime_type: str, **more: object) -> Params:
    """The part of an inbound media message every kind has, and `more` of its own."""
    return {"mime_type": mime_type, "sha256": sha256, "id": media_id, **more}


def image(
    phone_number_id: str,
    wa_id: str | None,
    media_id: str,
    *,
    sha256: str,
    mime_type: str = "image/jpeg",
    caption: str | None = None,
    **meta: Unpack[Inbound],
) -> Params:
    """A photo; make ``media_id`` downloadable with ``FakeWhatsAppAPI.add_media()``."""
    content = _media(media_id, sha256, mime_type)
    if caption is not None:
        content["caption"] = caption
    return _message(phone_number_id, wa_id, "image", content, meta)


def audio(
    phone_number_id: str,
    wa_id: str | None,
    media_id: str,
    *,
    sha256: str,
    voice: bool = True,
    **meta: Unpack[Inbound],
) -> Params:
    """A voice note (or, `voice=False`, an audio file); make ``media_id`` downloadable
    with ``FakeWhatsAppAPI.add_media()``."""
    mime_type = "audio/ogg; codecs=opus" if voice else "audio/mpeg"
    content = _media(media_id, sha256, mime_type, voice=voice)
    return _message(phone_number_id, wa_id, "audio", content, meta)


def document(
    phone_number_id: str,
    wa_id: str | None,
    media_id: str,
    *,
    sha256: str,
    filename: str,
    mime_type: str = "application/pdf",
    **meta: Unpack[Inbound],
) -> Params:
    """A file; make ``media_id`` downloadable with ``FakeWhatsAppAPI.add_media()``."""
    content = _media(media_id, sha256, mime_type, filename=filename)
    return _message(phone_number_id, wa_id, "document", content, meta)


def sticker(
    phone_number_id: str,
    wa_id: str | None,
    media_id: str,
    *,
    sha256: str,
    animated: bool = False,
    **meta: Unpack[Inbound],
) -> Params:
    """A sticker (a WebP image, `animated` or not); make ``media_id`` downloadable with
    ``FakeWhatsAppAPI.add_media()``."""
    content = _media(media_id, sha256, "image/webp", animated=animated)
    return _message(phone_number_id, wa_id, "sticker", content, meta)


def reaction(
    phone_number_id: str, wa_id: str | None, reacted_to: str, emoji: str, **meta: Unpack[Inbound]
) -> Params:
    """The customer reacted with ``emoji`` to our message ``reacted_to`` (a wamid); an
    empty emoji takes the reaction back."""
    content = {"message_id": reacted_to, "emoji": emoji}
    return _message(phone_number_id, wa_id, "reaction", content, meta)


def unsupported(
    phone_number_id: str, wa_id: str | None, kind: str = "video_note", **meta: Unpack[Inbound]
) -> Params:
    """A message of a type the Cloud API does not pass on (a video note, a poll ...)."""
    payload = _message(phone_number_id, wa_id, "unsupported", {"type": kind}, meta)
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["errors"] = [
        _error(UNSUPPORTED, "Message type unknown", "Message type is currently not supported.")
    ]
    return payload


def user_preferences(
    phone_number_id: str,
    wa_id: str | None,
    value: Literal["stop", "resume"],
    **meta: Unpack[Inbound],
) -> Params:
    """The customer stops (or resumes) marketing messages from the business."""
    preference: Params = {
        "detail": f"User requested to {value} marketing messages",
        "category": "marketing_messages",
        "value": value,
        "timestamp": meta.get("timestamp") or int(time.time()),
    }
    if wa_id is not None:
        preference["wa_id"] = wa_id
    if "user_id" in meta:
        preference["user_id"] = meta["user_id"]
    return envelope(
        phone_number_id,
        {"contacts": [_contact(wa_id, meta)], "user_preferences": [preference]},
        field="user_preferences",
        display_phone_number=meta.get("display_phone_number"),
        waba_id=meta.get("waba_id"),
    )


def _error(code: int, title: str, details: str) -> Params:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": ERROR_HREF,
    }


def statuses(
    phone_number_id: str,
    message_id: str,
    recipient_id: str,
    status: Status,
    *,
    errors: Iterable[int | tuple[int, str]] = (),
    user_id: str | None = None,
    timestamp: int | None = None,
    display_phone_number: str | None = None,
    waba_id: str | None = None,
) -> Params:
    """The fate of a message the business sent: sent, delivered, read or failed.

    ``errors`` are codes or ``(code, title)`` pairs; a ``failed`` status without any
    gets 131000 (Something went wrong). Only ``failed`` statuses carry errors.
    """
    pairs = [(e, TITLES.get(e, "Unknown error")) if isinstance(e, int) else e for e in errors]
    if status == "failed" and not pairs:
        pairs = [(SOMETHING_WRONG, TITLES[SOMETHING_WRONG])]
    if pairs and status != "failed":
        raise ValueError("only a failed status carries errors")
    entry: Params = {
        "id": message_id,
        "status": status,
        "timestamp": str(timestamp or int(time.time())),
        "recipient_id": recipient_id,
    }
    if user_id is not None:
        entry["recipient_user_id"] = user_id
    if pairs:
        entry["errors"] = [_error(code, title, DETAILS.get(code, title)) for code, title in pairs]
    else:
        entry["pricing"] = {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
    return envelope(
        phone_number_id,
        {"statuses": [entry]},
        display_phone_number=display_phone_number,
        waba_id=waba_id,
    )


def senders(payload: Params) -> list[tuple[str, str | None, str | None]]:
    """``(phone_number_id, wa_id, user_id)`` of every customer message in a payload."""
    found: list[tuple[str, str | None, str | None]] = []
    for entry in payload.get("entry", ()):
        for change in entry.get("changes", ()):
            value = change.get("value", {})
            number = value.get("metadata", {}).get("phone_number_id")
            for message in value.get("messages", ()):
                if number is not None:
                    found.append((number, message.get("from"), message.get("from_user_id")))
    return found
