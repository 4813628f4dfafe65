"""Filters people write into a search ("under 100", "до 5000", "в наличии", "أقل من 100").

`parse_search` splits a query into the words to search for and the filters: a price
range and whether only products in stock are wanted. Amounts may be written the way
people write them: "19 990,50", "1,299.00", "$100", "100₽", "5k", "١٠٠".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Arabic-Indic and Eastern Arabic-Indic digits, and the Arabic decimal/thousands marks.
NATIVE_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
_CURRENCY = r"(?:\$|€|£|₽|₸|руб\.?|рублей|р\.|usd|eur|kzt|тг|тенге|dollars?|долларов|دولار)"
_AMOUNT = (
    rf"(?:{_CURRENCY}\s*)?"
    r"(?P<{name}>\d{{1,3}}(?:[ \u00a0\u202f.,]\d{{3}})*(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?)"
    r"(?!\d)"
    r"\s*(?P<{name}_k>k|к|тыс\.?|тысяч)?"
    rf"(?:\s*{_CURRENCY})?"
)

_UNDER = (
    r"under|below|less than|cheaper than|up to|max|"
    r"до|дешевле|не дороже|менее|меньше|ниже|"
    r"أقل من|تحت|حتى"
)
_OVER = r"over|above|more than|at least|from|min|от|дороже|более|больше|выше|أكثر من|فوق|من"
_BETWEEN = re.compile(
    rf"(?:between|from|от|من|между)?\s*{_AMOUNT.format(name='low')}\s*"
    rf"(?:-|–|—|to|and|до|и|إلى|الى)\s*{_AMOUNT.format(name='high')}",
    re.IGNORECASE,
)
_MAX = re.compile(rf"(?:{_UNDER})\s+{_AMOUNT.format(name='max')}", re.IGNORECASE)
_MIN = re.compile(rf"(?:{_OVER})\s+{_AMOUNT.format(name='min')}", re.IGNORECASE)
_IN_STOCK = re.compile(
    r"\b(?:in stock|available now|available|есть в наличии|в наличии|наличие)\b|متوفر|متاح",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SearchQuery:
    """What to look for, and the filters the customer wrote into it."""

    text: str
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False


def parse_amount(raw: str, thousands: str | None = None) -> Decimal | None:
    """'19 990,50' -> 19990.50; '1,299.00' -> 1299.00; '5' + 'k' -> 5000; junk -> None."""
    text = raw.translate(NATIVE_DIGITS).replace("\u00a0", " ").replace("\u202f", " ").strip()
    text = text.replace(" ", "")
    # The last separator followed by one or two digits is the decimal point; the rest group.
    decimal_part = re.search(r"[.,](\d{1,2})$", text)
    if decimal_part:
        whole = re.sub(r"[.,]", "", text[: decimal_part.start()])
        text = f"{whole}.{decimal_part.group(1)}"
    else:
        text = re.sub(r"[.,]", "", text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if thousands:
        value *= 1000
    return value if value >= 0 else None


def parse_search(query: str) -> SearchQuery:
    """Split `query` into search words and filters; the filter phrases are removed."""
    text = query.translate(NATIVE_DIGITS)
    min_price = max_price = None
    between = _BETWEEN.search(text)
    if between and not _glued(text, between):
        low = parse_amount(between.group("low"), between.group("low_k"))
        high = parse_amount(between.group("high"), between.group("high_k"))
        if low is not None and high is not None:
            min_price, max_price = min(low, high), max(low, high)
            text = text[: between.start()] + " " + text[between.end() :]
    if max_price is None and (found := _MAX.search(text)):
        max_price = parse_amount(found.group("max"), found.group("max_k"))
        text = text[: found.start()] + " " + text[found.end() :]
    if min_price is None and (found := _MIN.search(text)):
        min_price = parse_amount(found.group("min"), found.group("min_k"))
        text = text[: found.start()] + " " + text[found.end() :]
    in_stock = bool(_IN_STOCK.search(text))
    text = _IN_STOCK.sub(" ", text)
    words = " ".join(text.replace(",", " ").split())
    return SearchQuery(words.strip(" .-–—"), min_price, max_price, in_stock)


def _glued(text: str, found: re.Match[str]) -> bool:
    """'S24-256' or '128-256GB' is a model, not a price range: its numbers are glued to
    letters ('between 20 and 100' is a range: the words around are not)."""
    low = found.start("low")
    end = found.start() + len(found.group(0).rstrip())
    return text[low - 1 : low].isalnum() or text[end : end + 1].isalpha()
