"""A generated catalog for the search benchmark: base products and their variants, and
queries in English and Russian, some with filters written in.

A base product is a brand's model of a product type with two or three attributes
("Sonora SO-1234 wireless headphones, noise-cancelling, foldable"); its variants differ
by colour and by the type's variant dimension (edition, size, memory, volume, weight).
Everything is drawn from one seeded generator, so a seed and a count give the same
catalog every time.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from bench.search_vocabulary import CATEGORIES, COLOURS, FREE_QUERIES, VARIANTS, ProductType, Words
from souk.db.models import Product
from souk.services.demo import content_hash
from souk.services.embeddings import product_passage

OUT_OF_STOCK_SHARE = 0.15
INACTIVE_SHARE = 0.02
FILTERED_QUERY_SHARE = 0.4


@dataclass(frozen=True)
class BaseProduct:
    """A brand's model of a product type; every product is a variant of one."""

    index: int
    category: str
    kind: ProductType
    brand: str
    model: str
    attributes: tuple[Words, ...]
    price: float


@dataclass(frozen=True)
class ProductTexts:
    """What a product says about itself, in English and Russian."""

    sku: str
    title: str
    description: str
    translations: dict[str, dict[str, str]]
    attributes: dict[str, object]

    def passage(self, brand: str) -> str:
        """What the embeddings task would embed for this product."""
        product = Product(
            title=self.title,
            brand=brand,
            description=self.description,
            translations=self.translations,
            attributes=self.attributes,
        )
        return product_passage(product)

    def content_hash(self, brand: str) -> str:
        return content_hash(self.title, self.description, brand, self.translations, self.attributes)


def make_bases(count: int, seed: int) -> list[BaseProduct]:
    """`count` base products, spread evenly over the product types."""
    rng = random.Random(seed)
    kinds = [(category, kind) for category in CATEGORIES for kind in category.types]
    bases = []
    for index in range(count):
        category, kind = kinds[index % len(kinds)]
        brand = rng.choice(category.brands)
        model = f"{brand[:2].upper()}-{rng.randint(100, 9999)}"
        extra = rng.sample(kind.attributes[1:], rng.randint(1, 2))
        low, high = kind.price
        price = math.exp(rng.uniform(math.log(low), math.log(high)))
        attributes = (rng.choice(kind.attributes), *extra)
        unique = tuple(dict.fromkeys(attributes))
        bases.append(BaseProduct(index, category.slug, kind, brand, model, unique, price))
    return bases


