"""Filters that run on the event loop.

aiogram runs every filter that is not a coroutine function, such as a bare `State` or an
`F` expression, through `asyncio.to_thread`. That means a thread hop for each update
that reaches the filter, and most updates pass the filters of many handlers before
they find their own. Handlers therefore write `StateFilter(state)` instead of `state`
and `Matches(F...)` instead of `F...`. tests/channels/test_routing.py checks that no
registered filter or handler is synchronous.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Matches(Filter):
    """An `F` expression evaluated inline."""

    def __init__(self, magic: MagicFilter) -> None:
        self._magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self._magic.resolve(event))


# Text that is not a command: what a customer types when asked for something.
PLAIN_TEXT = Matches(F.text & ~F.text.startswith("/"))
