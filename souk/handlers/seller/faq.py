"""The shop's FAQ for staff: `/faq add [en|ru|ar] question | answer` (the language told by
the question's script when not given), `/faq list`, `/faq delete N`, and a CSV or XLSX
file with the columns question, answer, language sent with the caption /faq (rows with
a problem are left out and listed). Entries are embedded as they are saved."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.config import Settings
from souk.handlers.filters import Matches
from souk.handlers.seller.imports import read_document
from souk.languages import LANGUAGES
from souk.services.faq import EntryProblem, EntryRefused, FaqService, NewEntry, faq_rows
from souk.services.import_messages import refusal_text
from souk.services.import_reader import ImportRefused
from souk.services.shops import ChannelInfo

router = Router(name=__name__)

LIST_ANSWER_CHARS = 80
ERRORS_LISTED = 20


def _usage() -> str:
    return _(
        "The FAQ:\n/faq add How long is delivery? | 1–2 days in the city\n"
        "/faq add ru Сколько идёт доставка? | 1–2 дня (a language first: en, ru or ar)\n"
        "/faq list\n/faq delete 12\n"
        "Or send a .csv or .xlsx file with the caption /faq and the columns question, "
        "answer, language."
    )


def _problem(problem: EntryProblem) -> str:
    return {
        EntryProblem.EMPTY_QUESTION: _("the question is empty"),
        EntryProblem.EMPTY_ANSWER: _("the answer is empty"),
        EntryProblem.LONG_QUESTION: _("the question is too long"),
        EntryProblem.LONG_ANSWER: _("the answer is too long"),
        EntryProblem.LANGUAGE: _("the language is not en, ru or ar"),
    }[problem]


def _parse_add(args: str) -> NewEntry:
    """`[language] question | answer`."""
    first, _space, rest = args.partition(" ")
    language = first.lower() if first.lower() in LANGUAGES and rest else None
    text = rest if language else args
    question, _bar, answer = text.partition("|")
    return NewEntry(question, answer, language)


# Before /faq: its Command filter would take the caption for a bare /faq.
@router.message(Matches(F.document & F.caption.lower().startswith("/faq")))
async def faq_file(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    embedder: Embedder,
    shop: ChannelInfo,
) -> None:
    assert message.document is not None
    try:
        rows = faq_rows(await read_document(bot, message.document, settings))
    except ImportRefused as refused:
        await message.answer(refusal_text(refused, _))
        return
    if rows.entries:
        await FaqService(session, settings.faq, embedder).add_many(shop.shop_id, rows.entries)
    lines = [_("FAQ entries added: {count}.").format(count=len(rows.entries))]
    if rows.errors:
        lines.append(_("Rows left out: {count}.").format(count=len(rows.errors)))
        lines += [
            _("Row {row}: {problem}").format(row=row, problem=_problem(problem))
            for row, problem in rows.errors[:ERRORS_LISTED]
        ]
    await message.answer("\n".join(lines))


@router.message(Command("faq"))
async def faq_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    embedder: Embedder,
    shop: ChannelInfo,
) -> None:
    action, _space, args = (command.args or "").strip().partition(" ")
    faq = FaqService(session, settings.faq, embedder)
    if action == "add":
        try:
            entry = await faq.add(shop.shop_id, _parse_add(args.strip()))
        except EntryRefused as refused:
            await message.answer(
                _("Not saved: {problem}.").format(problem=_problem(refused.problem))
                + "\n\n"
                + _usage()
            )
            return
        await message.answer(
            _("Saved as FAQ entry {id} ({language}).").format(id=entry.id, language=entry.language)
        )
    elif action == "list":
        entries = await faq.entries(shop.shop_id)
        if not entries:
            await message.answer(_("The FAQ is empty. Add an entry with /faq add."))
            return
        lines = [_("FAQ entries (delete one with /faq delete N):")]
        for entry in entries:
            answer = entry.answer
            if len(answer) > LIST_ANSWER_CHARS:
                answer = answer[: LIST_ANSWER_CHARS - 1] + "…"
            lines.append(
                f"{entry.id}. [{entry.language}] <b>{escape(entry.question)}</b> — {escape(answer)}"
            )
        await message.answer("\n".join(lines))
    elif action == "delete" and args.strip().isdigit():
        if await faq.delete(shop.shop_id, int(args.strip())):
            await message.answer(_("FAQ entry {id} deleted.").format(id=args.strip()))
        else:
            await message.answer(
                _("There is no FAQ entry {id}. See /faq list.").format(id=args.strip())
            )
    else:
        await message.answer(_usage())
