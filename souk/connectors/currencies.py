"""Which currency a shop's text names: ISO 4217 codes, their minor digits, and the symbols
and words shops write instead of codes ("₸", "руб.", "$", "د.إ").

A marker may stand for several currencies ("$", "kr", "руб."). It resolves to the currency
the context states or expects when that is one of them, else to its documented default
("$" is USD, "¥" is JPY, "руб." is RUB), and "kr" or "﷼" with no context to nothing at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

# Codes sites still write for a current currency.
_OLD_CODES = {"RUR": "RUB"}


@dataclass(frozen=True)
class Marker:
    """A symbol or word naming a currency, with every currency it may stand for."""

    text: str
    candidates: tuple[str, ...]
    default: str | None

    def resolve(self, *, stated: str | None, expected: str | None) -> str | None:
        """The currency meant here: the stated one when the marker allows it, else the
        expected one when it does, else the default (None: cannot tell)."""
        for context in (stated, expected):
            if context is not None and context in self.candidates:
                return context
        return self.default


def _marker(text: str, *candidates: str, ambiguous: bool = False) -> Marker:
    return Marker(text, candidates, None if ambiguous else candidates[0])


_DOLLARS = ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD")
_RIALS = ("SAR", "QAR", "OMR", "YER", "IRR")
_MARKERS: tuple[Marker, ...] = (
    _marker("₸", "KZT"),
    *(_marker(word, "KZT") for word in ("тг", "тг.", "тенге", "теңге", "tenge")),
    _marker("₽", "RUB"),
    *(_marker(word, "RUB", "BYN") for word in ("руб", "руб.", "р.", "рубль", "рубля", "рублей")),
    _marker("Br", "BYN"),
    _marker("$", *_DOLLARS),
    _marker("US$", "USD"),
    *(_marker(sign, "CAD") for sign in ("C$", "CA$")),
    *(_marker(sign, "AUD") for sign in ("A$", "AU$")),
    _marker("NZ$", "NZD"),
    _marker("HK$", "HKD"),
    _marker("S$", "SGD"),
    _marker("MX$", "MXN"),
    _marker("R$", "BRL"),
    _marker("€", "EUR"),
    _marker("£", "GBP"),
    _marker("¥", "JPY", "CNY"),
    _marker("JP¥", "JPY"),
    _marker("円", "JPY"),
    _marker("CN¥", "CNY"),
    _marker("元", "CNY"),
    _marker("RMB", "CNY"),
    _marker("₴", "UAH"),
    *(_marker(word, "UAH") for word in ("грн", "грн.")),
    _marker("₺", "TRY"),
    _marker("TL", "TRY"),
    _marker("₹", "INR"),
    _marker("₩", "KRW"),
    _marker("₫", "VND"),
    _marker("฿", "THB"),
    _marker("₼", "AZN"),
    _marker("₾", "GEL"),
    _marker("֏", "AMD"),
    _marker("₦", "NGN"),
    _marker("₱", "PHP"),
    _marker("₪", "ILS"),
    _marker("zł", "PLN"),
    _marker("Kč", "CZK"),
    _marker("сом", "KGS"),
    *(_marker(word, "UZS") for word in ("сум", "сўм")),
    *(_marker(word, "AED") for word in ("د.إ", "د.إ.", "Dhs", "Dh")),
    *(_marker(word, "SAR") for word in ("ر.س", "ر.س.")),
    *(_marker(word, "QAR") for word in ("ر.ق", "ر.ق.")),
    *(_marker(word, "KWD") for word in ("د.ك", "د.ك.")),
    *(_marker(word, "BHD") for word in ("د.ب", "د.ب.")),
    *(_marker(word, "OMR") for word in ("ر.ع", "ر.ع.")),
    *(_marker(word, "EGP") for word in ("ج.م", "ج.م.")),
    _marker("﷼", *_RIALS, ambiguous=True),
    _marker("kr", "SEK", "NOK", "DKK", "ISK", ambiguous=True),
    _marker("kr.", "DKK", "ISK", ambiguous=True),
)


@cache
def known_codes() -> frozenset[str]:
    """Every ISO 4217 code CLDR knows (current and historic)."""
    return frozenset(list_currencies())


def iso_code(value: str) -> str | None:
    """The ISO code `value` is (any case, surrounding spaces allowed), else None."""
    code = value.strip().upper()
    code = _OLD_CODES.get(code, code)
    return code if len(code) == 3 and code in known_codes() else None


def minor_digits(code: str) -> int:
    """Digits after the decimal point of an amount in `code` (KZT 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(code))


def _pattern(text: str) -> str:
    # A marker made of letters must not be part of a longer word ("р." in "при.").
    escaped = re.escape(text)
    before = r"(?<![^\W\d_])" if text[0].isalpha() else ""
    after = r"(?![^\W\d_])" if text[-1].isalpha() else ""
    return before + escaped + after


@cache
def _marker_regex() -> tuple[re.Pattern[str], dict[str, Marker]]:
    by_text = {marker.text.casefold(): marker for marker in _MARKERS}
    # Longest first, so "US$" wins over "$" and "руб." over "р.".
    texts = sorted((marker.text for marker in _MARKERS), key=len, reverse=True)
    words = "|".join(_pattern(text) for text in texts)
    # ISO codes count only in capitals: "all", "top" and "cup" are words, ALL, TOP, CUP codes.
    regex = re.compile(rf"(?P<marker>{words})|(?P<code>(?<![^\W\d_])[A-Z]{{3}}(?![^\W\d_]))", re.I)
    return regex, by_text


def currency_markers(text: str) -> list[tuple[re.Match[str], Marker]]:
    """Every currency marker in `text`, with where it stands."""
    regex, by_text = _marker_regex()
    found: list[tuple[re.Match[str], Marker]] = []
    for match in regex.finditer(text):
        if match.group("marker") is not None:
            found.append((match, by_text[match.group("marker").casefold()]))
            continue
        raw = match.group("code")
        code = iso_code(raw)
        if code is not None and raw.isupper():
            found.append((match, Marker(raw, (code,), code)))
    return found
