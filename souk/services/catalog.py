"""Reading the catalog: categories, pages of products, one product."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Category, Product

PAGE_SIZE = 5


@dataclass(frozen=True)
class CategoryEntry:
    """A category as the customer picks it: its name in their language and how much is in it."""

    id: int
    slug: str
    names: dict[str, str]
    name: str
    products: int

    def title(self, language: str) -> str:
        return self.names.get(language) or self.name


@dataclass(frozen=True)
class ProductPage:
    """One page of a category; `page` is 0-based and always within 0..pages-1."""

    category: CategoryEntry
    products: list[Product]
    page: int
    pages: int


def localized(product: Product, field: str, language: str) -> str:
    """The product's title or description in `language`, else in the shop's own language."""
    translated = product.translations.get(language, {}).get(field)
    return translated or str(getattr(product, field))


class CatalogService:
    """The active products of one shop."""

    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self._session = session
        self._shop_id = shop_id

    async def categories(self, only: int | None = None) -> list[CategoryEntry]:
        """Categories that have active products, in the shop's order (or just `only`)."""
        count = func.count(Product.id)
        statement = (
            select(Category.id, Category.slug, Category.names, Category.name, count)
            .join(Product, (Product.category_id == Category.id) & Product.is_active.is_(True))
            .where(Category.shop_id == self._shop_id)
            .group_by(Category.id)
            .order_by(Category.position, Category.id)
        )
        if only is not None:
            statement = statement.where(Category.id == only)
        return [CategoryEntry(*row) for row in await self._session.execute(statement)]

    async def category(self, category_id: int) -> CategoryEntry | None:
        """One category with its product count, or None if it is gone or empty."""
        found = await self.categories(only=category_id)
        return found[0] if found else None

    async def page(
        self, category_id: int, page: int, *, size: int = PAGE_SIZE
    ) -> ProductPage | None:
        """A page of the category (a page past the end gives the last one); None if the
        category is gone or empty."""
        category = await self.category(category_id)
        if category is None:
            return None
        pages = max(1, math.ceil(category.products / size))
        page = min(max(page, 0), pages - 1)
        products = await self._session.scalars(
            select(Product)
            .where(
                Product.shop_id == self._shop_id,
                Product.category_id == category_id,
                Product.is_active.is_(True),
            )
            .order_by(Product.stock == 0, Product.title, Product.id)
            .offset(page * size)
            .limit(size)
        )
        return ProductPage(category, list(products), page, pages)

    async def product(self, product_id: int) -> Product | None:
        """An active product of this shop, or None (deleted, hidden, another shop's)."""
        return await self._session.scalar(
            select(Product).where(
                Product.id == product_id,
                Product.shop_id == self._shop_id,
                Product.is_active.is_(True),
            )
        )

    async def product_by_sku(self, sku: str) -> Product | None:
        """An active product by SKU (case-insensitive), or None."""
        escaped = sku.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        return await self._session.scalar(
            select(Product).where(
                Product.shop_id == self._shop_id,
                Product.sku.ilike(escaped),
                Product.is_active.is_(True),
            )
        )
