"""The WhatsApp webhook envelope: signatures, the handshake, messages and statuses."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from souk.channels.whatsapp_intake import (
    BSUID_PREFIX,
    MalformedEnvelope,
    handshake_answer,
    parse_envelope,
    signature_valid,
)

SECRET = "app-secret"


def envelope(value: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": field, "value": value}]}],
    }


def value(messages: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1001"},
        "contacts": [{"profile": {"name": "Aigul"}, "wa_id": "77011234567"}],
        "messages": messages or [],
        **extra,
    }


def text(wamid: str = "wamid.1", sender: str = "77011234567", **extra: Any) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid,
        "timestamp": "1795000000",
        "type": "text",
        "text": {"body": "hello"},
        **extra,
    }


def test_signature_is_the_app_secrets_hmac_of_the_exact_body() -> None:
    body = json.dumps(envelope(value([text()]))).encode()
    good = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature_valid(body, good, SECRET)
    assert signature_valid(body, good.upper().replace("SHA256=", "sha256="), SECRET)
    assert not signature_valid(body + b" ", good, SECRET)
    assert not signature_valid(body, good, "another-secret")
    assert not signature_valid(body, None, SECRET)
    assert not signature_valid(body, good.removeprefix("sha256="), SECRET)


def test_handshake_echoes_the_challenge_only_for_our_token() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"}
    assert handshake_answer(query, "vt") == "1158201444"
    assert handshake_answer({**query, "hub.verify_token": "guess"}, "vt") is None
    assert handshake_answer({**query, "hub.mode": "unsubscribe"}, "vt") is None


def test_messages_carry_the_sender_and_their_profile() -> None:
    parsed = parse_envelope(envelope(value([text("wamid.1"), text("wamid.2")])))
    assert [(m.phone_number_id, m.sender, m.message_id, m.kind) for m in parsed.messages] == [
        ("1001", "77011234567", "wamid.1", "text"),
        ("1001", "77011234567", "wamid.2", "text"),
    ]
    assert parsed.messages[0].payload["contact"]["profile"] == {"name": "Aigul"}
    assert parsed.messages[0].payload["sender"] == "77011234567"


def test_a_sender_without_wa_id_is_known_by_the_business_scoped_user_id() -> None:
    message = text(sender="")
    message["from_user_id"] = "US.13491208655302741918"
    parsed = parse_envelope(envelope(value([message], contacts=[])))
    assert parsed.messages[0].sender == BSUID_PREFIX + "US.13491208655302741918"


def test_statuses_with_errors_are_read_and_group_messages_ignored() -> None:
    statuses = [
        {
            "id": "wamid.out1",
            "status": "delivered",
            "timestamp": "1795000001",
            "recipient_id": "7701",
        },
        {
            "id": "wamid.out2",
            "status": "failed",
            "timestamp": "1795000002",
            "recipient_id": "7701",
            "errors": [{"code": 131047, "title": "Re-engagement message"}],
        },
        {"status": "read"},
    ]
    parsed = parse_envelope(envelope(value([text(group_id="G1")], statuses=statuses)))
    assert parsed.messages == []
    assert [(s.message_id, s.status, s.error_code) for s in parsed.statuses] == [
        ("wamid.out1", "delivered", None),
        ("wamid.out2", "failed", 131047),
    ]
    assert parsed.statuses[1].error_title == "Re-engagement message"
    assert parsed.ignored == ["a group message", "a status without id or status"]


def test_other_fields_are_ignored_not_refused() -> None:
    parsed = parse_envelope(envelope({"event": "APPROVED"}, field="message_template_status_update"))
    assert parsed.messages == [] and parsed.ignored == ["field message_template_status_update"]


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account", "entry": {"id": 1}},
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": {}}]}],
        },
        envelope({"metadata": {"phone_number_id": ""}, "messages": []}),
        envelope({"metadata": {"phone_number_id": "1"}, "messages": "hi"}),
    ],
)
def test_what_is_not_an_envelope_is_malformed(document: object) -> None:
    with pytest.raises(MalformedEnvelope):
        parse_envelope(document)
