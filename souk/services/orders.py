"""Orders: placed from the cart with the stock reserved and the prices re-checked in one
transaction; paid, cancelled, returned; every status change checked against what may
follow what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from babel.numbers import get_currency_precision
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import (
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    Product,
    ShippingOption,
    Shop,
    StockMovement,
    StockReason,
)
from souk.errors import ConflictError, InvalidInput, NotFoundError
from souk.services.cart import CartLine, CartService

# What each status may become. Stock goes back on the way to CANCELLED or REJECTED.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset(
        {OrderStatus.CONFIRMED, OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.REJECTED}
    ),
    OrderStatus.CONFIRMED: frozenset(
        {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.CANCELLED}
    ),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.RETURN_REQUESTED}),
    OrderStatus.RETURN_REQUESTED: frozenset({OrderStatus.RETURNED, OrderStatus.DELIVERED}),
    OrderStatus.RETURNED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
}
# Stock comes back on these: released reservations, or returned goods (at their cost).
_RESTOCKING = {
    OrderStatus.CANCELLED: StockReason.RELEASE,
    OrderStatus.REJECTED: StockReason.RELEASE,
    OrderStatus.RETURNED: StockReason.RETURN,
}
CANCELLABLE = frozenset(
    status for status, following in TRANSITIONS.items() if OrderStatus.CANCELLED in following
)
# Staff may take lines out of an accepted order until it ships (with the shop PIN).
EDITABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.PAID})


def cents(amount: Decimal) -> int:
    """A total as it travels in a button: whole minor units."""
    return int(amount * 100)


class EmptyCart(InvalidInput):
    """There is nothing to order."""


class OutOfStock(InvalidInput):
    """A line asks for more than the shop has now."""

    def __init__(self, product: Product, available: int) -> None:
        super().__init__(f"only {available} of {product.sku} in stock")
        self.product = product
        self.available = available


class PricesChanged(ConflictError):
    """The total differs from the one the customer confirmed; `quote` is the new one."""

    def __init__(self, quote: Quote) -> None:
        super().__init__("prices changed since the summary was shown")
        self.quote = quote


class StatusNotAllowed(ConflictError):
    """The order's status cannot change that way now (e.g. cancelling a shipped order)."""

    def __init__(self, order: Order, wanted: OrderStatus) -> None:
        super().__init__(f"order {order.number} is {order.status}, not {wanted}-able")
        self.order = order


@dataclass(frozen=True)
class Quote:
    """What the cart costs with a shipping option, at the prices of now."""

    lines: list[CartLine]
    shipping: ShippingOption

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping.price

    @property
    def currency(self) -> str:
        return self.lines[0].product.currency


@dataclass(frozen=True)
class StatusChange:
    order: Order
    previous: OrderStatus


@dataclass(frozen=True)
class LineChange:
    """A line of an order reduced by staff: `after` is 0 when it was removed."""

    order: Order
    title: str
    before: int
    after: int


class LastLine(InvalidInput):
    """Removing the only line would empty the order: that is a cancellation."""


@dataclass(frozen=True)
class Payment:
    """How a successful payment landed: `duplicate` if it was already recorded;
    `refund_due` if the order could not take it (cancelled meanwhile)."""

    order: Order
    duplicate: bool
    refund_due: bool


