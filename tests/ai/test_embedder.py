"""The local model (the real one, from its wheel) and the OpenAI-compatible embedder."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from souk.ai.embedder import LocalEmbedder, OpenAIEmbedder, build_embedder
from souk.config import AISettings
from souk.errors import ConfigurationError
from tests.fakes.openai_api import FakeOpenAI


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    return LocalEmbedder()


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    api = FakeOpenAI()
    await api.start()
    yield api
    await api.close()


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_local_vectors_are_384_normalized_and_cross_lingual(local: LocalEmbedder) -> None:
    passages = await local.embed_passages(
        [
            "Sony WH-1000XM5 wireless noise cancelling headphones",
            "Bosch electric kettle 1.7 l, stainless steel",
            "Samsung 55 inch 4K QLED television",
        ]
    )
    assert [len(v) for v in passages] == [384, 384, 384]
    assert all(math.isclose(cosine(v, v), 1.0, abs_tol=1e-3) for v in passages)
    for query, expected in [
        ("беспроводные наушники", 0),
        ("телевизор 4K", 2),
        ("electric kettle", 1),
        ("سماعات لاسلكية", 0),
    ]:
        (vector,) = await local.embed_queries([query])
        scores = [cosine(vector, passage) for passage in passages]
        assert scores.index(max(scores)) == expected, (query, scores)
    assert await local.embed_passages([]) == []


async def test_openai_compatible_embedder_asks_for_384_dimensions(
    fake_openai: FakeOpenAI,
) -> None:
    settings = AISettings(
        openai_api_key=SecretStr("sk-test"),
        openai_base_url=fake_openai.base_url,
        embeddings="openai",
        embeddings_model="my-embedder",
        embeddings_query_cache=0,
    )
    embedder = build_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder)
    vectors = await embedder.embed_passages(["first", "second"])
    assert [len(v) for v in vectors] == [384, 384] and vectors[0] != vectors[1]
    assert fake_openai.requests == [
        {
            "model": "my-embedder",
            "input": ["first", "second"],
            "dimensions": 384,
            "encoding_format": "base64",
        }
    ]
    assert math.isclose(cosine(vectors[0], vectors[0]), 1.0, abs_tol=1e-5)  # decoded intact
    await embedder.close()


async def test_the_last_queries_are_embedded_once(fake_openai: FakeOpenAI) -> None:
    embedder = build_embedder(
        AISettings(
            openai_api_key=SecretStr("sk-test"),
            openai_base_url=fake_openai.base_url,
            embeddings="openai",
            embeddings_query_cache=2,
        )
    )
    kettle, same, tv = await embedder.embed_queries(["kettle", "kettle", "tv"])
    assert kettle == same != tv
    assert await embedder.embed_queries(["tv", "kettle"]) == [tv, kettle]  # kept
    await embedder.embed_queries(["phone"])  # "tv" was used least recently: it goes
    assert await embedder.embed_queries(["kettle", "tv"]) == [kettle, tv]
    await embedder.embed_passages(["kettle"])  # passages are not kept
    await embedder.embed_passages(["kettle"])
    assert [request["input"] for request in fake_openai.requests] == [
        ["kettle", "tv"],
        ["phone"],
        ["tv"],
        ["kettle"],
        ["kettle"],
    ]
    await embedder.close()


async def test_a_provider_that_ignores_dimensions_is_refused(fake_openai: FakeOpenAI) -> None:
    fake_openai.ignore_dimensions = True
    embedder = OpenAIEmbedder(
        AISettings(openai_api_key=SecretStr("sk-test"), openai_base_url=fake_openai.base_url)
    )
    with pytest.raises(ConfigurationError, match="384"):
        await embedder.embed_queries(["hello"])
    await embedder.close()


def test_openai_embeddings_need_a_key() -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        OpenAIEmbedder(AISettings(openai_api_key=None, embeddings="openai"))
