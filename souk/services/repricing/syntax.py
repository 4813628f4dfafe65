"""The words of `/reprice TARGET ...`: what staff type to set a rule, read into the rule
columns they change. Order does not matter; a word not given leaves its setting as it is.

    beat 10 | beat 1.5%        strategy: undercut the lowest offer by an amount or percent
    match                      strategy: the lowest offer's price
    position 2                 strategy: just under the 2nd cheapest offer (`step` applies)
    fixed 1990                 strategy: one price
    step 5 | step 1%           the undercut of `position` (and `beat`)
    floor 100 | floor none     the set minimum price
    margin 15% | margin none   the minimum margin over cost (floor = max(floor, cost x 1.15))
    ceiling 500 | ceiling none the highest price
    maxchange 50 | maxchange 5% | maxchange none   the most one run moves the price
    cooldown 60                minutes between two changes
    rating 4.5 | rating none   offers of sellers rated lower are ignored
    outofstock ignore|count    whether sold-out offers are ignored (the default) or count
    nocompetitor hold|ceiling|default   with no offer left: keep the price, or the ceiling
    mode auto|dry-run|approve  apply, only log, or ask staff Yes/No
    on | off                   the rule's own switch
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TypeVar

from souk.db.models import NoCompetitor, RepriceMode, Strategy
from souk.errors import InvalidInput
from souk.services.search_filters import parse_amount

CATEGORY_PREFIX = "category:"
MOST_AMOUNT = Decimal("1000000000")
MOST_PERCENT = Decimal(100)
MOST_POSITION = 100
MOST_COOLDOWN = 7 * 24 * 60
MOST_RATING = Decimal(5)
NONE = "none"

RuleValues = dict[str, object]
_Choice = TypeVar("_Choice", bound=enum.StrEnum)


class SyntaxProblem(enum.StrEnum):
    UNKNOWN_WORD = "unknown_word"
    MISSING_VALUE = "missing_value"
    NOT_AN_AMOUNT = "not_an_amount"  # a price, step or limit that is not a positive number
    NEGATIVE = "negative"
    NOT_A_PERCENT = "not_a_percent"  # a percentage over 100 (or an amount where % is needed)
    NOT_A_COUNT = "not_a_count"  # position or cooldown: a whole number in range
    NOT_A_RATING = "not_a_rating"
    NOT_A_CHOICE = "not_a_choice"  # mode, outofstock, nocompetitor
    TWICE = "twice"  # one setting given twice (or two strategies)


class RuleSyntaxError(InvalidInput):
    """A word of the command cannot be read: which, its value, and why."""

    def __init__(self, problem: SyntaxProblem, word: str, value: str = "") -> None:
        super().__init__(f"{problem}: {word} {value}".strip())
        self.problem = problem
        self.word = word
        self.value = value


def _amount(word: str, raw: str, *, percent_allowed: bool) -> tuple[Decimal, bool]:
    """A positive amount, or a percentage ("1.5%") when allowed: (value, is_percent)."""
    text = raw.strip()
    if text.startswith("-"):
        raise RuleSyntaxError(SyntaxProblem.NEGATIVE, word, raw)
    is_percent = text.endswith("%")
    if is_percent and not percent_allowed:
        raise RuleSyntaxError(SyntaxProblem.NOT_AN_AMOUNT, word, raw)
    value = parse_amount(text.removesuffix("%"))
    if value is None or value <= 0 or value >= MOST_AMOUNT:
        raise RuleSyntaxError(SyntaxProblem.NOT_AN_AMOUNT, word, raw)
    if is_percent and value > MOST_PERCENT:
        raise RuleSyntaxError(SyntaxProblem.NOT_A_PERCENT, word, raw)
    return value.quantize(Decimal("0.01")), is_percent


def _count(word: str, raw: str, lowest: int, highest: int) -> int:
    if not raw.isdecimal() or not lowest <= int(raw) <= highest:
        raise RuleSyntaxError(SyntaxProblem.NOT_A_COUNT, word, raw)
    return int(raw)


def _choice(word: str, raw: str, kind: type[_Choice]) -> _Choice:
    try:
        return kind(raw.lower().replace("-", "_"))
    except ValueError:
        raise RuleSyntaxError(SyntaxProblem.NOT_A_CHOICE, word, raw) from None


class _Reader:
    """The words after the target, read one setting at a time."""

    def __init__(self, words: list[str]) -> None:
        self._words: Iterator[str] = iter(words)
        self.values: RuleValues = {}

    def value_of(self, word: str) -> str:
        value = next(self._words, None)
        if value is None:
            raise RuleSyntaxError(SyntaxProblem.MISSING_VALUE, word)
        return value

    def set(self, word: str, **values: object) -> None:
        if any(key in self.values for key in values):
            raise RuleSyntaxError(SyntaxProblem.TWICE, word)
        self.values.update(values)

    def read(self) -> RuleValues:
        for raw in self._words:
            word = raw.lower()
            handler = _WORDS.get(word)
            if handler is None:
                raise RuleSyntaxError(SyntaxProblem.UNKNOWN_WORD, raw)
            handler(self, word)
        return self.values


def _strategy(reader: _Reader, word: str, strategy: Strategy, **values: object) -> None:
    reader.set(word, strategy=strategy)
    reader.values.update(values)


def _beat(reader: _Reader, word: str) -> None:
    step, percent = _amount(word, reader.value_of(word), percent_allowed=True)
    reader.set("step", step=step, step_is_percent=percent)
    _strategy(reader, word, Strategy.BEAT)


def _position(reader: _Reader, word: str) -> None:
    position = _count(word, reader.value_of(word), 1, MOST_POSITION)
    _strategy(reader, word, Strategy.POSITION, position=position)


def _fixed(reader: _Reader, word: str) -> None:
    price, _ = _amount(word, reader.value_of(word), percent_allowed=False)
    _strategy(reader, word, Strategy.FIXED, fixed_price=price)


def _step(reader: _Reader, word: str) -> None:
    step, percent = _amount(word, reader.value_of(word), percent_allowed=True)
    reader.set(word, step=step, step_is_percent=percent)


def _money(column: str) -> Callable[[_Reader, str], None]:
    def read(reader: _Reader, word: str) -> None:
        raw = reader.value_of(word)
        value = None if raw.lower() == NONE else _amount(word, raw, percent_allowed=False)[0]
        reader.set(word, **{column: value})

    return read


def _margin(reader: _Reader, word: str) -> None:
    raw = reader.value_of(word)
    if raw.lower() == NONE:
        reader.set(word, min_margin_percent=None)
        return
    value, _ = _amount(word, raw if raw.endswith("%") else raw + "%", percent_allowed=True)
    if value > 1000:
        raise RuleSyntaxError(SyntaxProblem.NOT_A_PERCENT, word, raw)
    reader.set(word, min_margin_percent=value)


def _max_change(reader: _Reader, word: str) -> None:
    raw = reader.value_of(word)
    if raw.lower() == NONE:
        reader.set(word, max_change=None, max_change_is_percent=False)
        return
    value, percent = _amount(word, raw, percent_allowed=True)
    reader.set(word, max_change=value, max_change_is_percent=percent)


def _cooldown(reader: _Reader, word: str) -> None:
    reader.set(word, cooldown_minutes=_count(word, reader.value_of(word), 0, MOST_COOLDOWN))


def _rating(reader: _Reader, word: str) -> None:
    raw = reader.value_of(word)
    if raw.lower() == NONE:
        reader.set(word, min_rating=None)
        return
    value = parse_amount(raw) if not raw.startswith("-") else None
    if value is None or value > MOST_RATING:
        raise RuleSyntaxError(SyntaxProblem.NOT_A_RATING, word, raw)
    reader.set(word, min_rating=value.quantize(Decimal("0.01")))


class _OutOfStock(enum.StrEnum):
    IGNORE = "ignore"
    COUNT = "count"


def _out_of_stock(reader: _Reader, word: str) -> None:
    choice = _choice(word, reader.value_of(word), _OutOfStock)
    reader.set(word, ignore_out_of_stock=choice is _OutOfStock.IGNORE)


def _no_competitor(reader: _Reader, word: str) -> None:
    raw = reader.value_of(word)
    value = None if raw.lower() == "default" else _choice(word, raw, NoCompetitor)
    reader.set(word, no_competitor=value)


def _mode(reader: _Reader, word: str) -> None:
    raw = reader.value_of(word)
    reader.set(word, mode=_choice(word, raw.replace("dryrun", "dry_run"), RepriceMode))


_WORDS: dict[str, Callable[[_Reader, str], None]] = {
    "beat": _beat,
    "match": lambda reader, word: _strategy(reader, word, Strategy.MATCH),
    "position": _position,
    "fixed": _fixed,
    "step": _step,
    "floor": _money("min_price"),
    "margin": _margin,
    "ceiling": _money("max_price"),
    "maxchange": _max_change,
    "cooldown": _cooldown,
    "rating": _rating,
    "outofstock": _out_of_stock,
    "nocompetitor": _no_competitor,
    "mode": _mode,
    "on": lambda reader, word: reader.set(word, is_enabled=True),
    "off": lambda reader, word: reader.set(word, is_enabled=False),
}


def parse_rule_words(words: list[str]) -> RuleValues:
    """The rule columns the words set (RuleSyntaxError for the first word that is wrong)."""
    return _Reader(words).read()
