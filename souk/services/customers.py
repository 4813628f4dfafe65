"""Customers and staff as seen from an incoming update."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Select, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import ChannelKind, Customer, ShopChannel, Staff, StaffRole

SUPPORTED_LANGUAGES = ("en", "ru", "ar")


def normalize_language(code: str | None) -> str | None:
    """'ru-RU' -> 'ru'; a language we do not speak -> None."""
    if not code:
        return None
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in SUPPORTED_LANGUAGES else None


@dataclass(frozen=True)
class Person:
    """Who sent an update: the customer row and, if they work for the shop, their role."""

    customer_id: int
    language: str | None
    blocked: bool
    opted_in: bool
    staff_role: StaffRole | None


def _touch_statement() -> Select[int, str | None, bool, bool, StaffRole | None]:
    """Upsert the customer and read their staff role in one round trip."""
    upsert = insert(Customer).values(
        shop_id=bindparam("shop_id"),
        channel=bindparam("channel"),
        external_id=bindparam("external_id"),
        name=bindparam("name"),
        username=bindparam("username"),
        last_seen_at=func.now(),
    )
    touched = upsert.on_conflict_do_update(
        index_elements=[Customer.shop_id, Customer.channel, Customer.external_id],
        set_={
            "last_seen_at": func.now(),
            "name": upsert.excluded.name,
            "username": upsert.excluded.username,
            "blocked": False,
        },
    ).returning(Customer.id, Customer.language, Customer.blocked, Customer.opted_in)
    customer = touched.cte("touched")
    role = (
        select(Staff.role)
        .where(
            Staff.shop_id == bindparam("shop_id"),
            Staff.telegram_user_id == bindparam("telegram_user_id", type_=BigInteger),
        )
        .scalar_subquery()
    )
    return select(customer.c.id, customer.c.language, customer.c.blocked, customer.c.opted_in, role)


# Built once: on the hot path, building a statement costs more than running it.
_TOUCH = _touch_statement()


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
    ) -> Person:
        """Upsert the customer (last seen now; a blocked one who writes is reachable again)."""
        connection = await self._session.connection()  # Core: no ORM work for a plain row
        row = (
            await connection.execute(
                _TOUCH,
                {
                    "shop_id": shop_id,
                    "channel": channel,
                    "external_id": external_id,
                    "name": name,
                    "username": username,
                    "telegram_user_id": telegram_user_id,
                },
            )
        ).one()
        customer_id, language, blocked, opted_in, role = row
        return Person(customer_id, language, blocked, opted_in, role)

    async def set_language(self, customer_id: int, language: str) -> None:
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        await self._session.execute(
            update(Customer).where(Customer.id == customer_id).values(language=language)
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