def variant_of(base: BaseProduct, variant: int) -> tuple[int, int]:
    """The base product's `variant`-th variant (0 is the base itself) as indexes of its
    colour in COLOURS and of its value in the type's VARIANTS."""
    values = VARIANTS[base.kind.variant][1]
    colour = (base.index + variant) % len(COLOURS)
    return colour, (variant // len(COLOURS) + base.index) % len(values)


def variant_texts(base: BaseProduct, variant: int) -> ProductTexts:
    """The texts of the base product's `variant`-th variant."""
    colour, value = variant_of(base, variant)
    return product_texts(base, colour, value, f"{base.model}-{base.index:05d}-{variant:03d}")


def product_texts(base: BaseProduct, colour: int, value: int, sku: str) -> ProductTexts:
    """The texts of the base product in COLOURS[colour] and its type's values[value]."""
    (label_en, label_ru), values = VARIANTS[base.kind.variant]
    colour_en, colour_ru = COLOURS[colour]
    value_en, value_ru = values[value]
    noun_en, noun_ru = base.kind.noun
    (first_en, first_ru), *rest = base.attributes
    title_en = f"{base.brand} {base.model} {first_en} {noun_en}, {colour_en}, {value_en}"
    title_ru = (
        f"{noun_ru.capitalize()} {first_ru} {base.brand} {base.model}, {colour_ru}, {value_ru}"
    )
    features_en = ", ".join(en for en, _ in base.attributes)
    features_ru = ", ".join(ru for _, ru in base.attributes)
    description_en = (
        f"{noun_en.capitalize()} by {base.brand}: {features_en}. "
        f"Colour: {colour_en}. {label_en.capitalize()}: {value_en}."
    )
    description_ru = (
        f"{noun_ru.capitalize()} {base.brand}: {features_ru}. "
        f"Цвет: {colour_ru}. {label_ru.capitalize()}: {value_ru}."
    )
    attributes: dict[str, object] = {"model": base.model, "colour": colour_en, label_en: value_en}
    if rest:
        attributes["features"] = [en for en, _ in rest]
    return ProductTexts(
        sku=sku,
        title=title_en,
        description=description_en,
        translations={"ru": {"title": title_ru, "description": description_ru}},
        attributes=attributes,
    )


@dataclass(frozen=True)
class GeneratedProduct:
    """One product of the catalog; `base` and `variant` say which vector it gets."""

    base: BaseProduct
    variant: int
    texts: ProductTexts
    price: Decimal
    stock: int
    is_active: bool


def make_products(bases: list[BaseProduct], count: int, seed: int) -> Iterator[GeneratedProduct]:
    """`count` products: every base's variant 0 first, then every base's variant 1, ..."""
    rng = random.Random(seed)
    for index in range(count):
        base = bases[index % len(bases)]
        variant = index // len(bases)
        price = base.price * rng.uniform(0.9, 1.15)
        amount = Decimal(f"{int(price)}.99") if price < 100 else Decimal(int(price))
        stock = 0 if rng.random() < OUT_OF_STOCK_SHARE else rng.randint(1, 300)
        yield GeneratedProduct(
            base=base,
            variant=variant,
            texts=variant_texts(base, variant),
            price=amount,
            stock=stock,
            is_active=rng.random() >= INACTIVE_SHARE,
        )


def make_queries(bases: list[BaseProduct], count: int, seed: int) -> list[str]:
    """`count` distinct queries about `bases`, half English, half Russian; some name a
    brand, a colour, a model number, have a typo or ask nothing in particular; 40% carry
    a filter."""
    rng = random.Random(seed)
    queries: dict[str, None] = {}
    while len(queries) < count:
        russian = rng.random() < 0.5
        words = _query_words(rng, rng.choice(bases), russian)
        if rng.random() < FILTERED_QUERY_SHARE:
            words += _query_filter(rng, russian)
        queries.setdefault(words)
    return list(queries)


def is_model_number(words: str) -> bool:
    """Whether a query is a bare model number ("SO-1234"), as `_query_words` makes them."""
    return re.fullmatch(r"[A-Z][A-Za-z]-\d+", words) is not None


def _query_words(rng: random.Random, base: BaseProduct, russian: bool) -> str:
    """What the customer looks for, in one of eight shapes."""
    language = 1 if russian else 0
    noun = base.kind.noun[language]
    attribute = rng.choice(base.kind.attributes)[language]
    colour = rng.choice(COLOURS)[language]
    shape = rng.randrange(8)
    if shape == 0:
        return noun
    if shape == 1:
        return f"{noun} {attribute}" if russian else f"{attribute} {noun}"
    if shape == 2:
        return f"{base.brand} {noun}"
    if shape == 3:
        return f"{noun} {colour}" if russian else f"{colour} {noun}"
    if shape == 4:
        return base.model
    if shape == 5:
        return _typo(rng, noun)
    if shape == 6:
        return rng.choice(FREE_QUERIES)[language]
    return f"{attribute} {noun} {base.brand}"


def _query_filter(rng: random.Random, russian: bool) -> str:
    """A price limit, a range or "in stock", as people write them."""
    amount = rng.choice((50, 100, 200, 300, 500, 1000, 5000))
    if russian:
        return rng.choice(
            (f" до {amount}", " в наличии", f" от {amount // 5} до {amount}", f" дешевле {amount}")
        )
    return rng.choice(
        (f" under {amount}", " in stock", f" between {amount // 5} and {amount}", f" max {amount}")
    )


def _typo(rng: random.Random, word: str) -> str:
    """`word` with one letter dropped or two neighbours swapped."""
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        return word[:at] + word[at + 1 :]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
