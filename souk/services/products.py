"""Staff changing products: price and stock by SKU, every change audited (who, old, new,
when, why), and the caller's last change undone on request."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from souk.db.models import PriceChange, PriceSource, Product, StockMovement, StockReason
from souk.errors import ConflictError, InvalidInput, NotFoundError

MOST_PRICE = Decimal("1000000000")  # numeric(12,2) holds less than 10^10; more is a typo
MOST_STOCK = 1_000_000
_UNDO = "undo #{id}"


class UnknownSku(NotFoundError):
    """No product has the SKU; `closest` are the SKUs that look most like it."""

    def __init__(self, sku: str, closest: list[str]) -> None:
        super().__init__(f"no product with SKU {sku!r}")
        self.sku = sku
        self.closest = closest


class BelowFloor(InvalidInput):
    """A price under what the product may be sold for (its cost)."""

    def __init__(self, floor: Decimal, currency: str) -> None:
        super().__init__(f"below the floor {floor} {currency}")
        self.floor = floor
        self.currency = currency


class NothingToUndo(NotFoundError):
    """The caller has made no change that is still undoable."""


class ChangedSince(ConflictError):
    """Someone (or a sale) changed the value after the change to undo."""


async def closest_skus(
    session: AsyncSession, shop_id: int, sku: str, *, limit: int = 3
) -> list[str]:
    """The shop's SKUs that look most like `sku` (to suggest for a mistyped one)."""
    found = await session.scalars(
        select(Product.sku)
        .where(Product.shop_id == shop_id)
        .order_by(func.similarity(Product.sku, sku).desc(), Product.sku)
        .limit(limit)
    )
    return list(found)


def check_floor(product: Product, price: Decimal) -> None:
    """A price may not be under what the product costs (BelowFloor)."""
    floor = product.cost or Decimal("0")
    if price < floor:
        raise BelowFloor(floor, product.currency)


@dataclass(frozen=True)
class Change:
    """A value of a product before and after."""

    product: Product
    old: Decimal | int
    new: Decimal | int
    kind: str  # "price" or "stock"


