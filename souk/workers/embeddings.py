"""Embeddings off the request path: FAQ entries saved without one, then the products whose
content changed (shops taking turns), batch by batch within a time budget."""

from __future__ import annotations

import time
from collections.abc import Callable

from souk.runtime import Runtime
from souk.services.embeddings import EmbeddingService
from souk.services.faq import FaqService


async def refresh_embeddings(
    runtime: Runtime,
    *,
    budget_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    stop: Callable[[], bool] | None = None,
) -> tuple[int, int]:
    """Embed what is missing until done, out of time or told to `stop` (between batches);
    (FAQ entries, products) embedded. FAQ entries come first: they are few, and until
    embedded a shop's FAQ never answers (the demo seed saves them without, as does
    anything written straight to the table)."""
    entries = products = 0
    started = clock()
    while clock() - started < budget_seconds and not (stop and stop()):
        async with runtime.session_factory() as session:
            faq = FaqService(session, runtime.settings.faq, runtime.embedder)
            done_entries = await faq.embed_missing()
            done_products = 0
            if not done_entries:
                done_products = await EmbeddingService(session, runtime.embedder).refresh_batch()
            await session.commit()
        if not done_entries and not done_products:
            break
        entries += done_entries
        products += done_products
    return entries, products
