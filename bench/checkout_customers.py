"""Customers of the checkout race: each taken to the order summary through the webhook,
then all of them pressing Confirm at once.

Replies are read from the in-process fake Bot API: a chat's messages by `chat_id`, the
answer to a button press by its `callback_query_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from souk.web import SECRET_HEADER
from tests.fakes.telegram_api import FakeBotAPI, RecordedCall
from tests.fixtures.telegram import callback, contact, message

Update = dict[str, Any]

SOLD_OUT = "has just sold out"  # the English alert of OutOfStock with nothing left
PLACED = "is placed"  # the edit that replaces the summary once the order is placed


@dataclass(frozen=True)
class Webhook:
    """`POST /webhook/telegram/{bot_id}` of the `souk serve` under test."""

    http: aiohttp.ClientSession
    url: str
    secret: str

    async def post(self, update: Update) -> None:
        headers = {SECRET_HEADER: self.secret, "Content-Type": "application/json"}
        body = json.dumps(update).encode()
        async with self.http.post(self.url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"webhook answered {response.status} to {update}")


class Customer:
    """One customer (a distinct Telegram user) in a private chat with the shop's bot."""

    def __init__(
        self, *, webhook: Webhook, api: FakeBotAPI, bot_id: int, user_id: int, timeout: float
    ) -> None:
        self.webhook, self.api, self.bot_id, self.user_id = webhook, api, bot_id, user_id
        self.timeout = timeout
        self.confirm_data = ""
        self.summary_message_id = 0
        self.confirm_query_id = ""

    def sent(self, method: str) -> list[RecordedCall]:
        """The bot's successful calls of `method` into this chat, oldest first."""
        return [c for c in self.api.calls(method, chat_id=self.user_id) if c.bot_id == self.bot_id]

    def answer(self, query_id: str) -> RecordedCall | None:
        """The bot's answer to the button press `query_id`, if it came."""
        return answer_to(self.api, self.bot_id, query_id)

    async def _until(self, predicate: Callable[[], bool], step: str) -> None:
        try:
            await self.api.wait_for(lambda _: predicate(), timeout=self.timeout)
        except TimeoutError as error:
            raise TimeoutError(f"customer {self.user_id}: no reply to {step}") from error

    async def _say(self, update: Update, *, replies: int, step: str) -> RecordedCall:
        """Post `update`, wait for `replies` new messages in the chat; the last one."""
        before = len(self.sent("sendMessage"))
        await self.webhook.post(update)
        await self._until(lambda: len(self.sent("sendMessage")) >= before + replies, step)
        return self.sent("sendMessage")[-1]

    async def _press(self, data: str, *, message_id: int) -> RecordedCall:
        """Press the button `data` on message `message_id`; the bot's answer to the press."""
        update = callback(self.user_id, data, message_id=message_id)
        query_id = str(update["callback_query"]["id"])
        await self.webhook.post(update)
        await self._until(lambda: self.answer(query_id) is not None, data)
        answer = self.answer(query_id)
        assert answer is not None
        return answer

    async def to_summary(self, product_id: int) -> None:
        """Cart, /checkout, pickup, the shared contact: up to the summary and its Confirm."""
        added = await self._press(f"cart:add:{product_id}", message_id=1)
        if added.params.get("show_alert"):
            raise RuntimeError(f"customer {self.user_id}: not added: {added.params.get('text')}")
        start = await self._say(message(self.user_id, "/checkout"), replies=1, step="/checkout")
        if "ship:pickup" not in button_data(start):
            raise RuntimeError(f"customer {self.user_id}: no pickup in {start.params}")
        shipping_message = len(self.sent("sendMessage"))  # the fake numbers a chat's messages
        await self._press("ship:pickup", message_id=shipping_message)
        await self._until(
            lambda: len(self.sent("sendMessage")) > shipping_message, "the contact prompt"
        )
        summary = await self._say(
            contact(self.user_id, "+44 20 7946 0958"), replies=2, step="the contact"
        )
        confirms = [data for data in button_data(summary) if data.startswith("confirm:cod:")]
        if not confirms:
            raise RuntimeError(f"customer {self.user_id}: no Confirm in {summary.params}")
        self.confirm_data = confirms[0]
        self.summary_message_id = len(self.sent("sendMessage"))

    def confirm_update(self) -> Update:
        """The press on Confirm of the summary (remembered, to find its answer)."""
        update = callback(self.user_id, self.confirm_data, message_id=self.summary_message_id)
        self.confirm_query_id = str(update["callback_query"]["id"])
        return update

    def placed(self) -> bool:
        """Whether the summary was replaced by 'Order #... is placed'."""
        return any(PLACED in str(edit.params.get("text")) for edit in self.sent("editMessageText"))


def answer_to(api: FakeBotAPI, bot_id: int, query_id: str) -> RecordedCall | None:
    return answers_by_query(api, bot_id).get(query_id)


def answers_by_query(api: FakeBotAPI, bot_id: int) -> dict[str, RecordedCall]:
    """The bot's first answer to each button press, by `callback_query_id`."""
    answers: dict[str, RecordedCall] = {}
    for call in api.calls("answerCallbackQuery"):
        if call.bot_id == bot_id:
            answers.setdefault(str(call.params.get("callback_query_id")), call)
    return answers


def button_data(call: RecordedCall) -> list[str]:
    """The callback data of every inline button of a sent message."""
    markup = call.params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", [])
    return [str(button.get("callback_data")) for row in rows for button in row]


async def drive_to_summary(customers: list[Customer], product_id: int, concurrency: int) -> None:
    """Every customer to the summary, `concurrency` of them at a time."""
    slots = asyncio.Semaphore(concurrency)

    async def drive(customer: Customer) -> None:
        async with slots:
            await customer.to_summary(product_id)

    await asyncio.gather(*(drive(customer) for customer in customers))


@dataclass(frozen=True)
class RaceAnswers:
    """How the bot answered the Confirm presses of one race."""

    answers: dict[int, RecordedCall]  # user id -> the answer to their Confirm
    first_post: float  # time.monotonic(), as the fake's `RecordedCall.at`
    seconds: float  # first Confirm posted -> last answer recorded


async def race(webhook: Webhook, customers: list[Customer], *, within: float) -> RaceAnswers:
    """Post every customer's Confirm at once; wait (up to `within` s) for all answers."""
    updates = [customer.confirm_update() for customer in customers]
    api = customers[0].api
    first_post = time.monotonic()
    await asyncio.gather(*(webhook.post(update) for update in updates))

    def answered() -> dict[int, RecordedCall]:
        by_query = answers_by_query(api, customers[0].bot_id)
        return {
            c.user_id: by_query[c.confirm_query_id]
            for c in customers
            if c.confirm_query_id in by_query
        }

    with contextlib.suppress(TimeoutError):  # the missing answers are counted: a FAIL
        await api.wait_for(lambda _: len(answered()) == len(customers), timeout=within)
    answers = answered()
    last = max((call.at for call in answers.values()), default=first_post)
    return RaceAnswers(answers, first_post, last - first_post)
