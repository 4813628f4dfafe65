"""A price and its currency read from text as shops write it, or a refusal saying why.

Rules (never a guess; each refusal is an `UnparseablePrice` with a `PriceProblem`):

- Digits may be any Unicode decimal digits (Arabic-Indic included); any kind of space
  (no-break, thin, narrow) counts as a space.
- A space, an apostrophe or the Arabic thousands sign only ever groups thousands, and only
  in front of exactly three digits; otherwise it separates two amounts ("1 299" is one
  amount, "1299 1599" two). The Arabic decimal sign is always the decimal point.
- With both "," and "." in an amount, the last one is the decimal point and the other
  groups thousands ("1.299,00", "1,299.00").
- A lone "," or "." followed by one or two digits is the decimal point ("12,99"); followed
  by exactly three digits it groups thousands ("1,299" is 1299, "1.299" too) when the
  amount starts with 1-3 digits, not 0; "0,500", "1299,000", and any such amount in a
  currency with three minor digits (KWD, BHD...), are refused as ambiguous. Used more than
  once, it groups thousands ("1.299.000"). After spaces grouping thousands it is the
  decimal point unless three digits follow ("1 299,00"; "1 299.000" is refused).
- "12,-" is 12 with no fraction. More fraction digits than the currency has (nonzero) are
  refused: "1,299.999 USD", "¥12.50".
- The currency comes from the text's markers (`currencies.py`), else from `currency` (the
  currency the context states, e.g. a page's priceCurrency: a marker naming another is a
  conflict) or `default_currency` (only used when the text names none, and to read "$").
  Two different amounts, or markers naming two currencies, are refused; the same amount
  written twice is one price.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from souk.connectors.currencies import currency_markers, iso_code, minor_digits
from souk.errors import SoukError


class PriceProblem(enum.StrEnum):
    EMPTY = "empty"
    NO_AMOUNT = "no_amount"
    SEVERAL_AMOUNTS = "several_amounts"
    NO_CURRENCY = "no_currency"
    SEVERAL_CURRENCIES = "several_currencies"
    AMBIGUOUS_CURRENCY = "ambiguous_currency"
    AMBIGUOUS_AMOUNT = "ambiguous_amount"
    MALFORMED_AMOUNT = "malformed_amount"
    TOO_PRECISE = "too_precise"
    NEGATIVE = "negative"


class UnparseablePrice(SoukError):
    """The text does not say one price in one currency; `problem` says what is wrong."""

    def __init__(self, problem: PriceProblem, text: str, detail: str = "") -> None:
        self.problem = problem
        self.text = text
        self.detail = detail
        super().__init__(f"{problem.value}: {text!r}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class ParsedPrice:
    """An amount with as many fraction digits as its currency has, and its ISO 4217 code."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


_GROUP_ONLY = frozenset(" '’٬")
_DECIMAL_ONLY = "٫"
_EITHER = frozenset(",.")
_RUN = re.compile(r"(?P<number>\d+(?:[ ,.'’٬٫]\d+)*)(?P<whole>[,.][-–—])?")
_MINUS = frozenset("-−")
_STRUCTURED = re.compile(r"\d+(?:\.\d+)?")


def _normalized(text: str) -> str:
    """ASCII digits and plain spaces, everything else as it was (same length)."""
    chars = []
    for char in text:
        if char.isdecimal():
            chars.append(str(unicodedata.decimal(char)))
        elif unicodedata.category(char) == "Zs" or char in "\t\n\r":
            chars.append(" ")
        else:
            chars.append(char)
    return "".join(chars)


def parse_currency(text: str, *, default_currency: str | None = None) -> str:
    """The ISO code a currency field holds: a code in any case ("kzt") or a marker ("₸")."""
    code = iso_code(text)
    if code is not None:
        return code
    expected = _checked_code(default_currency)
    found = _currency(_normalized(text), text, stated=None, expected=expected)
    if found is None:
        raise UnparseablePrice(PriceProblem.NO_CURRENCY, text)
    return found


def _currency(normal: str, text: str, *, stated: str | None, expected: str | None) -> str | None:
    """The one currency the text's markers and `stated` name; None when none is named."""
    named: set[str] = set()
    for match, marker in currency_markers(normal):
        code = marker.resolve(stated=stated, expected=expected)
        if code is None:
            raise UnparseablePrice(PriceProblem.AMBIGUOUS_CURRENCY, text, match.group())
        named.add(code)
    if stated is not None:
        named.add(stated)
    if len(named) > 1:
        raise UnparseablePrice(PriceProblem.SEVERAL_CURRENCIES, text, ", ".join(sorted(named)))
    return next(iter(named), None)


def _checked_code(code: str | None) -> str | None:
    if code is None:
        return None
    checked = iso_code(code)
    if checked is None:
        raise ValueError(f"not an ISO 4217 currency code: {code!r}")
    return checked


