"""The language of each update: the customer's choice, else their client's, else English."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from souk.languages import DEFAULT_LANGUAGE, normalize_language
from souk.services.customers import Person


class LanguageMiddleware(I18nMiddleware):
    """Registered on every event observer (errors included) with `setup(dispatcher)`."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        person: Person | None = data.get("person")
        if person is not None and person.language:
            return person.language
        user: User | None = data.get("event_from_user")
        return normalize_language(user.language_code if user else None) or DEFAULT_LANGUAGE
