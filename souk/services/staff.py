"""Staff of a shop: one-time invite links, roles, the shop PIN."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Shop, Staff, StaffInvite, StaffRole
from souk.errors import InvalidInput

_PIN_DIGITS = (4, 8)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invite:
    token: str  # shown once; only its hash is stored
    role: StaffRole
    expires_at: datetime

    @property
    def start_payload(self) -> str:
        return f"i_{self.token}"


class StaffService:
    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self._session = session
        self._shop_id = shop_id

    async def invite(self, role: StaffRole, *, valid_for: timedelta, now: datetime) -> Invite:
        """A new one-time invite for `role`."""
        token = secrets.token_urlsafe(24)  # 32 characters: the payload stays under 64
        expires_at = now + valid_for
        self._session.add(
            StaffInvite(
                shop_id=self._shop_id,
                token_hash=_token_hash(token),
                role=role,
                expires_at=expires_at,
            )
        )
        await self._session.flush()
        return Invite(token, role, expires_at)

    async def redeem(
        self,
        token: str,
        *,
        telegram_user_id: int,
        name: str | None,
        language: str | None,
        now: datetime,
    ) -> StaffRole | None:
        """Use the invite (once, before it expires) to make this user staff with its
        role; None for an unknown, used or expired invite."""
        role: StaffRole | None = await self._session.scalar(
            update(StaffInvite)
            .where(
                StaffInvite.shop_id == self._shop_id,
                StaffInvite.token_hash == _token_hash(token),
                StaffInvite.used_at.is_(None),
                StaffInvite.expires_at > now,
            )
            .values(used_at=now, used_by=telegram_user_id)
            .returning(StaffInvite.role)
        )
        if role is None:
            return None
        await self._session.execute(
            insert(Staff)
            .values(
                shop_id=self._shop_id,
                telegram_user_id=telegram_user_id,
                role=role,
                name=name,
                language=language,
            )
            .on_conflict_do_update(
                index_elements=[Staff.shop_id, Staff.telegram_user_id],
                set_={"role": role, "name": name},
            )
        )
        return role

    async def members(self) -> list[Staff]:
        found = await self._session.scalars(
            select(Staff).where(Staff.shop_id == self._shop_id).order_by(Staff.id)
        )
        return list(found)

    async def set_pin(self, pin: str) -> None:
        digits = pin.strip()
        low, high = _PIN_DIGITS
        if not (digits.isascii() and digits.isdigit() and low <= len(digits) <= high):
            raise InvalidInput(f"a PIN is {low} to {high} digits")
        await self._session.execute(
            update(Shop).where(Shop.id == self._shop_id).values(pin_hash=_hash_pin(digits))
        )

    async def has_pin(self) -> bool:
        stored = await self._session.scalar(select(Shop.pin_hash).where(Shop.id == self._shop_id))
        return stored is not None

    async def pin_matches(self, pin: str) -> bool:
        stored = await self._session.scalar(select(Shop.pin_hash).where(Shop.id == self._shop_id))
        return stored is not None and _check_pin(pin.strip(), stored)


# scrypt with a per-PIN salt: a PIN has few digits, so the hash must be slow to try.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _check_pin(pin: str, stored: str) -> bool:
    scheme, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


class PinGuard:
    """Counts wrong PINs per shop and staff member in Redis; too many lock the PIN."""

    def __init__(self, redis: Redis, *, attempts: int, lock_seconds: int) -> None:
        self._redis = redis
        self._attempts = attempts
        self._lock_seconds = lock_seconds

    def _key(self, shop_id: int, telegram_user_id: int) -> str:
        return f"souk:pin-fails:{shop_id}:{telegram_user_id}"

    async def locked_for(self, shop_id: int, telegram_user_id: int) -> int:
        """Seconds until the PIN may be tried again (0: now)."""
        key = self._key(shop_id, telegram_user_id)
        fails = int(await self._redis.get(key) or 0)
        if fails < self._attempts:
            return 0
        return max(1, int(await self._redis.ttl(key)))

    async def failed(self, shop_id: int, telegram_user_id: int) -> int:
        """Count a wrong PIN; the tries left (0: now locked)."""
        key = self._key(shop_id, telegram_user_id)
        fails = int(await self._redis.incr(key))
        await self._redis.expire(key, self._lock_seconds)
        return max(0, self._attempts - fails)

    async def succeeded(self, shop_id: int, telegram_user_id: int) -> None:
        await self._redis.delete(self._key(shop_id, telegram_user_id))
