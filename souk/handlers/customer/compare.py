"""Comparing 2-3 products side by side: "Compare" on a card collects, /compare shows."""

from __future__ import annotations

from dataclasses import replace

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.formatting import comparison, short_title
from souk.keyboards.builder import KeyboardBuilder
from souk.keyboards.callbacks import CompareCD
from souk.services.catalog import CatalogService, localized
from souk.services.shops import ChannelInfo

router = Router(name=__name__)

MOST = 3


class ComparedProducts:
    """The products being compared (the last three chosen), beside the FSM state."""

    def __init__(self, state: FSMContext) -> None:
        self._context = FSMContext(state.storage, replace(state.key, destiny="compare"))

    async def ids(self) -> list[int]:
        return [int(i) for i in (await self._context.get_data()).get("ids", [])]

    async def add(self, product_id: int) -> list[int]:
        ids = [i for i in await self.ids() if i != product_id] + [product_id]
        ids = ids[-MOST:]
        await self._context.set_data({"ids": ids})
        return ids

    async def clear(self) -> None:
        await self._context.set_data({})


@router.callback_query(CompareCD.filter())
async def compare_button(
    query: CallbackQuery,
    callback_data: CompareCD,
    state: FSMContext,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    compared = ComparedProducts(state)
    if callback_data.product_id == 0:
        await compared.clear()
        await query.answer(_("The comparison is cleared."))
        return
    product = await CatalogService(session, shop.shop_id).product(callback_data.product_id)
    if product is None:
        await query.answer(_("This product is no longer available."), show_alert=True)
        return
    count = len(await compared.add(product.id))
    title = short_title(localized(product, "title", i18n.current_locale))
    if count < 2:
        text = _("{title} is ready to compare. Add one or two more, then send /compare.")
    else:
        text = _("{title} is added to the comparison ({count} of 3): /compare")
    await query.answer(text.format(title=title, count=count))


@router.message(Command("compare"))
async def compare_command(
    message: Message, state: FSMContext, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    catalog = CatalogService(session, shop.shop_id)
    products = [
        product
        for product_id in await ComparedProducts(state).ids()
        if (product := await catalog.product(product_id)) is not None
    ]
    if len(products) < 2:
        await message.answer(
            _("Tap “Compare” on two or three product cards, then send /compare again.")
        )
        return
    builder = KeyboardBuilder()
    builder.button(text=_("Clear the comparison"), callback_data=CompareCD(product_id=0))
    await message.answer(
        comparison(products, i18n.current_locale), reply_markup=builder.as_markup()
    )