class ProductAdmin:
    """One staff member changing one shop's products."""

    def __init__(self, session: AsyncSession, shop_id: int, actor_telegram_id: int | None) -> None:
        self._session = session
        self._shop_id = shop_id
        self._actor = actor_telegram_id

    async def by_sku(self, sku: str, *, lock: bool = True) -> Product:
        """The product with this SKU (active or not), locked for the change to come unless
        it is only read."""
        statement = select(Product).where(
            Product.shop_id == self._shop_id, func.lower(Product.sku) == sku.lower()
        )
        product = await self._session.scalar(statement.with_for_update() if lock else statement)
        if product is None:
            raise UnknownSku(sku, await closest_skus(self._session, self._shop_id, sku))
        return product

    async def set_price(self, sku: str, price: Decimal, *, reason: str | None = None) -> Change:
        if price <= 0:
            raise InvalidInput("a price must be above zero")
        if price >= MOST_PRICE:
            raise InvalidInput("that price is too large to be meant")
        product = await self.by_sku(sku)
        check_floor(product, price)
        change = self.write_price(product, price, reason=reason)
        await self._session.flush()
        return change

    def write_price(
        self,
        product: Product,
        price: Decimal,
        *,
        source: PriceSource = PriceSource.STAFF,
        reason: str | None = None,
    ) -> Change:
        """Set the price of a product locked (and checked) by the caller, with its audit
        row; written at the session's next flush."""
        old = product.price
        product.price = price.quantize(Decimal("0.01"))
        self._session.add(
            PriceChange(
                shop_id=self._shop_id,
                product_id=product.id,
                old_price=old,
                new_price=product.price,
                source=source,
                actor_telegram_id=self._actor,
                reason=reason,
            )
        )
        return Change(product, old, product.price, "price")

    async def set_stock(self, sku: str, stock: int, *, note: str | None = None) -> Change:
        if stock < 0:
            raise InvalidInput("stock cannot be negative")
        if stock > MOST_STOCK:
            raise InvalidInput("that stock is too large to be meant")
        change = self.write_stock(await self.by_sku(sku), stock, note=note)
        await self._session.flush()
        return change

    def write_stock(
        self,
        product: Product,
        stock: int,
        *,
        reason: StockReason = StockReason.ADJUST,
        note: str | None = None,
    ) -> Change:
        """Set the stock of a product locked (and checked) by the caller, with its stock
        movement; written at the session's next flush."""
        old = product.stock
        product.stock = stock
        self._session.add(
            StockMovement(
                shop_id=self._shop_id,
                product_id=product.id,
                delta=stock - old,
                stock_after=stock,
                reason=reason,
                actor_telegram_id=self._actor,
                note=note,
            )
        )
        return Change(product, old, stock, "stock")

    async def receive(self, sku: str, quantity: int, unit_cost: Decimal) -> Change:
        """Goods bought in: stock up, and the cost becomes the weighted average of what
        was in stock and what arrived."""
        if not 0 < quantity <= MOST_STOCK:
            raise InvalidInput("a received quantity is 1 to 1,000,000")
        if not 0 <= unit_cost < MOST_PRICE:
            raise InvalidInput("a unit cost is zero or more")
        product = await self.by_sku(sku)
        old_stock, old_cost = product.stock, product.cost
        on_hand = old_stock * old_cost if old_cost is not None else Decimal("0")
        weighted = (on_hand + quantity * unit_cost) / (
            (old_stock if old_cost is not None else 0) + quantity
        )
        product.cost = weighted.quantize(Decimal("0.01"))
        product.stock = old_stock + quantity
        self._session.add(
            StockMovement(
                shop_id=self._shop_id,
                product_id=product.id,
                delta=quantity,
                stock_after=product.stock,
                reason=StockReason.RECEIVE,
                unit_cost=unit_cost,
                actor_telegram_id=self._actor,
            )
        )
        await self._session.flush()
        return Change(product, old_stock, product.stock, "stock")

    async def adjust(self, sku: str, delta: int, reason: str) -> Change:
        """A counted difference (damage, loss, a recount) with its reason; never below 0."""
        reason = " ".join(reason.split())
        if delta == 0 or abs(delta) > MOST_STOCK:
            raise InvalidInput("an adjustment is a non-zero number of units")
        if not reason:
            raise InvalidInput("an adjustment needs a reason")
        product = await self.by_sku(sku)
        if product.stock + delta < 0:
            raise InvalidInput(f"only {product.stock} in stock")
        return await self.set_stock(sku, product.stock + delta, note=reason)

    async def low_stock(self, threshold: int, *, limit: int = 30) -> list[Product]:
        found = await self._session.scalars(
            select(Product)
            .where(
                Product.shop_id == self._shop_id,
                Product.is_active.is_(True),
                Product.stock <= threshold,
            )
            .order_by(Product.stock, Product.sku)
            .limit(limit)
        )
        return list(found)

    async def product(self, sku: str) -> Product:
        """A product to look at (on sale or not), or UnknownSku."""
        return await self.by_sku(sku, lock=False)

    async def undo(self) -> Change:
        """Revert this staff member's last price or stock change that is not undone yet;
        refused if the value changed since (a sale, someone else)."""
        price_change = await self._last_price_change()
        stock_change = await self._last_stock_change()
        latest = max(
            (c for c in (price_change, stock_change) if c is not None),
            key=lambda c: c.created_at,
            default=None,
        )
        if latest is None:
            raise NothingToUndo("nothing to undo")
        if isinstance(latest, PriceChange):
            return await self._undo_price(latest)
        return await self._undo_stock(latest)

    async def _last_price_change(self) -> PriceChange | None:
        undone = aliased(PriceChange)
        return await self._session.scalar(
            select(PriceChange)
            .where(
                PriceChange.shop_id == self._shop_id,
                PriceChange.actor_telegram_id == self._actor,
                PriceChange.source == PriceSource.STAFF,
                ~exists().where(
                    undone.source == PriceSource.UNDO,
                    undone.product_id == PriceChange.product_id,
                    undone.reason == func.concat("undo #", PriceChange.id),
                ),
            )
            .order_by(PriceChange.id.desc())
            .limit(1)
        )

    async def _last_stock_change(self) -> StockMovement | None:
        undone = aliased(StockMovement)
        return await self._session.scalar(
            select(StockMovement)
            .where(
                StockMovement.shop_id == self._shop_id,
                StockMovement.actor_telegram_id == self._actor,
                StockMovement.reason == StockReason.ADJUST,
                ~func.coalesce(StockMovement.note, "").startswith("undo #"),
                ~exists().where(
                    undone.product_id == StockMovement.product_id,
                    undone.note == func.concat("undo #", StockMovement.id),
                ),
            )
            .order_by(StockMovement.id.desc())
            .limit(1)
        )

    async def _locked(self, product_id: int) -> Product:
        product = await self._session.scalar(
            select(Product).where(Product.id == product_id).with_for_update()
        )
        if product is None:
            raise NothingToUndo("the product is gone")
        return product

    async def _undo_price(self, change: PriceChange) -> Change:
        product = await self._locked(change.product_id)
        if product.price != change.new_price:
            raise ChangedSince(f"the price is {product.price} now")
        product.price = change.old_price
        self._session.add(
            PriceChange(
                shop_id=self._shop_id,
                product_id=product.id,
                old_price=change.new_price,
                new_price=change.old_price,
                source=PriceSource.UNDO,
                actor_telegram_id=self._actor,
                reason=_UNDO.format(id=change.id),
            )
        )
        await self._session.flush()
        return Change(product, change.new_price, change.old_price, "price")

    async def _undo_stock(self, change: StockMovement) -> Change:
        product = await self._locked(change.product_id)
        if product.stock != change.stock_after:
            raise ChangedSince(f"the stock is {product.stock} now")
        restored = product.stock - change.delta
        product.stock = restored
        self._session.add(
            StockMovement(
                shop_id=self._shop_id,
                product_id=product.id,
                delta=-change.delta,
                stock_after=restored,
                reason=StockReason.ADJUST,
                actor_telegram_id=self._actor,
                note=_UNDO.format(id=change.id),
            )
        )
        await self._session.flush()
        return Change(product, change.stock_after, restored, "stock")
