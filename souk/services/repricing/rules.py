"""Repricing rules staff set per product or per category (a product's own rule wins over
its category's), checked when saved, and the shop's kill switch."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Category, Product, RepriceMode, RepricePause, RepriceRule
from souk.errors import InvalidInput, NotFoundError
from souk.services.products import ProductAdmin
from souk.services.repricing.syntax import CATEGORY_PREFIX, RuleValues


class UnknownCategory(NotFoundError):
    """No category of the shop has the slug; `slugs` are the shop's."""

    def __init__(self, slug: str, slugs: list[str]) -> None:
        super().__init__(f"no category {slug!r}")
        self.slug = slug
        self.slugs = slugs


class IncompleteRule(InvalidInput):
    """A new rule without a strategy (`missing` is "strategy")."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"a rule needs its {missing}")
        self.missing = missing


class FloorAboveCeiling(InvalidInput):
    """The rule's floor (its minimum, or a product's cost plus the minimum margin) is over
    its ceiling; `sku` names the product whose cost makes the floor, if one does."""

    def __init__(self, floor: Decimal, ceiling: Decimal, sku: str | None) -> None:
        super().__init__(f"floor {floor} above ceiling {ceiling}")
        self.floor = floor
        self.ceiling = ceiling
        self.sku = sku


@dataclass(frozen=True)
class RuleTarget:
    """What a rule is for: one product, or a category."""

    product: Product | None = None
    category: Category | None = None

    @property
    def name(self) -> str:
        if self.product is not None:
            return self.product.sku
        assert self.category is not None
        return CATEGORY_PREFIX + self.category.slug


@dataclass(frozen=True)
class RuleInEffect:
    """The rule that runs for a product and where it comes from (None: no rule)."""

    rule: RepriceRule | None
    category: Category | None = None  # set when the rule is the product's category's


# What a new rule has where the command says nothing (the table's defaults, and dry run:
# a rule only acts once staff chose auto or approve).
_NEW_RULE: dict[str, object] = {
    "mode": RepriceMode.DRY_RUN,
    "step_is_percent": False,
    "max_change_is_percent": False,
    "cooldown_minutes": 0,
    "ignore_out_of_stock": True,
    "is_enabled": True,
}


def _margin_floor(cost: Decimal, margin: Decimal | None) -> Decimal:
    floor = cost * (1 + (margin or Decimal(0)) / 100)
    return floor.quantize(Decimal("0.01"), rounding=ROUND_CEILING)


class RuleBook:
    """One staff member (or the repricer) reading and setting one shop's rules."""

    def __init__(self, session: AsyncSession, shop_id: int, actor: int | None = None) -> None:
        self._session = session
        self._shop_id = shop_id
        self._actor = actor

    async def target(self, raw: str) -> RuleTarget:
        """`category:SLUG` or a SKU (UnknownCategory, UnknownSku)."""
        if raw.lower().startswith(CATEGORY_PREFIX):
            slug = raw[len(CATEGORY_PREFIX) :].lower()
            category = await self._session.scalar(
                select(Category).where(Category.shop_id == self._shop_id, Category.slug == slug)
            )
            if category is None:
                slugs = await self._session.scalars(
                    select(Category.slug)
                    .where(Category.shop_id == self._shop_id)
                    .order_by(Category.position, Category.slug)
                    .limit(20)
                )
                raise UnknownCategory(slug, list(slugs))
            return RuleTarget(category=category)
        product = await ProductAdmin(self._session, self._shop_id, self._actor).by_sku(
            raw, lock=False
        )
        return RuleTarget(product=product)

    async def rule_of(self, target: RuleTarget) -> RepriceRule | None:
        """The target's own rule."""
        if target.product is not None:
            condition = RepriceRule.product_id == target.product.id
        else:
            assert target.category is not None
            condition = RepriceRule.category_id == target.category.id
        return await self._session.scalar(
            select(RepriceRule).where(RepriceRule.shop_id == self._shop_id, condition)
        )

    async def in_effect(self, product: Product) -> RuleInEffect:
        """The product's own rule, else its category's."""
        own = await self.rule_of(RuleTarget(product=product))
        if own is not None or product.category_id is None:
            return RuleInEffect(own)
        category = await self._session.get(Category, product.category_id)
        if category is None:
            return RuleInEffect(None)
        return RuleInEffect(await self.rule_of(RuleTarget(category=category)), category)

    async def save(self, target: RuleTarget, values: RuleValues) -> RepriceRule:
        """Create or change the target's rule with `values` (columns from the command);
        a new rule needs a strategy; a floor over the ceiling is refused with both. Checked
        before any row is touched, so a refusal leaves nothing for the caller to commit."""
        rule = await self.rule_of(target)
        if rule is None and "strategy" not in values:
            raise IncompleteRule("strategy")

        def value(column: str) -> Decimal | None:
            found = values[column] if column in values else getattr(rule, column, None)
            assert found is None or isinstance(found, Decimal)
            return found

        await self._check_floor(
            target, value("min_price"), value("min_margin_percent"), value("max_price")
        )
        if rule is None:
            rule = RepriceRule(
                shop_id=self._shop_id,
                product_id=target.product.id if target.product is not None else None,
                category_id=target.category.id if target.category is not None else None,
                **_NEW_RULE,
            )
            self._session.add(rule)
        for column, new in values.items():
            setattr(rule, column, new)
        rule.updated_by = self._actor
        await self._session.flush()
        return rule

    async def _check_floor(
        self,
        target: RuleTarget,
        minimum: Decimal | None,
        margin: Decimal | None,
        ceiling: Decimal | None,
    ) -> None:
        if ceiling is None:
            return
        floor, sku = minimum or Decimal(0), None
        costly = await self._costliest(target)
        if costly is not None and costly.cost is not None:
            by_cost = _margin_floor(costly.cost, margin)
            if by_cost > floor:
                floor, sku = by_cost, costly.sku
        if floor > ceiling:
            raise FloorAboveCeiling(floor, ceiling, sku)

    async def _costliest(self, target: RuleTarget) -> Product | None:
        """The product of the target with the highest cost (the one setting the floor)."""
        if target.product is not None:
            return target.product
        assert target.category is not None
        return await self._session.scalar(
            select(Product)
            .where(
                Product.shop_id == self._shop_id,
                Product.category_id == target.category.id,
                Product.cost.is_not(None),
            )
            .order_by(Product.cost.desc(), Product.sku)
            .limit(1)
        )

    async def remove(self, target: RuleTarget) -> bool:
        """Delete the target's own rule; False if it had none."""
        rule = await self.rule_of(target)
        if rule is None:
            return False
        await self._session.delete(rule)
        await self._session.flush()
        return True

    async def is_paused(self) -> bool:
        return bool(
            await self._session.scalar(
                select(func.count()).where(RepricePause.shop_id == self._shop_id)
            )
        )

    async def pause(self) -> None:
        """The shop's kill switch: nothing is repriced until `resume`."""
        await self._session.execute(
            insert(RepricePause)
            .values(shop_id=self._shop_id, paused_by=self._actor)
            .on_conflict_do_nothing()
        )

    async def resume(self) -> None:
        await self._session.execute(
            delete(RepricePause).where(RepricePause.shop_id == self._shop_id)
        )
