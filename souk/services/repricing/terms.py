"""What the repricing pipeline reads (a rule's terms, the product's situation, the
competitors' offers) and the trace it writes: plain values, no database."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from souk.connectors.currencies import minor_digits
from souk.db.models import NoCompetitor, RepriceRule, Strategy

# Prices are numeric(12,2): a currency with three minor digits is kept to two.
_MOST_DIGITS = 2


def price_unit(currency: str, whole_currencies: Collection[str] = ()) -> Decimal:
    """The smallest amount a price in `currency` moves by: 1 for currencies without minor
    units (JPY) and those shops price in whole units (`whole_currencies`: KZT, whose ISO
    minor digits are 2), else the ISO minor unit (USD 0.01)."""
    if currency in whole_currencies:
        return Decimal(1)
    return Decimal(1).scaleb(-min(minor_digits(currency), _MOST_DIGITS))


def to_unit(amount: Decimal, unit: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """`amount` rounded to a multiple of `unit` (half up unless told)."""
    return amount.quantize(unit, rounding=rounding)


def round_down(amount: Decimal, unit: Decimal) -> Decimal:
    return to_unit(amount, unit, ROUND_FLOOR)


def round_up(amount: Decimal, unit: Decimal) -> Decimal:
    return to_unit(amount, unit, ROUND_CEILING)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    return amount * percent / 100


@dataclass(frozen=True)
class RuleTerms:
    """A rule as the pipeline reads it (`no_competitor` resolved against the setting)."""

    strategy: Strategy
    step: Decimal | None = None
    step_is_percent: bool = False
    position: int | None = None
    fixed_price: Decimal | None = None
    min_price: Decimal | None = None
    min_margin_percent: Decimal | None = None
    max_price: Decimal | None = None
    max_change: Decimal | None = None
    max_change_is_percent: bool = False
    cooldown_minutes: int = 0
    min_rating: Decimal | None = None
    ignore_out_of_stock: bool = True
    no_competitor: NoCompetitor = NoCompetitor.HOLD
    enabled: bool = True

    @classmethod
    def of(cls, rule: RepriceRule, default_no_competitor: NoCompetitor) -> RuleTerms:
        return cls(
            strategy=rule.strategy,
            step=rule.step,
            step_is_percent=rule.step_is_percent,
            position=rule.position,
            fixed_price=rule.fixed_price,
            min_price=rule.min_price,
            min_margin_percent=rule.min_margin_percent,
            max_price=rule.max_price,
            max_change=rule.max_change,
            max_change_is_percent=rule.max_change_is_percent,
            cooldown_minutes=rule.cooldown_minutes,
            min_rating=rule.min_rating,
            ignore_out_of_stock=rule.ignore_out_of_stock,
            no_competitor=rule.no_competitor or default_no_competitor,
            enabled=rule.is_enabled,
        )


@dataclass(frozen=True)
class OfferSeen:
    """A competitor's last good offer of the product, with what the filter needs to know
    about the competitor (the offer's own rating first, else the competitor's)."""

    competitor: str
    price: Decimal | None
    currency: str | None
    in_stock: bool | None = True
    rating: Decimal | None = None
    is_excluded: bool = False
    is_ours: bool = False


@dataclass(frozen=True)
class Situation:
    """The product when the rule runs: its price, cost and currency (and the unit its
    prices are rounded to), the shop's kill switch, the last time the repricer changed
    (or staff reverted) its price, and an approval still waiting."""

    price: Decimal
    currency: str
    unit: Decimal
    now: datetime
    cost: Decimal | None = None
    paused: bool = False
    last_change_at: datetime | None = None
    pending_id: int | None = None


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass
class Trace:
    """The steps a decision went through, in order: each a JSON object with the step,
    what happened there (`code`) and the values involved (amounts as strings)."""

    steps: list[dict[str, Any]] = field(default_factory=list)

    def add(self, step: str, code: str, /, **values: object) -> None:
        entry: dict[str, Any] = {"step": step, "code": code}
        entry.update({key: _plain(value) for key, value in values.items() if value is not None})
        self.steps.append(entry)
