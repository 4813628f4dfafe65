"""Customers and staff as seen from an incoming update."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import ChannelKind, Customer, ShopChannel, StaffRole
from souk.db.session import driver
from souk.languages import LANGUAGES, normalize_language
from souk.services.search_filters import NATIVE_DIGITS


@dataclass(frozen=True)
class Person:
    """Who sent an update: the customer row and, if they work for the shop, their role."""

    customer_id: int
    language: str | None
    blocked: bool
    opted_in: bool
    staff_role: StaffRole | None
    conversation_id: int | None = None
    human_mode: bool = False  # a person of the shop answers them: the bot keeps quiet
    answered_by: int | None = None  # the staff member who answered last in human mode


# Runs on every update, so it goes to the driver in one round trip (docs/architecture.md).
_TOUCH = """
WITH touched AS (
    INSERT INTO customers
        (shop_id, channel, external_id, name, username, client_language, last_seen_at)
    VALUES ($1, $2, $3, $4, $5, $7, now())
    ON CONFLICT (shop_id, channel, external_id) DO UPDATE
    SET last_seen_at = now(), name = excluded.name, username = excluded.username,
        client_language = coalesce(excluded.client_language, customers.client_language),
        blocked = false
    RETURNING id, language, blocked, opted_in
), started AS (
    -- A conversation made meanwhile by another transaction is in neither branch below
    -- (the statement's snapshot predates it): hence the LEFT JOIN.
    INSERT INTO conversations (shop_id, customer_id) SELECT $1, id FROM touched
    ON CONFLICT (customer_id) DO NOTHING
    RETURNING id, mode, staff_telegram_id
), conversation AS (
    SELECT id, mode, staff_telegram_id FROM started
    UNION ALL
    SELECT c.id, c.mode, c.staff_telegram_id FROM conversations AS c, touched
    WHERE c.customer_id = touched.id
)
SELECT touched.id, touched.language, touched.blocked, touched.opted_in,
       (SELECT role FROM staff WHERE shop_id = $1 AND telegram_user_id = $6),
       conversation.id, coalesce(conversation.mode = 'human', false),
       conversation.staff_telegram_id
FROM touched LEFT JOIN conversation ON true
"""

_ENSURE = """
INSERT INTO customers (shop_id, channel, external_id, last_seen_at) VALUES ($1, $2, $3, now())
ON CONFLICT (shop_id, channel, external_id) DO UPDATE SET last_seen_at = now()
RETURNING id
"""


class CustomerService:
    """Finds or creates the customer behind an update; language and reachability."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def touch(
        self,
        *,
        shop_id: int,
        channel: ChannelKind,
        external_id: str,
        name: str | None,
        username: str | None,
        telegram_user_id: int | None,
        client_language: str | None = None,
    ) -> Person:
        """Upsert the customer (last seen now; a blocked one who writes is reachable again)
        and their conversation, whose mode the takeover pause needs: one round trip."""
        database = await driver(await self._session.connection())
        row = await database.fetchrow(
            _TOUCH,
            shop_id,
            channel.value,
            external_id,
            name,
            username,
            telegram_user_id,
            normalize_language(client_language),
        )
        return Person(
            row[0],
            row[1],
            row[2],
            row[3],
            StaffRole(row[4]) if row[4] else None,
            conversation_id=row[5],
            human_mode=row[6],
            answered_by=row[7],
        )

    async def ensure(self, *, shop_id: int, channel: ChannelKind, external_id: str) -> int:
        """The id of the customer with this platform id, created if new (the WhatsApp
        bridge needs it before the update exists: it plays the user and chat id)."""
        database = await driver(await self._session.connection())
        found = await database.fetchval(_ENSURE, shop_id, channel.value, external_id)
        return int(found)

    async def external_id(self, customer_id: int, channel: ChannelKind) -> str | None:
        """The platform's id of a customer of `channel` (where to send them messages)."""
        return await self._session.scalar(
            select(Customer.external_id).where(
                Customer.id == customer_id, Customer.channel == channel
            )
        )

    async def set_language(self, customer_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        await self._session.execute(
            update(Customer).where(Customer.id == customer_id).values(language=language)
        )

    async def phone(self, customer_id: int) -> str | None:
        return await self._session.scalar(select(Customer.phone).where(Customer.id == customer_id))

    async def set_phone(self, customer_id: int, phone: str) -> None:
        await self._session.execute(
            update(Customer).where(Customer.id == customer_id).values(phone=phone)
        )

    async def set_cart_reminders(self, customer_id: int, *, enabled: bool) -> None:
        await self._session.execute(
            update(Customer).where(Customer.id == customer_id).values(cart_reminders=enabled)
        )

    async def set_campaigns(self, customer_id: int, *, subscribed: bool, now: datetime) -> None:
        """Opt the customer back in to campaigns, or out of them from `now` on (kept from
        the first time they opted out)."""
        opted_out = None if subscribed else func.coalesce(Customer.campaigns_opted_out_at, now)
        await self._session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(campaigns_opted_out_at=opted_out)
        )

    async def set_reachable(self, customer_id: int, *, reachable: bool) -> None:
        """Record that the customer blocked (or unblocked) the bot."""
        await self._session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(blocked=not reachable, blocked_at=None if reachable else func.now())
        )

    async def mark_unreachable(
        self, *, channel: ChannelKind, receiver: str, external_id: str
    ) -> int:
        """The platform said this user blocked us: stop sending to them. Returns rows changed."""
        shop_ids = select(ShopChannel.shop_id).where(
            ShopChannel.kind == channel, ShopChannel.external_id == receiver
        )
        result = await self._session.execute(
            update(Customer)
            .where(
                Customer.channel == channel,
                Customer.external_id == external_id,
                Customer.shop_id.in_(shop_ids),
                Customer.blocked.is_(False),
            )
            .values(blocked=True, blocked_at=func.now())
        )
        return int(getattr(result, "rowcount", 0) or 0)


_PHONE_DECORATION = re.compile(r"[\s().\-‐‑–]")


def normalize_phone(raw: str) -> str | None:
    """'+7 (701) 123-45-67' -> '+77011234567'; None unless it is 8-15 digits (E.164)."""
    text = _PHONE_DECORATION.sub("", raw.strip().translate(NATIVE_DIGITS))
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = text.removeprefix("+")
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15:
        return None
    return "+" + digits
