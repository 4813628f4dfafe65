"""What a webhook benchmark posts, and where it sees the replies: one class per platform.

A channel builds the updates its webhook takes (a body and the headers that
authenticate it, ready before the clock starts) and finds the first reply to each user
among the requests its in-process fake recorded (`at`: this process's monotonic clock,
comparable with the time an update was posted).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from souk.channels.whatsapp_intake import SIGNATURE_HEADER
from souk.web import SECRET_HEADER
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.whatsapp_api import FakeWhatsAppAPI
from tests.fakes.whatsapp_webhooks import sign, text_message
from tests.fixtures.telegram import message

_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Update:
    """One webhook POST: the user it comes from, its body and its headers."""

    user: int  # the chat id on Telegram, the wa_id's digits on WhatsApp
    body: bytes
    headers: Mapping[str, str]


class Channel(Protocol):
    """A platform as the load sees it."""

    def updates(self, count: int, *, first_user: int, text: str) -> list[Update]:
        """One message from each of `count` distinct users, `first_user` onwards."""
        ...

    def replies(self, users: Iterable[int]) -> dict[int, float]:
        """user -> when the fake recorded the first successful reply to them."""
        ...

    def reset(self) -> None:
        """Forget what the fake recorded."""
        ...


class TelegramChannel:
    """Bot API updates with the webhook's secret token; replies are sendMessage calls."""

    def __init__(self, api: FakeBotAPI, secret: str) -> None:
        self._api = api
        self._headers = {SECRET_HEADER: secret, **_JSON}

    def updates(self, count: int, *, first_user: int, text: str) -> list[Update]:
        """Each text gets its index appended ("/help 7": a command's arguments)."""
        return [
            Update(
                user_id,
                json.dumps(
                    message(user_id, f"{text} {index}", update_id=first_user + index)
                ).encode(),
                self._headers,
            )
            for index, user_id in enumerate(range(first_user, first_user + count))
        ]

    def replies(self, users: Iterable[int]) -> dict[int, float]:
        wanted = set(users)
        seen: dict[int, float] = {}
        for call in self._api.calls("sendMessage"):
            chat_id = call.params.get("chat_id")
            if isinstance(chat_id, int) and chat_id in wanted and chat_id not in seen:
                seen[chat_id] = call.at
        return seen

    def reset(self) -> None:
        self._api.reset()


class WhatsAppChannel:
    """Cloud API webhook payloads signed with the app secret (X-Hub-Signature-256), the
    user's number being the wa_id; replies are accepted sends to that number."""

    def __init__(self, api: FakeWhatsAppAPI, phone_number_id: str, app_secret: str) -> None:
        self._api = api
        self._number = phone_number_id
        self._secret = app_secret

    def updates(self, count: int, *, first_user: int, text: str) -> list[Update]:
        """The text as it is: a command word ("help") is a command only when bare."""
        built = []
        for user_id in range(first_user, first_user + count):
            body = json.dumps(
                text_message(self._number, str(user_id), text, name=f"User {user_id}")
            ).encode()
            headers = {SIGNATURE_HEADER: sign(body, self._secret), **_JSON}
            built.append(Update(user_id, body, headers))
        return built

    def replies(self, users: Iterable[int]) -> dict[int, float]:
        wanted = set(users)
        seen: dict[int, float] = {}
        for call in self._api.calls(self._number, endpoint="messages", ok_only=True):
            recipient = call.recipient
            if recipient is None or not recipient.isdigit():
                continue
            user = int(recipient)
            if user in wanted and user not in seen:
                seen[user] = call.at
        return seen

    def reset(self) -> None:
        self._api.reset()
