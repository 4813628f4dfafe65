"""Embeddings for the generated catalog: real ones for the base products, derived ones for
their variants.

Embedding 100k passages with the local model takes hours on two shared cores, so only
each base product (variant 0) is embedded for real. A variant differs from its base by
its colour and its edition/size/memory/... value, and in embedding space such a change
is close to a fixed offset: embedding a few reference products in every colour and every
value gives the offsets. A variant's vector is its base's + its colour's and value's
offsets (from the base's own) + gaussian noise, normalized. How good that is, is
measured on a sample of variants embedded for real, and the noise is set to the model's
error there. Real embeddings are cached under `.cache/bench/`, keyed by the texts, so a
second run with the same seed and counts does not run the model.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.search_catalog import BaseProduct, GeneratedProduct, product_texts, variant_of
from bench.search_vocabulary import COLOURS, VARIANTS
from souk.ai.embedder import Embedder
from souk.db.models import EMBEDDING_DIMENSIONS

CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "bench"
EMBED_BATCH = 16
COLOUR_REFERENCES = 4  # base products embedded in every colour
VALUE_REFERENCES = 2  # base products of each variant dimension embedded in every value
CALIBRATION_SAMPLES = 48  # variants embedded for real to measure the model against

Matrix = npt.NDArray[np.float32]
# One row per (dimension, value), in VARIANTS order: where each dimension's rows start.
_VALUE_ROW = dict(
    zip(VARIANTS, np.cumsum([0] + [len(v) for _, v in VARIANTS.values()])[:-1], strict=True)
)


@dataclass(frozen=True)
class CatalogVectors:
    """The real embeddings of the base products, the variant model, and what they cost."""

    bases: Matrix  # one row per base product, L2-normalized
    colours: Matrix  # each colour's offset from the mean colour
    values: Matrix  # each variant value's offset from its dimension's mean (_VALUE_ROW)
    noise: float  # the gaussian noise's standard deviation per dimension
    base_cosine: float  # mean cosine of a real variant to its base
    model_cosine: float  # mean cosine of a real variant to what the model makes of it
    embedded: int  # passages embedded for real
    seconds: float  # spent embedding them (0 when they came from the cache)

    def derive(self, products: Sequence[GeneratedProduct], seed: int) -> Matrix:
        """One vector per product: its base's own for variant 0, else the model's."""
        rows = np.asarray([p.base.index for p in products])
        variants = [(p.base, p.variant) for p in products]
        shifted = self.bases[rows] + variant_shifts(self.colours, self.values, variants)
        rng = np.random.default_rng(seed)
        shifted /= np.linalg.norm(shifted, axis=1, keepdims=True)
        shifted += rng.normal(0.0, self.noise, size=shifted.shape).astype(np.float32)
        shifted /= np.linalg.norm(shifted, axis=1, keepdims=True)
        is_base = np.asarray([p.variant == 0 for p in products])[:, None]
        derived: Matrix = np.where(is_base, self.bases[rows], shifted)
        return derived.astype(np.float32)


def variant_shifts(
    colours: Matrix, values: Matrix, variants: Sequence[tuple[BaseProduct, int]]
) -> Matrix:
    """Each (base, variant)'s colour and value offsets from its base's colour and value."""
    indexes = np.asarray([(*variant_of(b, v), *variant_of(b, 0)) for b, v in variants])
    first = np.asarray([_VALUE_ROW[b.kind.variant] for b, _ in variants])
    colour, value, base_colour, base_value = indexes.T
    shift: Matrix = colours[colour] - colours[base_colour]
    shift += values[first + value] - values[first + base_value]
    return shift


def reference_texts(bases: list[BaseProduct]) -> tuple[list[str], list[str], list[str]]:
    """Passages of the colour references (COLOUR_REFERENCES x every colour), of the value
    references (per dimension, VALUE_REFERENCES x every value) and of the calibration
    sample (variant 1 + index % 7 of bases spread over the catalog)."""
    colours = [
        product_texts(base, colour, variant_of(base, 0)[1], "").passage(base.brand)
        for base in bases[:COLOUR_REFERENCES]
        for colour in range(len(COLOURS))
    ]
    values = []
    for dimension, (_, choices) in VARIANTS.items():
        references = [b for b in bases if b.kind.variant == dimension][:VALUE_REFERENCES]
        if len(references) < VALUE_REFERENCES:
            raise ValueError(f"too few base products vary by {dimension}: ask for more bases")
        for base in references:
            colour = variant_of(base, 0)[0]
            values += [
                product_texts(base, colour, value, "").passage(base.brand)
                for value in range(len(choices))
            ]
    calibration = [
        product_texts(base, *variant_of(base, 1 + base.index % 7), "").passage(base.brand)
        for base in calibration_sample(bases)
    ]
    return colours, values, calibration


def calibration_sample(bases: list[BaseProduct]) -> list[BaseProduct]:
    return bases[:: max(1, len(bases) // CALIBRATION_SAMPLES)][:CALIBRATION_SAMPLES]


async def catalog_vectors(bases: list[BaseProduct], embedder: Embedder) -> CatalogVectors:
    """Real embeddings of the base products and the references; the variant model."""
    passages = [product_texts(b, *variant_of(b, 0), "").passage(b.brand) for b in bases]
    colours, values, calibration = reference_texts(bases)
    texts = passages + colours + values + calibration
    matrix, seconds = await cached_embeddings(texts, embedder)
    ends = np.cumsum([len(passages), len(colours), len(values)])
    base_rows, colour_rows, value_rows, real = np.split(matrix, ends)
    colour_offsets = _centred(colour_rows.reshape(COLOUR_REFERENCES, len(COLOURS), -1))
    value_offsets = []
    for _, choices in VARIANTS.values():
        rows, value_rows = np.split(value_rows, [VALUE_REFERENCES * len(choices)])
        value_offsets.append(_centred(rows.reshape(VALUE_REFERENCES, len(choices), -1)))
    values_matrix = np.concatenate(value_offsets)
    sample = calibration_sample(bases)
    variants = [(b, 1 + b.index % 7) for b in sample]
    own = base_rows[[b.index for b in sample]]
    modelled = own + variant_shifts(colour_offsets, values_matrix, variants)
    modelled /= np.linalg.norm(modelled, axis=1, keepdims=True)
    model_cosine = float(np.mean(np.sum(modelled * real, axis=1)))
    # For unit v and noise n ~ N(0, s^2 I_d): cos(v, v + n) ~ 1 / sqrt(1 + d s^2).
    noise = math.sqrt(max(1.0 / model_cosine**2 - 1.0, 0.0) / EMBEDDING_DIMENSIONS)
    return CatalogVectors(
        bases=base_rows,
        colours=colour_offsets,
        values=values_matrix,
        noise=noise,
        base_cosine=float(np.mean(np.sum(own * real, axis=1))),
        model_cosine=model_cosine,
        embedded=len(texts),
        seconds=seconds,
    )


def _centred(profiles: Matrix) -> Matrix:
    """(references x values x d) -> each value's mean offset from the references' means."""
    centred: Matrix = (profiles - profiles.mean(axis=1, keepdims=True)).mean(axis=0)
    return centred


async def cached_embeddings(texts: list[str], embedder: Embedder) -> tuple[Matrix, float]:
    """`texts` embedded as passages (or read from the cache); seconds spent embedding."""
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:20]
    path = CACHE_DIR / f"search-passages-{len(texts)}-{key}.npy"
    if path.exists():
        cached: Matrix = np.load(path)
        return cached, 0.0
    started = time.monotonic()
    matrix = await embed_in_batches(texts, embedder)
    seconds = time.monotonic() - started
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, matrix)
    return matrix, seconds


async def embed_in_batches(texts: list[str], embedder: Embedder) -> Matrix:
    """`texts` embedded as passages, EMBED_BATCH at a time, with a progress line."""
    rows: list[list[float]] = []
    started = time.monotonic()
    for start in range(0, len(texts), EMBED_BATCH):
        rows += await embedder.embed_passages(texts[start : start + EMBED_BATCH])
        if len(rows) % (EMBED_BATCH * 25) == 0 or len(rows) == len(texts):
            rate = len(rows) / (time.monotonic() - started)
            print(f"  embedded {len(rows)}/{len(texts)} passages ({rate:.1f}/s)", flush=True)
    matrix = np.asarray(rows, dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix
