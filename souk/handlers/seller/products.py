"""Product commands for staff: /price, /stock, /product, /find, /lowstock, /receive,
/adjust, /undo, /export."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.db.models import Product
from souk.errors import InvalidInput
from souk.formatting import money, staff_product_text
from souk.services.cart import parse_quantity
from souk.services.catalog_files import export_csv
from souk.services.products import (
    MOST_PRICE,
    BelowFloor,
    Change,
    ChangedSince,
    NothingToUndo,
    ProductAdmin,
    UnknownSku,
)
from souk.services.search import SearchService
from souk.services.search_filters import parse_amount, parse_search
from souk.services.shops import ChannelInfo

router = Router(name=__name__)

LOW_STOCK = 3


def _admin(session: AsyncSession, shop: ChannelInfo, message: Message) -> ProductAdmin:
    assert message.from_user is not None
    return ProductAdmin(session, shop.shop_id, message.from_user.id)


def unknown_sku_text(error: UnknownSku) -> str:
    text = _("No product has the SKU “{sku}”.").format(sku=escape(error.sku))
    if error.closest:
        text += " " + _("Did you mean: {skus}?").format(skus=", ".join(error.closest))
    return text


def _changed(change: Change, language: str) -> str:
    product = change.product
    if change.kind == "price":
        old = money(Decimal(change.old), product.currency, language)
        new = money(Decimal(change.new), product.currency, language)
        line = _("Price of {sku}: {old} → {new}.")
    else:
        old, new = str(change.old), str(change.new)
        line = _("Stock of {sku}: {old} → {new}.")
    return line.format(sku=escape(product.sku), old=old, new=new)


def _two_args(command: CommandObject) -> tuple[str, str] | None:
    parts = (command.args or "").split(maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else None


@router.message(Command("price"))
async def price_command(
    message: Message, command: CommandObject, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    args = _two_args(command)
    if args is None:
        await message.answer(_("Write the SKU and the new price: /price PH-1 199.90"))
        return
    sku, raw = args
    if raw.strip().startswith("-"):
        await message.answer(_("A price cannot be negative."))
        return
    amount = parse_amount(raw)
    if amount is None:
        await message.answer(
            _("“{value}” is not a price. For example: /price {sku} 199.90").format(
                value=escape(raw), sku=escape(sku)
            )
        )
        return
    try:
        change = await _admin(session, shop, message).set_price(sku, amount)
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    except BelowFloor as low:
        await message.answer(
            _("That is below the product's cost ({floor}); the price is unchanged.").format(
                floor=money(low.floor, low.currency, i18n.current_locale)
            )
        )
        return
    except InvalidInput:
        await message.answer(
            _("A price is above zero and below {most}.").format(most=f"{MOST_PRICE:,.0f}")
        )
        return
    await message.answer(_changed(change, i18n.current_locale) + " " + _("/undo reverts it."))


@router.message(Command("stock"))
async def stock_command(
    message: Message, command: CommandObject, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    args = _two_args(command)
    if args is None:
        await message.answer(_("Write the SKU and the stock: /stock PH-1 5"))
        return
    sku, raw = args
    stock = parse_quantity(raw)
    if stock is None:
        await message.answer(
            _("“{value}” is not a whole number. For example: /stock {sku} 5").format(
                value=escape(raw), sku=escape(sku)
            )
        )
        return
    try:
        change = await _admin(session, shop, message).set_stock(sku, stock)
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    except InvalidInput:
        await message.answer(_("Stock is a whole number from 0 to 1,000,000."))
        return
    await message.answer(_changed(change, i18n.current_locale) + " " + _("/undo reverts it."))


@router.message(Command("product"))
async def product_command(
    message: Message, command: CommandObject, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    sku = (command.args or "").strip()
    if not sku:
        await message.answer(_("Write the SKU: /product PH-1"))
        return
    try:
        product = await _admin(session, shop, message).product(sku)
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    await message.answer(staff_product_text(product, i18n.current_locale))


def _product_lines(products: list[Product], language: str) -> list[str]:
    return [
        f"<code>{escape(p.sku)}</code> · {escape(p.title)} · "
        f"{money(p.price, p.currency, language)} · {p.stock}"
        for p in products
    ]


@router.message(Command("find"))
async def find_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    shop: ChannelInfo,
    embedder: Embedder,
    i18n: I18n,
) -> None:
    words = (command.args or "").strip()
    if not words:
        await message.answer(_("Write what to look for: /find wireless headphones"))
        return
    found = await SearchService(session, embedder, shop.shop_id).search(
        parse_search(words), limit=10
    )
    if not found:
        await message.answer(_("Nothing found."))
        return
    await message.answer("\n".join(_product_lines(found, i18n.current_locale)))


@router.message(Command("lowstock"))
async def lowstock_command(
    message: Message, command: CommandObject, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    raw = (command.args or "").strip()
    threshold = parse_quantity(raw) if raw else LOW_STOCK
    if threshold is None or threshold < 0:
        await message.answer(_("Write a threshold from 0: /lowstock 5"))
        return
    products = await _admin(session, shop, message).low_stock(threshold)
    if not products:
        await message.answer(_("No product has {count} or fewer in stock.").format(count=threshold))
        return
    heading = _("{count} or fewer in stock:").format(count=threshold)
    await message.answer("\n".join([heading, *_product_lines(products, i18n.current_locale)]))


@router.message(Command("undo"))
async def undo_command(
    message: Message, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    try:
        change = await _admin(session, shop, message).undo()
    except NothingToUndo:
        await message.answer(_("You have no change left to undo."))
        return
    except ChangedSince:
        await message.answer(
            _("Not undone: the value has changed since your change (a sale or someone else).")
        )
        return
    await message.answer(_("Undone.") + " " + _changed(change, i18n.current_locale))


@router.message(Command("receive"))
async def receive_command(
    message: Message, command: CommandObject, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    parts = (command.args or "").split()
    usage = _("Write the SKU, the quantity and the unit cost: /receive PH-1 10 120.50")
    if len(parts) != 3:
        await message.answer(usage)
        return
    sku, raw_quantity, raw_cost = parts
    quantity, cost = parse_quantity(raw_quantity), parse_amount(raw_cost)
    if quantity is None or quantity <= 0 or cost is None or raw_cost.startswith("-"):
        await message.answer(usage)
        return
    try:
        change = await _admin(session, shop, message).receive(sku, quantity, cost)
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    except InvalidInput:
        await message.answer(usage)
        return
    product = change.product
    assert product.cost is not None
    await message.answer(
        _changed(change, i18n.current_locale)
        + " "
        + _("Average cost now: {cost}.").format(
            cost=money(product.cost, product.currency, i18n.current_locale)
        )
    )


@router.message(Command("adjust"))
async def adjust_command(
    message: Message, command: CommandObject, session: AsyncSession, shop: ChannelInfo, i18n: I18n
) -> None:
    parts = (command.args or "").split(maxsplit=2)
    usage = _("Write the SKU, the change and why: /adjust PH-1 -2 damaged in transit")
    delta = parse_quantity(parts[1].removeprefix("+")) if len(parts) == 3 else None
    if delta is None or delta == 0:
        await message.answer(usage)
        return
    try:
        change = await _admin(session, shop, message).adjust(parts[0], delta, parts[2])
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    except InvalidInput:
        await message.answer(
            _("Stock cannot go below zero. Check the number: /product {sku}").format(
                sku=escape(parts[0])
            )
        )
        return
    await message.answer(_changed(change, i18n.current_locale) + " " + _("/undo reverts it."))


@router.message(Command("export"))
async def export_command(message: Message, session: AsyncSession, shop: ChannelInfo) -> None:
    catalog = await export_csv(session, shop.shop_id)
    await message.answer_document(
        BufferedInputFile(catalog.data, filename=f"{shop.shop_slug}-catalog.csv"),
        caption=_("The catalog, one product per row, in the columns an import reads."),
    )
