"""The repricing pipeline: the steps of `steps` in their order, then the no-op check."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from souk.services.repricing import steps
from souk.services.repricing.terms import OfferSeen, RuleTerms, Situation, Trace


@dataclass(frozen=True)
class Verdict:
    """A new price (None: hold the current one) and the trace that led to it."""

    price: Decimal | None
    trace: list[dict[str, Any]]


def decide(terms: RuleTerms, situation: Situation, offers: list[OfferSeen]) -> Verdict:
    """Run the rule for one product; pure, so every step can be tested on its own and the
    trace explains each decision."""
    trace = Trace()
    price = _price(terms, situation, offers, trace)
    if price is None:
        return Verdict(None, trace.steps)
    if price == situation.price:
        trace.add("result", "unchanged", price=price)
        return Verdict(None, trace.steps)
    trace.add("result", "change", old=situation.price, price=price)
    return Verdict(price, trace.steps)


def _price(
    terms: RuleTerms, situation: Situation, offers: list[OfferSeen], trace: Trace
) -> Decimal | None:
    if not steps.gate(terms, situation, trace):
        return None
    kept = steps.competitors(terms, situation, offers, trace)
    wanted = steps.strategy(terms, situation, kept, trace)
    if wanted is None:
        return None
    wanted = steps.max_change(terms, situation, wanted, trace)
    wanted = steps.floor(terms, situation, wanted, trace)
    return steps.ceiling(terms, situation, wanted, trace)