def parse_price(
    text: str, *, currency: str | None = None, default_currency: str | None = None
) -> ParsedPrice:
    """Read one price from `text` by the module's rules, or raise `UnparseablePrice`.

    `currency` is the currency the context states (a marker in the text must agree);
    `default_currency` the one to assume when the text names none.
    """
    stated, expected = _checked_code(currency), _checked_code(default_currency)
    normal = _normalized(text)
    if not normal.strip():
        raise UnparseablePrice(PriceProblem.EMPTY, text)
    runs = list(_RUN.finditer(normal))
    if not runs:
        raise UnparseablePrice(PriceProblem.NO_AMOUNT, text)
    code = _currency(normal, text, stated=stated, expected=expected) or expected
    if code is None:
        raise UnparseablePrice(PriceProblem.NO_CURRENCY, text)
    amounts: set[Decimal] = set()
    negative = False
    for run in runs:
        negative |= run.start() > 0 and normal[run.start() - 1] in _MINUS
        for number in _split_amounts(run.group("number")):
            amounts.add(_amount(number, code, text, whole=run.group("whole") is not None))
    if len(amounts) > 1:
        detail = ", ".join(str(amount) for amount in sorted(amounts))
        raise UnparseablePrice(PriceProblem.SEVERAL_AMOUNTS, text, detail)
    if negative:
        raise UnparseablePrice(PriceProblem.NEGATIVE, text)
    return ParsedPrice(amounts.pop(), code)


def parse_structured_price(
    value: str | int | float | Decimal,
    *,
    currency: str | None,
    default_currency: str | None = None,
) -> ParsedPrice:
    """A price from structured data (schema.org, OpenGraph): a number, or a string of
    digits with "." as the decimal point as schema.org asks; anything else is read by
    `parse_price`'s rules, as shops write prices there too ("1 299,00")."""
    text = str(value).strip()
    if isinstance(value, bool):
        raise UnparseablePrice(PriceProblem.MALFORMED_AMOUNT, text)
    if isinstance(value, str) and not _STRUCTURED.fullmatch(text):
        return parse_price(text, currency=currency, default_currency=default_currency)
    code = _checked_code(currency) or _checked_code(default_currency)
    if code is None:
        raise UnparseablePrice(PriceProblem.NO_CURRENCY, text)
    amount = Decimal(text)
    if not amount.is_finite():
        raise UnparseablePrice(PriceProblem.MALFORMED_AMOUNT, text)
    if amount < 0:
        raise UnparseablePrice(PriceProblem.NEGATIVE, text)
    return ParsedPrice(_exact(amount, code, text), code)


@dataclass
class _Digits:
    """One amount as written: its groups of digits and the separators between them."""

    groups: list[str]
    separators: list[str]

    def __str__(self) -> str:
        return self.groups[0] + "".join(map(str.__add__, self.separators, self.groups[1:]))


def _split_amounts(number: str) -> list[_Digits]:
    """Cut a run of digits at the spaces that cannot group thousands."""
    parts = re.findall(r"\d+|\D", number)
    amounts = [_Digits([parts[0]], [])]
    for separator, group in zip(parts[1::2], parts[2::2], strict=True):
        groups, separators = amounts[-1].groups, amounts[-1].separators
        groups_thousands = (
            len(group) == 3
            and len(groups[0]) <= 3
            and not groups[0].startswith("0")
            and all(sep in _GROUP_ONLY for sep in separators)
        )
        if separator == " " and not groups_thousands:
            amounts.append(_Digits([group], []))
        else:
            groups.append(group)
            separators.append(separator)
    return amounts


def _decimal_point(digits: _Digits, code: str, text: str) -> int | None:
    """Which separator is the decimal point (its index), None for a whole number, -1 for
    separators that make no sense."""
    groups, separators = digits.groups, digits.separators
    last = len(separators) - 1
    if _DECIMAL_ONLY in separators:
        return last if separators.index(_DECIMAL_ONLY) == last else -1
    either = [index for index, sep in enumerate(separators) if sep in _EITHER]
    kinds = {separators[index] for index in either}
    if not either:
        return None
    if len(kinds) == 2:
        point = separators[last]
        return last if point in _EITHER and separators.count(point) == 1 else -1
    if len(either) > 1:
        return None
    if either[0] != last:
        return -1
    digits_after = len(groups[-1])
    grouped_before = last > 0
    if digits_after != 3:
        return last
    if minor_digits(code) == 3:
        if grouped_before:
            return last
        raise UnparseablePrice(PriceProblem.AMBIGUOUS_AMOUNT, text, str(digits))
    if grouped_before or len(groups[0]) > 3 or groups[0].startswith("0"):
        raise UnparseablePrice(PriceProblem.AMBIGUOUS_AMOUNT, text, str(digits))
    return None


def _amount(digits: _Digits, code: str, text: str, *, whole: bool) -> Decimal:
    groups = digits.groups
    point = _decimal_point(digits, code, text) if digits.separators else None
    if point == -1 or (whole and point is not None):
        raise UnparseablePrice(PriceProblem.MALFORMED_AMOUNT, text, str(digits))
    integer = groups if point is None else groups[: point + 1]
    if len(integer) > 1 and (
        len(integer[0]) > 3
        or integer[0].startswith("0")
        or any(len(group) != 3 for group in integer[1:])
    ):
        raise UnparseablePrice(PriceProblem.MALFORMED_AMOUNT, text, str(digits))
    fraction = "" if point is None else groups[point + 1]
    return _exact(Decimal("".join(integer) + ("." + fraction if fraction else "")), code, text)


def _exact(amount: Decimal, code: str, text: str) -> Decimal:
    """`amount` with exactly the currency's minor digits, refusing to drop nonzero ones."""
    try:
        exact = amount.quantize(Decimal(1).scaleb(-minor_digits(code)))
    except InvalidOperation:  # more digits than a Decimal context holds
        raise UnparseablePrice(PriceProblem.MALFORMED_AMOUNT, text) from None
    if exact != amount:
        raise UnparseablePrice(PriceProblem.TOO_PRECISE, text, f"{amount} {code}")
    return exact
