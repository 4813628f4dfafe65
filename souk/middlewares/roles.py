"""Role guards for the seller and admin routers."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from souk.db.models import StaffRole
from souk.services.customers import Person


class IsStaff(Filter):
    """Passes for the shop's staff (any role, or only the roles given)."""

    def __init__(self, *roles: StaffRole) -> None:
        self._roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, person: Person | None = None, **_: Any) -> bool:
        if person is None or person.staff_role is None:
            return False
        return not self._roles or person.staff_role in self._roles


class IsAdmin(Filter):
    """Passes for platform admins (ADMIN_TELEGRAM_IDS)."""

    async def __call__(self, event: TelegramObject, is_admin: bool = False, **_: Any) -> bool:
        return is_admin
