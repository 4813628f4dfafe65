"""Repricing for staff: /reprice sets, shows or deletes the rule of a SKU or a category and
switches the shop's repricing off and on; /reprice_log SKU shows the latest decisions
with their trace; the Yes/No buttons of a proposed price and the Revert buttons."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.config import Settings
from souk.db.models import DecisionStatus, NoCompetitor, RepriceRule, Shop
from souk.formatting import MESSAGE_LIMIT, money
from souk.handlers.seller.products import unknown_sku_text
from souk.keyboards.callbacks import RepriceAction, RepriceCD
from souk.keyboards.repricing import revert_keyboard
from souk.reprice_texts import (
    answer_text,
    decision_text,
    rule_text,
    syntax_problem,
    usage,
)
from souk.services.products import UnknownSku
from souk.services.repricing.desk import DecisionDesk, DecisionNotFound, Outcome
from souk.services.repricing.rules import (
    FloorAboveCeiling,
    IncompleteRule,
    RuleBook,
    RuleTarget,
    UnknownCategory,
)
from souk.services.repricing.runs import Decision
from souk.services.repricing.syntax import RuleSyntaxError, parse_rule_words
from souk.services.shops import ChannelInfo

router = Router(name=__name__)

_SWITCH = {"off", "on"}
_DELETE = "delete"


def _book(session: AsyncSession, shop: ChannelInfo, message: Message) -> RuleBook:
    assert message.from_user is not None
    return RuleBook(session, shop.shop_id, message.from_user.id)


def _currency(target: RuleTarget, fallback: str) -> str:
    return target.product.currency if target.product is not None else fallback


@router.message(Command("reprice"))
async def reprice_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
    settings: Settings,
) -> None:
    words = (command.args or "").split()
    book = _book(session, shop, message)
    if not words:
        state = _("Repricing is off for the shop.") if await book.is_paused() else ""
        await message.answer("\n\n".join(filter(None, [state, usage()])))
        return
    if len(words) == 1 and words[0].lower() in _SWITCH:
        await _switch(message, book, words[0].lower() == "on")
        return
    try:
        target = await book.target(words[0])
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    except UnknownCategory as unknown:
        await message.answer(
            _("No category has the slug “{slug}”. The shop's: {slugs}.").format(
                slug=escape(unknown.slug), slugs=", ".join(unknown.slugs) or "-"
            )
        )
        return
    language, currency = i18n.current_locale, _currency(target, await _shop_currency(session, shop))
    default = NoCompetitor(settings.reprice.no_competitor)
    if len(words) == 1:
        await message.answer(await _shown(book, target, currency, language, default))
        return
    if [word.lower() for word in words[1:]] == [_DELETE]:
        removed = await book.remove(target)
        await message.answer(
            (
                _("The rule of {target} is deleted.") if removed else _("{target} has no rule.")
            ).format(target=escape(target.name))
        )
        return
    await _save(message, book, target, words[1:], currency, language, default)


async def _shop_currency(session: AsyncSession, shop: ChannelInfo) -> str:
    found = await session.get(Shop, shop.shop_id)
    return found.currency if found is not None else "USD"


async def _switch(message: Message, book: RuleBook, on: bool) -> None:
    if on:
        await book.resume()
        await message.answer(_("Repricing is on again for the shop."))
    else:
        await book.pause()
        await message.answer(
            _("Repricing is off for the shop: no rule changes a price until /reprice on.")
        )


async def _shown(
    book: RuleBook, target: RuleTarget, currency: str, language: str, default: NoCompetitor
) -> str:
    """The rule in effect for the target, and where it comes from."""
    rule: RepriceRule | None
    source = ""
    if target.product is not None:
        effect = await book.in_effect(target.product)
        rule = effect.rule
        if effect.category is not None and rule is not None:
            source = _("(the rule of category:{slug})").format(slug=escape(effect.category.slug))
    else:
        rule = await book.rule_of(target)
    if rule is None:
        return _("{target} has no repricing rule. {example}").format(
            target=escape(target.name),
            example=_("For example: /reprice {target} beat 1% floor 100").format(
                target=escape(target.name)
            ),
        )
    heading = " ".join(
        filter(None, [_("Rule of {target}").format(target=escape(target.name)), source])
    )
    paused = (
        ["", _("Repricing is off for the shop (/reprice on).")] if await book.is_paused() else []
    )
    return "\n".join([f"<b>{heading}</b>", rule_text(rule, currency, language, default), *paused])


async def _save(
    message: Message,
    book: RuleBook,
    target: RuleTarget,
    words: list[str],
    currency: str,
    language: str,
    default: NoCompetitor,
) -> None:
    try:
        rule = await book.save(target, parse_rule_words(words))
    except RuleSyntaxError as error:
        await message.answer(syntax_problem(error) + "\n" + _("Nothing was saved. See /reprice."))
        return
    except IncompleteRule:
        await message.answer(
            _("A new rule needs a strategy: beat, match, position or fixed. See /reprice.")
        )
        return
    except FloorAboveCeiling as high:
        floor = money(high.floor, currency, language)
        ceiling = money(high.ceiling, currency, language)
        text = (
            _(
                "Refused: the floor {floor} (the cost of {sku} plus the minimum margin) is above "
                "the ceiling {ceiling}."
            ).format(floor=floor, sku=escape(high.sku), ceiling=ceiling)
            if high.sku is not None
            else _("Refused: the floor {floor} is above the ceiling {ceiling}.").format(
                floor=floor, ceiling=ceiling
            )
        )
        await message.answer(text + " " + _("Nothing was saved."))
        return
    await message.answer(
        "\n".join(
            [
                _("Saved. Rule of {target}:").format(target=escape(target.name)),
                rule_text(rule, currency, language, default),
            ]
        )
    )


@router.message(Command("reprice_log"))
async def reprice_log_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
    settings: Settings,
) -> None:
    sku = (command.args or "").strip()
    if not sku or sku.lower().startswith("category:"):
        await message.answer(_("Write the SKU: /reprice_log PH-1"))
        return
    book = _book(session, shop, message)
    try:
        target = await book.target(sku)
    except UnknownSku as unknown:
        await message.answer(unknown_sku_text(unknown))
        return
    assert target.product is not None and message.from_user is not None
    desk = DecisionDesk(session, shop.shop_id, message.from_user.id)
    decisions = await desk.recent(target.product, settings.reprice.log_size)
    if not decisions:
        await message.answer(
            _("No repricing decision for {sku} yet.").format(sku=escape(target.product.sku))
        )
        return
    language = i18n.current_locale
    heading = _("Latest repricing decisions for {sku}, newest first:").format(
        sku=escape(target.product.sku)
    )
    # Whole decisions, newest first, as many as fit one message (a cut could split a tag).
    text, shown = heading, list[Decision]()
    for decision in decisions:
        block = decision_text(decision, language)
        if len(text) + 2 + len(block) > MESSAGE_LIMIT:
            break
        text, shown = f"{text}\n\n{block}", [*shown, decision]
    applied = [d.id for d in shown if d.status is DecisionStatus.APPLIED]
    await message.answer(text, reply_markup=revert_keyboard(applied))


@router.callback_query(RepriceCD.filter())
async def reprice_button(
    query: CallbackQuery,
    callback_data: RepriceCD,
    session: AsyncSession,
    shop: ChannelInfo,
    i18n: I18n,
) -> None:
    desk = DecisionDesk(session, shop.shop_id, query.from_user.id)
    now = datetime.now(UTC)
    answer = {
        RepriceAction.YES: desk.approve,
        RepriceAction.NO: desk.reject,
        RepriceAction.REVERT: desk.revert,
    }[callback_data.action]
    try:
        done = await answer(callback_data.decision_id, now)
    except DecisionNotFound:
        await query.answer(_("This decision was not found."), show_alert=True)
        return
    finished = done.outcome in (Outcome.APPLIED, Outcome.REJECTED, Outcome.REVERTED)
    await query.answer(answer_text(done, i18n.current_locale)[:200], show_alert=not finished)
    if callback_data.action is RepriceAction.REVERT or not isinstance(query.message, Message):
        return
    # The Yes/No buttons give way to Revert once applied, and to nothing otherwise.
    keyboard = revert_keyboard([done.decision.id]) if done.outcome is Outcome.APPLIED else None
    with contextlib.suppress(TelegramBadRequest):  # unchanged, or too old to edit
        await query.message.edit_reply_markup(reply_markup=keyboard)
