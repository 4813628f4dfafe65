"""/catalog: categories -> a page of products -> a product. Stale buttons are explained."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.handlers.screens import answer_opening, replace_screen, show_product
from souk.keyboards.callbacks import (
    CategoriesCD,
    CategoryListCD,
    CategoryPageCD,
    OpenCatalogCD,
    ProductCD,
)
from souk.keyboards.catalog import (
    back_to_category,
    categories_keyboard,
    product_keyboard,
    product_page_keyboard,
)
from souk.keyboards.paging import page_of
from souk.services.catalog import CatalogService, ProductPage
from souk.services.shops import ChannelInfo

router = Router(name=__name__)


def _page_text(page: ProductPage, language: str) -> str:
    return _("{category} — page {page} of {pages}").format(
        category=page.category.title(language), page=page.page + 1, pages=page.pages
    )


async def _categories(
    catalog: CatalogService, language: str, page: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    categories = await catalog.categories()
    if not categories:
        return _("The catalog is empty for now. Please come back later."), InlineKeyboardMarkup(
            inline_keyboard=[]
        )
    return _("Choose a category:"), categories_keyboard(page_of(categories, page), language)


@router.message(Command("catalog"))
async def catalog_command(
    message: Message, shop: ChannelInfo, session: AsyncSession, i18n: I18n
) -> None:
    text, keyboard = await _categories(CatalogService(session, shop.shop_id), i18n.current_locale)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(CategoriesCD.filter())
@router.callback_query(CategoryListCD.filter())
@router.callback_query(OpenCatalogCD.filter())
async def categories_button(
    query: CallbackQuery,
    callback_data: CategoriesCD | CategoryListCD | OpenCatalogCD,
    shop: ChannelInfo,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    page = callback_data.page if isinstance(callback_data, CategoryListCD) else 0
    text, keyboard = await _categories(
        CatalogService(session, shop.shop_id), i18n.current_locale, page
    )
    await query.answer()
    if isinstance(callback_data, OpenCatalogCD) and isinstance(query.message, Message):
        # A campaign's button: the categories come below it, and the campaign stays.
        await query.message.answer(text, reply_markup=keyboard)
        return
    await replace_screen(query, text, keyboard)


@router.callback_query(CategoryPageCD.filter())
async def category_page(
    query: CallbackQuery,
    callback_data: CategoryPageCD,
    shop: ChannelInfo,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    catalog = CatalogService(session, shop.shop_id)
    language = i18n.current_locale
    page = await catalog.page(callback_data.category_id, callback_data.page)
    if page is None:
        await query.answer(_("This category is no longer available."), show_alert=True)
        text, keyboard = await _categories(catalog, language)
        await replace_screen(query, text, keyboard)
        return
    if page.page != callback_data.page:
        await query.answer(_("That page no longer exists; here is the last one."))
    else:
        await query.answer()
    await replace_screen(query, _page_text(page, language), product_page_keyboard(page, language))


@router.callback_query(ProductCD.filter())
async def product_button(
    query: CallbackQuery,
    callback_data: ProductCD,
    shop: ChannelInfo,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    catalog = CatalogService(session, shop.shop_id)
    language = i18n.current_locale
    product = await catalog.product(callback_data.product_id)
    if product is None:
        await query.answer(_("This product is no longer available."), show_alert=True)
        page = await catalog.page(callback_data.category_id, callback_data.page)
        if page is not None:
            await replace_screen(
                query, _page_text(page, language), product_page_keyboard(page, language)
            )
        return
    await answer_opening(query, product, callback_data.price, language)
    keyboard = product_keyboard(
        product.id, back_to_category(callback_data.category_id, callback_data.page)
    )
    await show_product(query, product, keyboard, language)
