"""The catalog as a CSV file, in the columns `souk import` reads (SPEC.md)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk.db.models import Category, Product

COLUMNS = (
    "sku",
    "title",
    "description",
    "category",
    "brand",
    "price",
    "currency",
    "stock",
    "attributes",
)


@dataclass(frozen=True)
class CatalogFile:
    data: bytes
    products: int


async def export_csv(session: AsyncSession, shop_id: int) -> CatalogFile:
    """Every product of the shop (active or not) as UTF-8 CSV with a header, by SKU."""
    rows = await session.execute(
        select(Product, Category.slug)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(Product.shop_id == shop_id)
        .order_by(Product.sku)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for product, category in rows:
        count += 1
        writer.writerow(
            [
                product.sku,
                product.title,
                product.description,
                category or "",
                product.brand or "",
                f"{product.price:.2f}",
                product.currency,
                product.stock,
                json.dumps(product.attributes, ensure_ascii=False, sort_keys=True),
            ]
        )
    return CatalogFile(buffer.getvalue().encode("utf-8"), count)
