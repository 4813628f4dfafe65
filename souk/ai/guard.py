"""Is the model's answer grounded? Prices, stock and links must come from this turn's tools.

A model's memory of a price is stale at best and invented at worst, and a prompt can
make it say anything. So the answer is checked before a customer reads it: every
number in it that could be a price or a quantity (with a decimal part, next to a
currency, or above `SMALL`) must be one the tools returned during this turn, or one
the customer wrote, or one of the shop's profile (its shipping prices); "free" must
have a zero (or the word itself) behind it; every link must be one the tools returned.
An answer that fails is not sent: the caller shows the products the tools found, as
cards, whose prices and stock are read from the database as they are rendered.

Numbers are compared as values ("$1,299.00", "1299", "1 299" are one number), so an
answer may format a price as it likes. Small whole numbers ("3 options", "2 left")
pass unchecked: the cards under the answer show the live stock anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from souk.services.search_filters import NATIVE_DIGITS, parse_amount

SMALL = Decimal(10)
_NUMBER = re.compile(
    r"(?<![\d.,])(?:\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?!\d)"
)
_CURRENCY = re.compile(
    r"[$€£₽₸¥]|\b(?:usd|eur|gbp|rub|kzt|aed|dollars?|euros?|bucks|cents?)\b|"
    r"руб\w*|\bр\.|\bтг\b|тенге|доллар\w*|евро|цент\w*|درهم|دولار",
    re.IGNORECASE,
)
_FREE = re.compile(r"(?<![\w-])(?:free|gratis|бесплатн\w*|даром|مجان\w*)(?![\w-])", re.IGNORECASE)
_SCALE = re.compile(
    r"(?:k|к|тыс\w*\.?|thousand|grand)(?!\w)|(?P<million>m|mln|млн\.?|million\w*)(?!\w)",
    re.IGNORECASE,
)
_LINK = re.compile(r"(?:https?://|www\.|t\.me/)[^\s<>\"')]+", re.IGNORECASE)
_NEAR = 5  # characters between a number and the currency sign before it


@dataclass(frozen=True)
class Stated:
    """A number the answer states, and whether it reads as money."""

    value: Decimal
    money: bool
    text: str


def stated_numbers(text: str) -> list[Stated]:
    """The numbers written in `text`, as values."""
    text = text.translate(NATIVE_DIGITS)
    found = []
    for match in _NUMBER.finditer(text):
        value = parse_amount(match.group())
        if value is None:
            continue
        before = text[max(0, match.start() - _NEAR) : match.start()]
        after = text[match.end() : match.end() + _NEAR + 8].lstrip()
        money = bool(_CURRENCY.search(before) or _CURRENCY.match(after))
        scale = _SCALE.match(after)
        if scale:  # "5k", "5 тысяч": a price in words, whatever it is next to
            value *= 1_000_000 if scale.group("million") else 1000
            money = True
        found.append(Stated(value.normalize(), money, match.group()))
    return found


def _checked(number: Stated) -> bool:
    return number.money or number.value > SMALL or number.value != number.value.to_integral()


@dataclass(frozen=True)
class Verdict:
    """Whether the answer may be sent, and if not, what in it was not grounded."""

    unfounded: tuple[str, ...]

    @property
    def grounded(self) -> bool:
        return not self.unfounded


def check_answer(answer: str, sources: Iterable[str]) -> Verdict:
    """Check `answer` against `sources`: the texts the tools returned this turn, the
    customer's message and the shop's profile."""
    source = "\n".join(sources)
    known = {number.value for number in stated_numbers(source)}
    unfounded = [
        number.text
        for number in stated_numbers(answer)
        if _checked(number) and number.value not in known
    ]
    free = _FREE.search(answer)
    if free and Decimal(0) not in known and not _FREE.search(source):
        unfounded.append(free.group())
    unfounded += [link for link in _LINK.findall(answer) if link not in source]
    return Verdict(tuple(unfounded))