class OrderService:
    """One shop's orders."""

    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self._session = session
        self._shop_id = shop_id

    async def shipping_options(self) -> list[ShippingOption]:
        found = await self._session.scalars(
            select(ShippingOption)
            .where(ShippingOption.shop_id == self._shop_id, ShippingOption.is_active.is_(True))
            .order_by(ShippingOption.price, ShippingOption.id)
        )
        return list(found)

    async def shipping_option(self, code: str) -> ShippingOption:
        option = await self._session.scalar(
            select(ShippingOption).where(
                ShippingOption.shop_id == self._shop_id,
                ShippingOption.code == code,
                ShippingOption.is_active.is_(True),
            )
        )
        if option is None:
            raise NotFoundError(f"no shipping option {code!r}")
        return option

    async def quote(self, customer_id: int, shipping_code: str) -> Quote:
        cart = await CartService(
            self._session, shop_id=self._shop_id, customer_id=customer_id
        ).view()
        if not cart.lines:
            raise EmptyCart("the cart is empty")
        return Quote(cart.lines, await self.shipping_option(shipping_code))

    async def place(
        self,
        customer_id: int,
        *,
        shipping_code: str,
        phone: str,
        address: str | None,
        method: PaymentMethod,
        expected_total: int,
    ) -> Order:
        """Reserve the stock of every line, check the total against `expected_total` (in
        cents, as the customer saw it), number the order, empty the cart. All of it or
        nothing: a shortage or a price change undoes the reservations made so far."""
        async with self._session.begin_nested():
            quote = await self.quote(customer_id, shipping_code)
            now_priced: list[CartLine] = []
            # Rows are locked in id order, so two carts never wait on each other in a cycle.
            for line in sorted(quote.lines, key=lambda line: line.product.id):
                product = await self._reserve(line)
                now_priced.append(CartLine(product, line.quantity))
            fresh = Quote(now_priced, quote.shipping)
            if cents(fresh.total) != expected_total:
                raise PricesChanged(fresh)
            order = Order(
                shop_id=self._shop_id,
                customer_id=customer_id,
                number=await self._next_number(),
                status=OrderStatus.NEW,
                currency=fresh.currency,
                subtotal=fresh.subtotal,
                shipping_price=fresh.shipping.price,
                total=fresh.total,
                shipping_code=fresh.shipping.code,
                contact_phone=phone,
                address=address,
                payment_method=method,
            )
            self._session.add(order)
            await self._session.flush()
            for line in now_priced:
                product = line.product
                self._session.add_all(
                    [
                        OrderItem(
                            order_id=order.id,
                            product_id=product.id,
                            sku=product.sku,
                            title=product.title,
                            quantity=line.quantity,
                            unit_price=product.price,
                            unit_cost=product.cost,
                        ),
                        StockMovement(
                            shop_id=self._shop_id,
                            product_id=product.id,
                            delta=-line.quantity,
                            stock_after=product.stock,
                            reason=StockReason.RESERVE,
                            order_id=order.id,
                        ),
                    ]
                )
            await CartService(self._session, shop_id=self._shop_id, customer_id=customer_id).clear()
            await self._session.flush()
        return order

    async def _reserve(self, line: CartLine) -> Product:
        """Take the line's quantity off the stock if it is there (a conditional update:
        concurrent buyers queue on the row and re-check); the product as it is now."""
        reserved = await self._session.scalar(
            update(Product)
            .where(
                Product.id == line.product.id,
                Product.shop_id == self._shop_id,
                Product.is_active.is_(True),
                Product.stock >= line.quantity,
            )
            .values(stock=Product.stock - line.quantity)
            .returning(Product)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        if reserved is None:
            available = await self._session.scalar(
                select(Product.stock).where(
                    Product.id == line.product.id, Product.is_active.is_(True)
                )
            )
            raise OutOfStock(line.product, available or 0)
        return reserved

    async def _next_number(self) -> str:
        number = await self._session.scalar(
            update(Shop)
            .where(Shop.id == self._shop_id)
            .values(order_counter=Shop.order_counter + 1)
            .returning(Shop.order_counter)
        )
        assert number is not None
        return str(number)

    async def of_customer(self, customer_id: int, *, limit: int = 10) -> list[Order]:
        """The customer's latest orders, newest first."""
        found = await self._session.scalars(
            select(Order)
            .where(Order.shop_id == self._shop_id, Order.customer_id == customer_id)
            .order_by(Order.id.desc())
            .limit(limit)
        )
        return list(found)

    async def of_customer_by_number(self, customer_id: int, number: str) -> Order | None:
        """The customer's own order with this number (None if it is another's or none)."""
        return await self._session.scalar(
            select(Order).where(
                Order.shop_id == self._shop_id,
                Order.customer_id == customer_id,
                Order.number == number,
            )
        )

    async def of_shop(
        self, status: OrderStatus | None, *, limit: int, offset: int = 0
    ) -> list[Order]:
        """The shop's orders (of one status, if given), newest first."""
        statement = select(Order).where(Order.shop_id == self._shop_id)
        if status is not None:
            statement = statement.where(Order.status == status)
        found = await self._session.scalars(
            statement.order_by(Order.id.desc()).limit(limit).offset(offset)
        )
        return list(found)

    async def buyer(self, order: Order) -> str:
        """Who placed the order, as staff read it: 'Ann (@ann)'."""
        row = (
            await self._session.execute(
                select(Customer.name, Customer.username).where(Customer.id == order.customer_id)
            )
        ).one()
        name, username = row
        return " ".join(
            part for part in (name or "—", f"(@{username})" if username else "") if part
        )

    async def get(
        self, order_id: int, *, customer_id: int | None = None, lock: bool = False
    ) -> Order:
        """An order of this shop (and of this customer, if given); `lock` holds its row
        until the transaction ends, for a decision on what is true now."""
        statement = select(Order).where(Order.id == order_id, Order.shop_id == self._shop_id)
        if customer_id is not None:
            statement = statement.where(Order.customer_id == customer_id)
        if lock:
            statement = statement.with_for_update()
        order = await self._session.scalar(statement.execution_options(populate_existing=True))
        if order is None:
            raise NotFoundError("no such order")
        return order

    async def items(self, order_id: int) -> list[OrderItem]:
        found = await self._session.scalars(
            select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id)
        )
        return list(found)

    async def change_status(
        self,
        order_id: int,
        status: OrderStatus,
        *,
        customer_id: int | None = None,
        actor_telegram_id: int | None = None,
    ) -> StatusChange:
        """Move the order on if its status allows it; cancelling or rejecting puts the
        stock back and marks a paid order for refund; an accepted return restocks."""
        order = await self.get(order_id, customer_id=customer_id, lock=True)
        previous = order.status
        if status not in TRANSITIONS[previous]:
            raise StatusNotAllowed(order, status)
        order.status = status
        if status in _RESTOCKING:
            await self._restock(order, _RESTOCKING[status], actor_telegram_id)
            order.refund_due = order.paid_at is not None
        elif status is OrderStatus.SHIPPED:
            await self._record_cost_of_sale(order)
        await self._session.flush()
        return StatusChange(order, previous)

    async def _record_cost_of_sale(self, order: Order) -> None:
        """A shipped line is sold at the product's weighted average cost of that moment."""
        await self._session.execute(
            update(OrderItem)
            .where(OrderItem.order_id == order.id, OrderItem.product_id == Product.id)
            .values(unit_cost=func.coalesce(Product.cost, OrderItem.unit_cost))
        )

    async def _restock(
        self, order: Order, reason: StockReason, actor_telegram_id: int | None
    ) -> None:
        for item in await self.items(order.id):
            await self._put_back(order, item, item.quantity, reason, actor_telegram_id)

    async def _put_back(
        self,
        order: Order,
        item: OrderItem,
        quantity: int,
        reason: StockReason,
        actor_telegram_id: int | None,
    ) -> None:
        """`quantity` of the line back into stock, in the ledger."""
        if item.product_id is None:  # the product was deleted since
            return
        stock = await self._session.scalar(
            update(Product)
            .where(Product.id == item.product_id)
            .values(stock=Product.stock + quantity)
            .returning(Product.stock)
        )
        if stock is not None:
            self._session.add(
                StockMovement(
                    shop_id=self._shop_id,
                    product_id=item.product_id,
                    delta=quantity,
                    stock_after=stock,
                    reason=reason,
                    unit_cost=item.unit_cost if reason is StockReason.RETURN else None,
                    order_id=order.id,
                    actor_telegram_id=actor_telegram_id,
                )
            )

    async def reduce_line(
        self, order_id: int, item_id: int, *, by: int | None, actor_telegram_id: int
    ) -> LineChange:
        """Take `by` units (None: all) of a line out of an accepted order: the stock comes
        back, the totals are recomputed, and a paid order is marked for a refund."""
        order = await self.get(order_id, lock=True)
        if order.status not in EDITABLE:
            raise StatusNotAllowed(order, order.status)
        items = await self.items(order.id)
        item = next((line for line in items if line.id == item_id), None)
        if item is None:
            raise NotFoundError("no such line in this order")
        taken = item.quantity if by is None else min(by, item.quantity)
        if taken < 1:
            raise InvalidInput("nothing to take out")
        before = item.quantity
        if taken == before and len(items) == 1:
            raise LastLine("the order's only line")
        await self._put_back(order, item, taken, StockReason.RELEASE, actor_telegram_id)
        if taken == before:
            await self._session.delete(item)
            items.remove(item)
        else:
            item.quantity = before - taken
        order.subtotal = sum((line.unit_price * line.quantity for line in items), Decimal("0"))
        order.total = order.subtotal + order.shipping_price
        order.refund_due = order.refund_due or order.paid_at is not None
        await self._session.flush()
        return LineChange(order, item.title, before, before - taken)

    async def request_return(self, order_id: int, customer_id: int, reason: str) -> StatusChange:
        reason = " ".join(reason.split())
        if not 3 <= len(reason) <= 1000:
            raise InvalidInput("a return reason is 3 to 1000 characters")
        change = await self.change_status(
            order_id, OrderStatus.RETURN_REQUESTED, customer_id=customer_id
        )
        change.order.return_reason = reason
        await self._session.flush()
        return change

    def payable_problem(self, order: Order, *, amount: int, currency: str) -> str | None:
        """Why this order cannot be paid now (None: it can): checked at pre-checkout."""
        if order.paid_at is not None:
            return "paid"
        if order.status is not OrderStatus.NEW:
            return "closed"
        if currency != order.currency or amount != minor_units(order.total, order.currency):
            return "changed"
        return None

    async def record_payment(self, order_id: int, *, charge_id: str, amount: int) -> Payment:
        """Mark the order paid by this Telegram charge, once. A charge seen before is a
        duplicate; an order no longer payable (cancelled, its stock gone) keeps the money
        flagged for refund."""
        order = await self.get(order_id, lock=True)
        if order.payment_charge_id == charge_id:
            return Payment(order, duplicate=True, refund_due=order.refund_due)
        if order.payment_charge_id is not None:  # paid twice: the second charge goes back
            return Payment(order, duplicate=False, refund_due=True)
        order.paid_at = datetime.now(UTC)
        order.payment_charge_id = charge_id
        order.payment_method = PaymentMethod.TELEGRAM
        wrong_amount = amount != minor_units(order.total, order.currency)
        if order.status is OrderStatus.NEW and not wrong_amount:
            order.status = OrderStatus.PAID
        else:
            order.refund_due = True
        await self._session.flush()
        return Payment(order, duplicate=False, refund_due=order.refund_due)


async def unpaid_orders(
    session: AsyncSession, *, before: datetime, limit: int = 100
) -> Sequence[tuple[int, int]]:
    """(shop id, order id) of orders waiting for an online payment since before `before`:
    their reservations are released when the payment does not come."""
    found = await session.execute(
        select(Order.shop_id, Order.id)
        .where(
            Order.status == OrderStatus.NEW,
            Order.payment_method == PaymentMethod.TELEGRAM,
            Order.paid_at.is_(None),
            Order.created_at < before,
        )
        .order_by(Order.id)
        .limit(limit)
    )
    return [(shop_id, order_id) for shop_id, order_id in found]


def minor_units(amount: Decimal, currency: str) -> int:
    """An amount in the currency's smallest units, as Telegram's invoices count them."""
    return int(amount * 10 ** get_currency_precision(currency))
