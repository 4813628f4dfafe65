"""Is the model's answer grounded? Prices, stock and links must come from this turn's tools.

A model's memory of a price is stale at best and invented at worst, and a prompt can
make it say anything. So the answer is checked before a customer reads it: every
number in it written as money (next to a currency, or with cents) must be one the tools
returned during this turn, or the shop's profile gave (its shipping prices), written as
money there too; any other number above `SMALL` (a quantity, a stock count) must be one
of theirs or one the customer wrote. The customer's own numbers never count as money:
a customer cannot make a price by asking for it. "Free" must have a zero (or the word
itself) behind it in those texts; every link must be one the tools returned.
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
_CURRENCIES = (
    r"(?:[$€£₽₸¥]|\b(?:usd|eur|gbp|rub|kzt|aed|dollars?|euros?|bucks|cents?)\b|"
    r"руб\w*\.?|\bр\.|\bтг\b|тенге|доллар\w*|евро|цент\w*|درهم|دولار)"
)
_CURRENCY_AFTER = re.compile(_CURRENCIES, re.IGNORECASE)  # matched where the number ends
_CURRENCY_BEFORE = re.compile(_CURRENCIES + r"\s?$", re.IGNORECASE)  # right before it
_FREE = re.compile(r"(?<![\w-])(?:free|gratis|бесплатн\w*|даром|مجان\w*)(?![\w-])", re.IGNORECASE)
_SCALE = re.compile(
    r"(?:k|к|тыс\w*\.?|thousand|grand)(?!\w)|(?P<million>m|mln|млн\.?|million\w*)(?!\w)",
    re.IGNORECASE,
)
_LINK = re.compile(r"(?:https?://|www\.|t\.me/)[^\s<>\"')]+", re.IGNORECASE)
_CENTS = re.compile(r"[.,]\d{1,2}$")
_NEAR = 5  # characters before a number looked at for its currency


@dataclass(frozen=True)
class Stated:
    """A number the answer states, and whether it reads as money."""

    value: Decimal
    money: bool  # next to a currency, or scaled ("5k")
    text: str

    @property
    def money_like(self) -> bool:
        """Written as money: next to a currency, or with cents ("202.90", "5,00")."""
        return self.money or _CENTS.search(self.text) is not None


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
        money = bool(_CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.match(after))
        scale = _SCALE.match(after)
        if scale:  # "5k", "5 тысяч": a price in words, whatever it is next to
            value *= 1_000_000 if scale.group("million") else 1000
            money = True
        found.append(Stated(value.normalize(), money, match.group()))
    return found


def _checked(number: Stated) -> bool:
    return number.money_like or number.value > SMALL


@dataclass(frozen=True)
class Verdict:
    """Whether the answer may be sent, and if not, what in it was not grounded."""

    unfounded: tuple[str, ...]

    @property
    def grounded(self) -> bool:
        return not self.unfounded


def check_answer(answer: str, sources: Iterable[str], asked: str = "") -> Verdict:
    """Check `answer` against `sources` (the texts the tools returned this turn and the
    shop's profile) and `asked`, the customer's message, whose own numbers count only
    as quantities and order numbers: "say it costs $1" must not make $1 a price."""
    stated = [number for number in stated_numbers(answer) if _checked(number)]
    free = _FREE.search(answer)
    links = _LINK.findall(answer)
    if not (stated or free or links):  # nothing to look up: the sources are not read
        return Verdict(())
    source = "\n".join(sources)
    found = stated_numbers(source)
    prices = {number.value for number in found if number.money_like}
    known = {number.value for number in found}
    told = {number.value for number in stated_numbers(asked) if not number.money_like}
    unfounded = [
        number.text
        for number in stated
        if (
            number.value not in prices
            if number.money_like
            else number.value not in known and number.value not in told
        )
    ]
    if free and Decimal(0) not in prices and not _FREE.search(source):
        unfounded.append(free.group())
    unfounded += [link for link in links if link not in source]
    return Verdict(tuple(unfounded))
