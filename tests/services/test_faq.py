"""FaqService with the real local model and pgvector: per-language thresholds on the
labelled set, preference for the customer's language, management and bad input."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk.ai.embedder import LocalEmbedder
from souk.config import FaqSettings
from souk.errors import InvalidInput
from souk.services.faq import FaqService, NewEntry, checked
from tests.conftest import MakeShop
from tests.services.faq_questions import PARAPHRASES, UNRELATED, entries


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


@pytest.mark.parametrize("language", ["en", "ru", "ar"])
async def test_paraphrases_match_their_entry_and_unrelated_questions_do_not(
    language: str,
    make_shop: MakeShop,
    session_factory: async_sessionmaker[AsyncSession],
    embedder: LocalEmbedder,
) -> None:
    shop = await make_shop()
    settings = FaqSettings()
    async with session_factory() as session, session.begin():
        faq = FaqService(session, settings, embedder)
        # Every language's entries: the customer's language must be preferred.
        topics: dict[int, str] = {}
        for each in ("en", "ru", "ar"):
            labelled = entries()[each]
            saved = await faq.add_many(shop.shop_id, [entry for _, entry in labelled])
            if each == language:
                topics = {row.id: topic for row, (topic, _) in zip(saved, labelled, strict=True)}
        for topic, question in PARAPHRASES[language]:
            found = await faq.answer(shop.shop_id, question, language)
            assert found is not None, question
            assert topics.get(found.entry_id) == topic, (question, found.question)
            assert found.score >= settings.threshold(language)
        for question in UNRELATED[language]:
            assert await faq.answer(shop.shop_id, question, language) is None, question


async def test_the_threshold_is_the_languages_own(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], embedder: LocalEmbedder
) -> None:
    shop = await make_shop()
    question = "how many days until my order arrives?"
    async with session_factory() as session, session.begin():
        faq = FaqService(session, FaqSettings(), embedder)
        await faq.add(shop.shop_id, NewEntry("How long does delivery take?", "1-2 days."))
        found = await faq.answer(shop.shop_id, question, "en")
        assert found is not None and found.answer == "1-2 days."
        strict = FaqService(session, FaqSettings(thresholds={"en": found.score + 0.01}), embedder)
        assert await strict.answer(shop.shop_id, question, "en") is None
        # A language without its own threshold has the default one.
        assert FaqSettings(default_threshold=0.5).threshold("fr") == 0.5


async def test_entries_are_listed_deleted_and_kept_per_shop(
    make_shop: MakeShop, session_factory: async_sessionmaker[AsyncSession], embedder: LocalEmbedder
) -> None:
    shop, other = await make_shop(), await make_shop()
    async with session_factory() as session, session.begin():
        faq = FaqService(session, FaqSettings(), embedder)
        entry = await faq.add(shop.shop_id, NewEntry(" Сколько стоит доставка? ", " 300 ₽ "))
        assert (entry.question, entry.answer, entry.language) == (
            "Сколько стоит доставка?",
            "300 ₽",
            "ru",
        )
        assert entry.embedding is not None
        assert await faq.answer(other.shop_id, "Сколько стоит доставка?", "ru") is None
        assert not await faq.delete(other.shop_id, entry.id)
        assert [e.id for e in await faq.entries(shop.shop_id)] == [entry.id]
        assert await faq.delete(shop.shop_id, entry.id)
        assert not await faq.delete(shop.shop_id, entry.id)
        assert await faq.entries(shop.shop_id) == []
        assert await faq.answer(shop.shop_id, "   ", "ru") is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (NewEntry("  ", "an answer"), "question is empty"),
        (NewEntry("a question?", ""), "answer is empty"),
        (NewEntry("a question?", "yes", "fr"), "not one of en, ru, ar"),
        (NewEntry("q" * 501, "yes"), "longer than 500"),
    ],
)
def test_unusable_entries_are_refused(entry: NewEntry, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        checked(entry)


def test_the_language_is_told_by_the_script() -> None:
    assert checked(NewEntry("متى يصل طلبي؟", "x")).language == "ar"
    assert checked(NewEntry("Когда доставка?", "x")).language == "ru"
    assert checked(NewEntry("When?", "x")).language == "en"
    assert checked(NewEntry("When?", "x", "RU")).language == "ru"
