"""The demo shop (slug `demo`): its catalog, FAQ and shipping, and the bot of TELEGRAM_BOT_TOKEN."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import TelegramSettings, WhatsAppSettings
from souk.db.models import Category, FaqEntry, Product, ShippingOption, Shop
from souk.seed.catalog import DemoCatalog, ProductSeed, load_demo_catalog
from souk.services.shops import ShopService

DEMO_SLUG = "demo"


@dataclass(frozen=True)
class SeedReport:
    shop_id: int
    categories: int
    products: int
    faq: int
    shipping: int


def content_hash(
    title: str,
    description: str,
    brand: str | None,
    translations: dict[str, dict[str, str]],
    attributes: dict[str, object],
) -> str:
    """What an embedding depends on; it is recomputed only when this changes."""
    content = json.dumps(
        [title, description, brand, translations, attributes], ensure_ascii=False, sort_keys=True
    )
    return hashlib.sha256(content.encode()).hexdigest()


async def demo_shop(session: AsyncSession, catalog: DemoCatalog | None = None) -> Shop:
    """The demo shop, created (empty) if missing."""
    shop = await session.scalar(select(Shop).where(Shop.slug == DEMO_SLUG))
    if shop is not None:
        return shop
    catalog = catalog or load_demo_catalog()
    return await ShopService(session).create(
        slug=DEMO_SLUG,
        name=catalog.shop_name,
        currency=catalog.currency,
        timezone=catalog.timezone,
    )


def _product_row(shop_id: int, category_id: int, seed: ProductSeed) -> dict[str, object]:
    translations = {"ru": {"title": seed.title["ru"], "description": seed.description["ru"]}}
    return {
        "shop_id": shop_id,
        "category_id": category_id,
        "sku": seed.sku,
        "title": seed.title["en"],
        "description": seed.description["en"],
        "brand": seed.brand,
        "translations": translations,
        "price": seed.price,
        "cost": seed.cost,
        "currency": seed.currency,
        "stock": seed.stock,
        "attributes": seed.attributes,
        "photo_url": seed.photo_url,
        "content_hash": content_hash(
            seed.title["en"],
            seed.description["en"],
            seed.brand,
            translations,
            dict(seed.attributes),
        ),
    }


async def seed_demo(session: AsyncSession) -> SeedReport:
    """Create what is missing of the demo shop; what exists (a seller's edits) is kept."""
    catalog = load_demo_catalog()
    shop = await demo_shop(session, catalog)
    for position, category in enumerate(catalog.categories):
        await session.execute(
            insert(Category)
            .values(
                shop_id=shop.id,
                slug=category.slug,
                name=category.names["en"],
                names=category.names,
                position=position,
            )
            .on_conflict_do_nothing(index_elements=[Category.shop_id, Category.slug])
        )
    category_rows = await session.execute(
        select(Category.slug, Category.id).where(Category.shop_id == shop.id)
    )
    category_ids = {slug: category_id for slug, category_id in category_rows}
    rows = [_product_row(shop.id, category_ids[p.category], p) for p in catalog.products]
    for start in range(0, len(rows), 500):
        await session.execute(
            insert(Product)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(index_elements=[Product.shop_id, Product.sku])
        )
    for option in catalog.shipping:
        await session.execute(
            insert(ShippingOption)
            .values(
                shop_id=shop.id,
                code=option.code,
                names=option.names,
                price=option.price,
                eta_days_min=option.eta_days_min,
                eta_days_max=option.eta_days_max,
                needs_address=option.needs_address,
            )
            .on_conflict_do_nothing(index_elements=[ShippingOption.shop_id, ShippingOption.code])
        )
    has_faq = await session.scalar(
        select(func.count(FaqEntry.id)).where(FaqEntry.shop_id == shop.id)
    )
    if not has_faq:
        session.add_all(
            FaqEntry(shop_id=shop.id, language=e.language, question=e.question, answer=e.answer)
            for e in catalog.faq
        )
    await ShopService(session).connect_web(shop)  # the web chat at / talks to this shop
    await session.flush()

    counts = (
        await session.execute(
            select(
                select(func.count()).where(Category.shop_id == shop.id).scalar_subquery(),
                select(func.count()).where(Product.shop_id == shop.id).scalar_subquery(),
                select(func.count()).where(FaqEntry.shop_id == shop.id).scalar_subquery(),
                select(func.count()).where(ShippingOption.shop_id == shop.id).scalar_subquery(),
            )
        )
    ).one()
    return SeedReport(shop.id, *(int(count) for count in counts))


async def connect_demo_bot(session: AsyncSession, settings: TelegramSettings) -> int | None:
    """Attach TELEGRAM_BOT_TOKEN to the demo shop; returns the bot id, or None if unset."""
    if settings.bot_token is None:
        return None
    shop = await demo_shop(session)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    payments = settings.payment_provider_token
    channel = await ShopService(session).connect_telegram(
        shop,
        settings.bot_token.get_secret_value(),
        secret=secret,
        payment_token=payments.get_secret_value() if payments else None,
    )
    return int(channel.external_id)


async def connect_demo_number(session: AsyncSession, settings: WhatsAppSettings) -> str | None:
    """Attach WHATSAPP_PHONE_NUMBER_ID (with WHATSAPP_ACCESS_TOKEN) to the demo shop;
    returns the number id, or None if either is unset."""
    if settings.phone_number_id is None or settings.access_token is None:
        return None
    shop = await demo_shop(session)
    channel = await ShopService(session).connect_whatsapp(
        shop, settings.phone_number_id, settings.access_token.get_secret_value()
    )
    return channel.external_id
