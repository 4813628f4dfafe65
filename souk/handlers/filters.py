"""Filters shared by the handlers of several roles."""

from __future__ import annotations

from aiogram.types import Message


def not_command(message: Message) -> bool:
    """For steps that wait for a message: a command typed meanwhile goes to its own handler."""
    return not (message.text or "").startswith("/")
