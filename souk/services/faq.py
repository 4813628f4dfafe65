"""The shop's FAQ: entries staff keep, and the answer to a customer's question when it
means the same as one of them.

An entry's question is embedded the way customers' questions are (as a query: e5 models
compare two questions symmetrically, which matched paraphrases better than embedding it
as a passage, with or without its answer). It is embedded when saved, in the request:
a shop has tens of entries, one takes ~20 ms, a file of a hundred one batch.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.config import FaqSettings
from souk.db.models import FaqEntry
from souk.errors import InvalidInput
from souk.languages import LANGUAGES, detect_language
from souk.services.import_reader import FileProblem, ImportRefused, Table

MAX_QUESTION = 500
MAX_ANSWER = 3000


@dataclass(frozen=True)
class FaqAnswer:
    """The entry a question matched, and how alike they are (cosine similarity, 0..1)."""

    entry_id: int
    question: str
    answer: str
    score: float


@dataclass(frozen=True)
class NewEntry:
    """An entry as staff give it; `language` None: told by the question's script."""

    question: str
    answer: str
    language: str | None = None


class EntryProblem(enum.StrEnum):
    EMPTY_QUESTION = "the question is empty"
    EMPTY_ANSWER = "the answer is empty"
    LONG_QUESTION = f"the question is longer than {MAX_QUESTION} characters"
    LONG_ANSWER = f"the answer is longer than {MAX_ANSWER} characters"
    LANGUAGE = f"the language is not one of {', '.join(LANGUAGES)}"


class EntryRefused(InvalidInput):
    def __init__(self, problem: EntryProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def checked(entry: NewEntry) -> NewEntry:
    """The entry trimmed, with its language; EntryRefused says what is wrong with it."""
    question, answer = entry.question.strip(), entry.answer.strip()
    language = (entry.language or "").strip().lower() or detect_language(question)
    for problem, wrong in (
        (EntryProblem.EMPTY_QUESTION, not question),
        (EntryProblem.EMPTY_ANSWER, not answer),
        (EntryProblem.LONG_QUESTION, len(question) > MAX_QUESTION),
        (EntryProblem.LONG_ANSWER, len(answer) > MAX_ANSWER),
        (EntryProblem.LANGUAGE, language not in LANGUAGES),
    ):
        if wrong:
            raise EntryRefused(problem)
    return NewEntry(question, answer, language)


@dataclass(frozen=True)
class FaqRows:
    """A file's usable entries, and why the others were left out (row number, reason)."""

    entries: list[NewEntry]
    errors: list[tuple[int, EntryProblem]]


FILE_COLUMNS = ("question", "answer", "language")


def faq_rows(table: Table) -> FaqRows:
    """The entries of a file with the columns question, answer and (optional) language,
    named in any order and case; ImportRefused if question or answer is missing."""
    names = [name.strip().lower() for name in table.header]
    missing = [name for name in FILE_COLUMNS[:2] if name not in names]
    if missing:
        raise ImportRefused(FileProblem.MISSING_COLUMNS, ", ".join(missing))
    at = {name: names.index(name) for name in FILE_COLUMNS if name in names}

    def cell(cells: list[str], name: str) -> str:
        index = at.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    entries: list[NewEntry] = []
    errors: list[tuple[int, EntryProblem]] = []
    for number, cells in table.rows:
        try:
            entries.append(
                checked(
                    NewEntry(
                        cell(cells, "question"), cell(cells, "answer"), cell(cells, "language")
                    )
                )
            )
        except EntryRefused as refused:
            errors.append((number, refused.problem))
    return FaqRows(entries, errors)


class FaqService:
    """Entries of one shop at a time (every method takes the shop) and the matching."""

    def __init__(self, session: AsyncSession, settings: FaqSettings, embedder: Embedder) -> None:
        self._session = session
        self._settings = settings
        self._embedder = embedder

    async def answer(self, shop_id: int, question: str, language: str) -> FaqAnswer | None:
        """The entry closest in meaning to `question`, if it is at least as alike as
        `language`'s threshold. Entries in the customer's language are preferred (the
        answer is in their language); a shop with none in it is searched whole."""
        question = question.strip()
        if not question:
            return None
        (vector,) = await self._embedder.embed_queries([question])
        distance = FaqEntry.embedding.cosine_distance(vector)
        row = (
            await self._session.execute(
                select(FaqEntry.id, FaqEntry.question, FaqEntry.answer, distance)
                .where(FaqEntry.shop_id == shop_id, FaqEntry.embedding.is_not(None))
                .order_by((FaqEntry.language == language).desc(), distance)
                .limit(1)
            )
        ).one_or_none()
        if row is None:
            return None
        entry_id, matched, answer, found = row
        score = 1.0 - float(found)
        if score < self._settings.threshold(language):
            return None
        return FaqAnswer(entry_id, matched, answer, score)

    async def add(self, shop_id: int, entry: NewEntry) -> FaqEntry:
        """Save one entry, embedded (InvalidInput if it is not usable)."""
        (saved,) = await self.add_many(shop_id, [checked(entry)])
        return saved

    async def add_many(self, shop_id: int, entries: Sequence[NewEntry]) -> list[FaqEntry]:
        """Save entries already `checked`, embedded in one batch."""
        vectors = await self._embedder.embed_queries([entry.question for entry in entries])
        rows = [
            FaqEntry(
                shop_id=shop_id,
                language=entry.language or detect_language(entry.question),
                question=entry.question,
                answer=entry.answer,
                embedding=vector,
            )
            for entry, vector in zip(entries, vectors, strict=True)
        ]
        self._session.add_all(rows)
        await self._session.flush()
        return rows

    async def entries(self, shop_id: int) -> list[FaqEntry]:
        return list(
            await self._session.scalars(
                select(FaqEntry).where(FaqEntry.shop_id == shop_id).order_by(FaqEntry.id)
            )
        )

    async def delete(self, shop_id: int, entry_id: int) -> bool:
        """Delete the shop's entry `entry_id`; False if it has none by that id."""
        deleted = await self._session.scalar(
            delete(FaqEntry)
            .where(FaqEntry.shop_id == shop_id, FaqEntry.id == entry_id)
            .returning(FaqEntry.id)
        )
        return deleted is not None

    async def embed_missing(self, shop_id: int | None = None, size: int = 64) -> int:
        """Embed entries saved without an embedding (the demo seed); how many were."""
        query = select(FaqEntry.id, FaqEntry.question).where(FaqEntry.embedding.is_(None))
        if shop_id is not None:
            query = query.where(FaqEntry.shop_id == shop_id)
        rows = list(await self._session.execute(query.order_by(FaqEntry.id).limit(size)))
        if not rows:
            return 0
        vectors = await self._embedder.embed_queries([question for _, question in rows])
        for (entry_id, _), vector in zip(rows, vectors, strict=True):
            await self._session.execute(
                update(FaqEntry).where(FaqEntry.id == entry_id).values(embedding=vector)
            )
        return len(rows)
