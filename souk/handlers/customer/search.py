"""/search (and free text the fallback searches for): hybrid search, results as cards with
paging, a way on when nothing matches."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.db.models import Product
from souk.formatting import amount, product_summary
from souk.handlers.screens import answer_opening, replace_screen, show_product
from souk.keyboards.callbacks import SearchHitCD, SearchPageCD
from souk.keyboards.catalog import categories_keyboard, product_keyboard
from souk.keyboards.paging import page_of
from souk.keyboards.search import results_keyboard
from souk.services.catalog import CatalogService
from souk.services.search import SearchService
from souk.services.search_filters import SearchQuery, parse_search
from souk.services.shops import ChannelInfo

router = Router(name=__name__)

PAGE_SIZE = 5
_CLOSEST_CATEGORIES = 4


class RecentSearches:
    """The customer's last few queries, so a results page can be turned later: the
    query goes into a button as a short id. Kept beside the FSM state (its own
    `destiny`), so a checkout clearing its state does not forget them."""

    KEEP = 5

    def __init__(self, state: FSMContext) -> None:
        self._context = FSMContext(state.storage, replace(state.key, destiny="search"))

    async def remember(self, text: str) -> str:
        query_id = hashlib.blake2s(text.encode(), digest_size=6).hexdigest()
        queries: dict[str, str] = (await self._context.get_data()).get("queries", {})
        queries.pop(query_id, None)
        queries[query_id] = text
        await self._context.set_data({"queries": dict(list(queries.items())[-self.KEEP :])})
        return query_id

    async def recall(self, query_id: str) -> str | None:
        queries: dict[str, str] = (await self._context.get_data()).get("queries", {})
        return queries.get(query_id)


def _results_text(query: str, products: list[Product], first: int, language: str) -> str:
    lines = [_("Results for “{query}”:").format(query=escape(query)), ""]
    for number, product in enumerate(products, start=first):
        lines += [f"{number}. {product_summary(product, language)}", ""]
    return "\n".join(lines).rstrip()


async def _results(
    said: str,
    page: int,
    *,
    query_id: str,
    search: SearchService,
    catalog: CatalogService,
    language: str,
) -> tuple[str, InlineKeyboardMarkup]:
    query = parse_search(said)
    found = await search.search(query, limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
    products, has_next = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    if products:
        first = page * PAGE_SIZE + 1
        keyboard = results_keyboard(
            products,
            first=first,
            query_id=query_id,
            page=page,
            has_next=has_next,
            language=language,
        )
        return _results_text(said, products, first, language), keyboard
    if page > 0:
        return _("There are no more results for “{query}”.").format(query=escape(said)), (
            results_keyboard(
                [], first=1, query_id=query_id, page=page, has_next=False, language=language
            )
        )
    return await _nothing_found(said, query, search, catalog, language)


async def _nothing_found(
    said: str, query: SearchQuery, search: SearchService, catalog: CatalogService, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The categories of what the words alone find (the filters may be what excluded
    everything), else the shop's first categories; and a hint."""
    categories = await catalog.categories()
    if not categories:
        return _("The catalog is empty for now. Please come back later."), InlineKeyboardMarkup(
            inline_keyboard=[]
        )
    nearest = await search.search(SearchQuery(query.text), limit=20) if query.text else []
    wanted = list(dict.fromkeys(p.category_id for p in nearest if p.category_id is not None))
    by_id = {category.id: category for category in categories}
    closest = [by_id[i] for i in wanted if i in by_id][:_CLOSEST_CATEGORIES]
    lines = [_("Nothing found for “{query}”.").format(query=escape(said))]
    limits = []
    if query.max_price is not None:
        limits.append(_("at most {price}").format(price=amount(query.max_price, language)))
    if query.min_price is not None:
        limits.append(_("at least {price}").format(price=amount(query.min_price, language)))
    if query.in_stock:
        limits.append(_("in stock"))
    if limits and nearest:
        lines.append(
            _("There are matching products, but none {limits}.").format(limits=", ".join(limits))
        )
    lines.append(_("Try other words, or look in these categories:"))
    return "\n".join(lines), categories_keyboard(
        page_of(closest or categories[:_CLOSEST_CATEGORIES], 0), language
    )


def _services(
    session: AsyncSession, embedder: Embedder, shop: ChannelInfo
) -> tuple[SearchService, CatalogService]:
    return SearchService(session, embedder, shop.shop_id), CatalogService(session, shop.shop_id)


async def answer_search(
    message: Message,
    said: str,
    *,
    state: FSMContext,
    session: AsyncSession,
    embedder: Embedder,
    shop: ChannelInfo,
    language: str,
) -> None:
    query_id = await RecentSearches(state).remember(said)
    search, catalog = _services(session, embedder, shop)
    text, keyboard = await _results(
        said, 0, query_id=query_id, search=search, catalog=catalog, language=language
    )
    await message.answer(text, reply_markup=keyboard)


@router.message(Command("search"))
async def search_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    embedder: Embedder,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    said = (command.args or "").strip()
    if not said:
        await message.answer(
            _("Write what you are looking for after /search, for example: {example}").format(
                example=_("/search wireless headphones under 100")
            )
        )
        return
    await answer_search(
        message,
        said,
        state=state,
        session=session,
        embedder=embedder,
        shop=shop,
        language=i18n.current_locale,
    )


async def _recalled(query: CallbackQuery, state: FSMContext, query_id: str) -> str | None:
    said = await RecentSearches(state).recall(query_id)
    if said is None:
        await query.answer(
            _("This search is too old to continue. Please search again."), show_alert=True
        )
    return said


@router.callback_query(SearchPageCD.filter())
async def results_page(
    query: CallbackQuery,
    callback_data: SearchPageCD,
    state: FSMContext,
    session: AsyncSession,
    embedder: Embedder,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    said = await _recalled(query, state, callback_data.query_id)
    if said is None:
        return
    search, catalog = _services(session, embedder, shop)
    text, keyboard = await _results(
        said,
        max(callback_data.page, 0),
        query_id=callback_data.query_id,
        search=search,
        catalog=catalog,
        language=i18n.current_locale,
    )
    await query.answer()
    await replace_screen(query, text, keyboard)


@router.callback_query(SearchHitCD.filter())
async def result_opened(
    query: CallbackQuery,
    callback_data: SearchHitCD,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    language = i18n.current_locale
    product = await CatalogService(session, shop.shop_id).product(callback_data.product_id)
    if product is None:
        await query.answer(_("This product is no longer available."), show_alert=True)
        return
    await answer_opening(query, product, callback_data.price, language)
    back = SearchPageCD(query_id=callback_data.query_id, page=callback_data.page)
    await show_product(query, product, product_keyboard(product.id, back), language)
