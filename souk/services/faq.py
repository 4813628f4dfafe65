"""The shop's FAQ: entries staff keep, and the answer to a customer's question when it
means the same as one of them.

An entry's question is embedded the way customers' questions are (as a query: e5 models
compare two questions symmetrically, which matched paraphrases better than embedding it
as a passage, with or without its answer). It is embedded when saved, in the request:
a shop has tens of entries, one takes ~20 ms, a file of a hundred one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from souk.ai.embedder import Embedder
from souk.config import FaqSettings
from souk.db.models import FaqEntry
from souk.errors import InvalidInput
from souk.languages import LANGUAGES, detect_language

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


def checked(entry: NewEntry) -> NewEntry:
    """The entry trimmed, with its language; InvalidInput says what is wrong with it."""
    question, answer = entry.question.strip(), entry.answer.strip()
    if not question:
        raise InvalidInput("the question is empty")
    if not answer:
        raise InvalidInput("the answer is empty")
    if len(question) > MAX_QUESTION:
        raise InvalidInput(f"the question is longer than {MAX_QUESTION} characters")
    if len(answer) > MAX_ANSWER:
        raise InvalidInput(f"the answer is longer than {MAX_ANSWER} characters")
    language = (entry.language or "").strip().lower() or detect_language(question)
    if language not in LANGUAGES:
        raise InvalidInput(f"unknown language {language!r} (one of {', '.join(LANGUAGES)})")
    return NewEntry(question, answer, language)


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
