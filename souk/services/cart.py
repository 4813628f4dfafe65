"""A customer's cart in one shop, kept across sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Cart, CartItem, Product
from souk.errors import InvalidInput, NotFoundError
from souk.services.search_filters import NATIVE_DIGITS

# More than any shop stocks of one thing, small enough to stay an int everywhere.
_MOST = 1_000_000
_QUANTITY = re.compile(r"^\s*([-−]?)\s*(\d+)\s*$")


def parse_quantity(text: str) -> int | None:
    """'3' -> 3, '٣' -> 3, ' -2 ' -> -2, '99999999999' -> a million; None unless it is a
    whole number."""
    match = _QUANTITY.match(text.translate(NATIVE_DIGITS))
    if match is None:
        return None
    value = min(int(match.group(2)), _MOST)
    return -value if match.group(1) else value


class NotEnoughStock(InvalidInput):
    """More was asked for than the shop has; `available` says how many there are."""

    def __init__(self, available: int) -> None:
        super().__init__(f"only {available} in stock")
        self.available = available


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def total(self) -> Decimal:
        return self.product.price * self.quantity


@dataclass(frozen=True)
class CartView:
    """The cart as it can be bought now; `dropped` counts lines whose product is gone."""

    lines: list[CartLine]
    dropped: int

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0"))

    @property
    def currency(self) -> str | None:
        return self.lines[0].product.currency if self.lines else None


class CartService:
    """Adds, changes and removes lines; quantities are checked against the stock now."""

    def __init__(self, session: AsyncSession, *, shop_id: int, customer_id: int) -> None:
        self._session = session
        self._shop_id = shop_id
        self._customer_id = customer_id

    async def _touched_cart_id(self) -> int:
        """The cart's id, created if needed, in one statement. A changed cart may be
        reminded about again, so the reminder mark is cleared."""
        cart_id: int | None = await self._session.scalar(
            insert(Cart)
            .values(shop_id=self._shop_id, customer_id=self._customer_id)
            .on_conflict_do_update(
                index_elements=[Cart.customer_id],
                set_={"reminded_at": None, "updated_at": func.now()},
            )
            .returning(Cart.id)
        )
        assert cart_id is not None
        return cart_id

    async def _product(self, product_id: int) -> Product:
        product = await self._session.scalar(
            select(Product).where(
                Product.id == product_id,
                Product.shop_id == self._shop_id,
                Product.is_active.is_(True),
            )
        )
        if product is None:
            raise NotFoundError("this product is no longer available")
        return product

    async def line(self, product_id: int) -> CartLine | None:
        """The cart's line of this product, if it is in the cart and still sold."""
        row = (
            await self._session.execute(
                select(CartItem.quantity, Product)
                .join(Cart, Cart.id == CartItem.cart_id)
                .join(Product, Product.id == CartItem.product_id)
                .where(
                    Cart.customer_id == self._customer_id,
                    CartItem.product_id == product_id,
                    Product.is_active.is_(True),
                )
            )
        ).one_or_none()
        return None if row is None else CartLine(row[1], row[0])

    async def quantity(self, product_id: int) -> int:
        found = await self._session.scalar(
            select(CartItem.quantity)
            .join(Cart, Cart.id == CartItem.cart_id)
            .where(Cart.customer_id == self._customer_id, CartItem.product_id == product_id)
        )
        return found or 0

    async def set_quantity(self, product_id: int, quantity: int) -> CartLine | None:
        """Set a line's quantity (0 removes it); returns the line, or None once removed."""
        if quantity < 0:
            raise InvalidInput("a quantity cannot be negative")
        if quantity == 0:
            await self.remove(product_id)
            return None
        product = await self._product(product_id)
        if quantity > product.stock:
            raise NotEnoughStock(product.stock)
        cart_id = await self._touched_cart_id()
        await self._session.execute(
            insert(CartItem)
            .values(cart_id=cart_id, product_id=product_id, quantity=quantity)
            .on_conflict_do_update(
                index_elements=[CartItem.cart_id, CartItem.product_id],
                set_={"quantity": quantity},
            )
        )
        return CartLine(product, quantity)

    async def add(self, product_id: int, quantity: int = 1) -> CartLine:
        """Add to a line (creating it); returns the line as it is now."""
        if quantity <= 0:
            raise InvalidInput("a quantity must be at least 1")
        line = await self.set_quantity(product_id, await self.quantity(product_id) + quantity)
        assert line is not None
        return line

    async def remove(self, *product_ids: int) -> None:
        """Remove these products' lines."""
        cart_ids = select(Cart.id).where(Cart.customer_id == self._customer_id)
        await self._session.execute(
            delete(CartItem).where(
                CartItem.cart_id.in_(cart_ids), CartItem.product_id.in_(product_ids)
            )
        )

    async def clear(self) -> None:
        cart_ids = select(Cart.id).where(Cart.customer_id == self._customer_id)
        await self._session.execute(delete(CartItem).where(CartItem.cart_id.in_(cart_ids)))

    async def view(self) -> CartView:
        """The lines that can still be bought; lines of products taken off sale are dropped."""
        rows = await self._session.execute(
            select(CartItem, Product)
            .join(Cart, Cart.id == CartItem.cart_id)
            .join(Product, Product.id == CartItem.product_id)
            .where(Cart.customer_id == self._customer_id)
            .order_by(CartItem.id)
        )
        lines, gone = [], []
        for item, product in rows:
            if product.is_active:
                lines.append(CartLine(product, item.quantity))
            else:
                gone.append(product.id)
        if gone:
            await self.remove(*gone)
        return CartView(lines, len(gone))
