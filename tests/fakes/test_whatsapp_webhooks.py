"""Tests of the webhook payload builders and the signature helper of the fake WhatsApp API."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes import whatsapp_webhooks as wh

PNID = "106540352242922"
USER = "16505551234"
BSUID = "US.13491208655302741918"

Json = dict[str, Any]


def _value(payload: Json) -> Json:
    assert payload["object"] == "whatsapp_business_account"
    (entry,) = payload["entry"]
    assert entry["id"] == wh.WABA_ID
    (change,) = entry["changes"]
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {
        "display_phone_number": wh.DISPLAY_PHONE_NUMBER,
        "phone_number_id": PNID,
    }
    assert change["field"] in ("messages", "user_preferences")
    return value  # type: ignore[no-any-return]


def _message(payload: Json, kind: str) -> Json:
    value = _value(payload)
    (contact,) = value["contacts"]
    assert contact["wa_id"] == USER and contact["profile"]["name"]
    (message,) = value["messages"]
    assert (message["from"], message["type"]) == (USER, kind)
    assert message["id"].startswith("wamid.") and message["timestamp"].isdigit()
    return message  # type: ignore[no-any-return]


def test_message_builders() -> None:
    builders: list[tuple[str, Callable[[], Json]]] = [
        ("text", lambda: wh.text_message(PNID, USER, "hi", timestamp=1749416383)),
        ("interactive", lambda: wh.button_reply(PNID, USER, "wamid.B", "buy:1", "Buy")),
        ("interactive", lambda: wh.list_reply(PNID, USER, "wamid.L", "r1", "Tea", "Green")),
        ("location", lambda: wh.location(PNID, USER, 25.2, 55.3, place="Shop", address="Main")),
        ("contacts", lambda: wh.contacts(PNID, USER, "Ann Lee", "+971500000000")),
        ("image", lambda: wh.image(PNID, USER, "4490", sha256="ab", caption="this one")),
        ("sticker", lambda: wh.sticker(PNID, USER, "4491", sha256="cd")),
        ("unsupported", lambda: wh.unsupported(PNID, USER)),
    ]
    messages = [_message(build(), kind) for kind, build in builders]
    assert messages[0]["text"] == {"body": "hi"} and messages[0]["timestamp"] == "1749416383"
    assert messages[1]["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "buy:1", "title": "Buy"},
    }
    assert messages[1]["context"] == {"from": wh.DISPLAY_PHONE_NUMBER, "id": "wamid.B"}
    assert messages[2]["interactive"]["list_reply"] == {
        "id": "r1",
        "title": "Tea",
        "description": "Green",
    }
    assert messages[3]["location"]["name"] == "Shop"
    assert messages[4]["contacts"][0]["phones"][0]["phone"] == "+971500000000"
    assert messages[5]["image"] == {
        "mime_type": "image/jpeg",
        "sha256": "ab",
        "id": "4490",
        "caption": "this one",
    }
    assert messages[6]["sticker"]["mime_type"] == "image/webp"
    assert messages[7]["errors"][0]["code"] == 131051
    assert len({m["id"] for m in messages}) == len(messages)
    bsuid_only = _value(wh.text_message(PNID, None, "hi", user_id=BSUID, username="sheena"))
    assert bsuid_only["contacts"] == [
        {"profile": {"name": "Customer", "username": "sheena"}, "user_id": BSUID}
    ]
    assert "from" not in bsuid_only["messages"][0]
    assert bsuid_only["messages"][0]["from_user_id"] == BSUID
    with pytest.raises(ValueError, match="wa_id, a user_id"):
        wh.text_message(PNID, None, "who?")
    stop = _value(wh.user_preferences(PNID, USER, "stop"))
    assert stop["user_preferences"][0]["value"] == "stop"


def test_status_builders() -> None:
    for status in ("sent", "delivered", "read"):
        (entry,) = _value(wh.statuses(PNID, "wamid.X", USER, status))["statuses"]
        assert (entry["id"], entry["status"], entry["recipient_id"]) == ("wamid.X", status, USER)
        assert "errors" not in entry
    failed = wh.statuses(PNID, "wamid.X", USER, "failed", errors=[131047, (131000, "Oops")])
    (entry,) = _value(failed)["statuses"]
    assert [(e["code"], e["title"]) for e in entry["errors"]] == [
        (131047, "Re-engagement message"),
        (131000, "Oops"),
    ]
    assert "24 hours" in entry["errors"][0]["error_data"]["details"]
    default = wh.statuses(PNID, "wamid.X", USER, "failed")
    assert _value(default)["statuses"][0]["errors"][0]["code"] == 131000
    with pytest.raises(ValueError, match="only a failed status"):
        wh.statuses(PNID, "wamid.X", USER, "read", errors=[131000])


def test_signature_verifies() -> None:
    body = json.dumps(wh.text_message(PNID, USER, "hi")).encode()
    signature = wh.sign(body, "app-secret")
    algorithm, _, digest = signature.partition("=")
    expected = hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert algorithm == "sha256" and hmac.compare_digest(digest, expected)
    assert wh.sign(body + b" ", "app-secret") != signature
    assert wh.sign(body, "other-secret") != signature
    assert wh.verification_query("vt", "42") == {
        "hub.mode": "subscribe",
        "hub.verify_token": "vt",
        "hub.challenge": "42",
    }
