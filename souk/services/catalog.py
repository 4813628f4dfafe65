"""Reading the catalog (the full catalog UI comes with the shopping issue)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Product


class CatalogService:
    """Products of one shop."""

    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self._session = session
        self._shop_id = shop_id

    async def product_by_sku(self, sku: str) -> Product | None:
        """An active product by SKU (case-insensitive), or None."""
        return await self._session.scalar(
            select(Product).where(
                Product.shop_id == self._shop_id,
                Product.sku.ilike(
                    sku.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
                ),
                Product.is_active.is_(True),
            )
        )

    def localized_title(self, product: Product, language: str) -> str:
        translated = product.translations.get(language, {}).get("title")
        return translated or product.title
