"""A fake OpenAI-compatible server over real HTTP: `/v1/embeddings` for now.

It answers like the real API (objects, indexes, usage), honours `dimensions`, checks the
bearer key and records every request. Vectors are deterministic per text.
"""

from __future__ import annotations

import array
import base64
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def fake_vector(text: str, dimensions: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    raw = [((seed[i % len(seed)] + i * 31) % 255) / 255.0 - 0.5 for i in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def encode_base64(vector: list[float]) -> str:
    """As the real API sends `encoding_format=base64`: little-endian float32s."""
    return base64.b64encode(array.array("f", vector).tobytes()).decode()


@dataclass
class FakeOpenAI:
    """Start with `await api.start()`; point `base_url` (…/v1) at it."""

    api_key: str = "sk-test"
    native_dimensions: int = 1536
    ignore_dimensions: bool = False  # a provider that does not support `dimensions`
    requests: list[dict[str, Any]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    async def _embeddings(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response(
                {
                    "error": {
                        "message": "Incorrect API key provided",
                        "type": "invalid_request_error",
                    }
                },
                status=401,
            )
        body = await request.json()
        self.requests.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        size = (
            self.native_dimensions
            if self.ignore_dimensions
            else body.get("dimensions", self.native_dimensions)
        )
        base64_wanted = body.get("encoding_format") == "base64"
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": encode_base64(fake_vector(t, size))
                if base64_wanted
                else fake_vector(t, size),
            }
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(t.split()) for t in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
