"""Readers of single fields of decoded catalog JSON, each checking one value's shape.

Every reader takes ``where`` (the path of the value, such as ``products[3] (sku 'X')``)
and raises :class:`ValueError` starting with it when the value breaks its rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Decimal, InvalidOperation
from typing import Final

from souk.seed.records import AttributeValue

MONEY_PLACES: Final = 2
"""Decimals a money amount may have."""


def exact_number(literal: str) -> Decimal:
    """``json.loads`` hook: keep non-integer numbers exact so money checks see them."""
    return Decimal(literal)


def read_object(value: object, where: str) -> dict[str, object]:
    """``value`` as a JSON object with string keys."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object, got {json_kind(value)}")
    return {str(key): item for key, item in value.items()}


def read_array(value: object, where: str) -> list[object]:
    """``value`` as a JSON array."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a JSON array, got {json_kind(value)}")
    return list(value)


def check_known_keys(obj: Mapping[str, object], where: str, allowed: Set[str]) -> None:
    """Reject keys of ``obj`` outside ``allowed`` (a typo must not pass silently)."""
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")


def read_text(obj: Mapping[str, object], key: str, where: str) -> str:
    """A required, non-blank string."""
    if key not in obj:
        raise ValueError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key!r} must be a string, got {json_kind(value)}")
    if not value.strip():
        raise ValueError(f"{where}: {key!r} must not be empty")
    return value


def read_optional_text(obj: Mapping[str, object], key: str, where: str) -> str | None:
    """A non-blank string, or ``None`` when the key is absent or null."""
    if obj.get(key) is None:
        return None
    return read_text(obj, key, where)


def read_integer(obj: Mapping[str, object], key: str, where: str) -> int:
    """A required integer (a JSON boolean is not one)."""
    if key not in obj:
        raise ValueError(f"{where}: missing {key!r}")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {key!r} must be an integer, got {json_kind(value)}")
    return value


def read_texts(
    obj: Mapping[str, object], key: str, where: str, languages: tuple[str, ...]
) -> dict[str, str]:
    """A ``{language: text}`` object holding exactly ``languages``, each non-empty."""
    texts = read_object(obj.get(key), f"{where}.{key}")
    check_known_keys(texts, f"{where}.{key}", set(languages))
    return {language: read_text(texts, language, f"{where}.{key}") for language in languages}


def read_money(obj: Mapping[str, object], key: str, where: str) -> Decimal:
    """A non-float amount written as a string such as ``"129.90"``."""
    if key not in obj:
        raise ValueError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, str):
        raise ValueError(
            f'{where}: {key!r} must be a string such as "129.90", got {json_kind(value)}'
        )
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{where}: {key!r} {value!r} is not a decimal number") from None
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int):
        raise ValueError(f"{where}: {key!r} {value!r} is not a finite amount")
    if exponent < -MONEY_PLACES:
        raise ValueError(f"{where}: {key!r} {value!r} has more than {MONEY_PLACES} decimals")
    return amount


def read_attributes(value: object, where: str) -> dict[str, AttributeValue]:
    """A flat object of product attributes with scalar values."""
    attributes: dict[str, AttributeValue] = {}
    for key, item in read_object(value, where).items():
        if not key.strip():
            raise ValueError(f"{where}: attribute names must not be empty")
        if isinstance(item, Decimal):  # a JSON number with a fraction, see exact_number
            attributes[key] = float(item)
        elif isinstance(item, str | int | float | bool):
            attributes[key] = item
        else:
            raise ValueError(
                f"{where}: {key!r} must be a string, number or boolean, got {json_kind(item)}"
            )
    return attributes


def json_kind(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
