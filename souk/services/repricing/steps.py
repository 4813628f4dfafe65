"""The steps of the repricing pipeline, in the order they run (PLATFORMS.md): gate (kill
switch, pause, waiting approval, cooldown) -> competitor filter -> strategy -> max change
-> floor -> ceiling. Each is pure and writes one entry to the trace; a step that holds
returns None and the pipeline stops there."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from souk.db.models import NoCompetitor, Strategy
from souk.services.repricing.terms import (
    OfferSeen,
    RuleTerms,
    Situation,
    Trace,
    percent_of,
    round_down,
    round_up,
    to_unit,
)


def gate(terms: RuleTerms, situation: Situation, trace: Trace) -> bool:
    """May the rule run now? Not when the shop paused repricing, the rule is off, an
    approval is still waiting, or the last change is younger than the cooldown."""
    if situation.paused:
        trace.add("gate", "shop_paused")
        return False
    if not terms.enabled:
        trace.add("gate", "rule_off")
        return False
    if situation.pending_id is not None:
        trace.add("gate", "awaiting", decision=situation.pending_id)
        return False
    if situation.last_change_at is not None and terms.cooldown_minutes:
        until = situation.last_change_at + timedelta(minutes=terms.cooldown_minutes)
        if until > situation.now:
            trace.add("gate", "cooldown", until=until, minutes=terms.cooldown_minutes)
            return False
    trace.add("gate", "open")
    return True


def _dropped_for(terms: RuleTerms, offer: OfferSeen, currency: str) -> str | None:
    """Why an offer does not count, or None when it does."""
    if offer.is_ours:
        return "ours"
    if offer.is_excluded:
        return "excluded"
    if offer.price is None or offer.price <= 0:
        return "no_price"
    if offer.currency != currency:
        return "currency"
    if terms.ignore_out_of_stock and offer.in_stock is False:
        return "out_of_stock"
    minimum, rating = terms.min_rating, offer.rating
    if minimum is not None and rating is not None and rating < minimum:
        return "rating"
    return None


def competitors(
    terms: RuleTerms, situation: Situation, offers: list[OfferSeen], trace: Trace
) -> list[OfferSeen]:
    """The offers that count, cheapest first: not ours, not an excluded seller's, with a
    price in the product's currency, in stock (unless the rule counts sold-out offers)
    and rated at least the rule's minimum (an unrated seller counts)."""
    kept: list[OfferSeen] = []
    dropped: list[dict[str, str]] = []
    for offer in offers:
        reason = _dropped_for(terms, offer, situation.currency)
        if reason is None:
            kept.append(offer)
        else:
            dropped.append({"competitor": offer.competitor, "reason": reason})
    kept.sort(key=lambda offer: (offer.price, offer.competitor))
    trace.add("filter", "kept", kept=len(kept), of=len(offers), dropped=dropped)
    return kept


def _undercut(price: Decimal, terms: RuleTerms, unit: Decimal) -> Decimal:
    """`price` less the rule's step (one price unit if it has none), rounded down to the
    unit so that it stays under `price`."""
    step = terms.step if terms.step is not None else unit
    less = percent_of(price, step) if terms.step_is_percent else step
    return round_down(price - less, unit)


def strategy(
    terms: RuleTerms, situation: Situation, kept: list[OfferSeen], trace: Trace
) -> Decimal | None:
    """The price the rule's strategy asks for, or None to hold."""
    unit = situation.unit
    if terms.strategy is Strategy.FIXED:
        assert terms.fixed_price is not None
        price = to_unit(terms.fixed_price, unit)
        trace.add("strategy", "fixed", price=price)
        return price
    if not kept:
        return _no_competitor(terms, unit, trace)
    lowest = kept[0]
    assert lowest.price is not None
    if terms.strategy is Strategy.MATCH:
        price = round_down(lowest.price, unit)
        trace.add("strategy", "match", lowest=lowest.price, competitor=lowest.competitor)
        return price
    if terms.strategy is Strategy.BEAT:
        price = _undercut(lowest.price, terms, unit)
        trace.add(
            "strategy",
            "beat",
            lowest=lowest.price,
            competitor=lowest.competitor,
            by=terms.step,
            percent=terms.step_is_percent,
            price=price,
        )
        return price
    return _position(terms, unit, kept, trace)


def _position(
    terms: RuleTerms, unit: Decimal, kept: list[OfferSeen], trace: Trace
) -> Decimal | None:
    """Position N: just under the N-th cheapest offer, so N-1 offers stay cheaper. With
    fewer than N offers every price under the ceiling keeps position N or better: the
    ceiling, or hold without one."""
    wanted = terms.position or 1
    if len(kept) < wanted:
        trace.add(
            "strategy", "position_short", position=wanted, offers=len(kept), price=terms.max_price
        )
        return to_unit(terms.max_price, unit) if terms.max_price is not None else None
    target = kept[wanted - 1]
    assert target.price is not None
    price = _undercut(target.price, terms, unit)
    trace.add(
        "strategy",
        "position",
        position=wanted,
        target=target.price,
        competitor=target.competitor,
        by=terms.step,
        percent=terms.step_is_percent,
        price=price,
    )
    return price


def _no_competitor(terms: RuleTerms, unit: Decimal, trace: Trace) -> Decimal | None:
    if terms.no_competitor is NoCompetitor.CEILING and terms.max_price is not None:
        price = to_unit(terms.max_price, unit)
        trace.add("strategy", "no_competitor_ceiling", price=price)
        return price
    code = "no_competitor_hold" if terms.no_competitor is NoCompetitor.HOLD else "no_ceiling"
    trace.add("strategy", code)
    return None


def max_change(terms: RuleTerms, situation: Situation, wanted: Decimal, trace: Trace) -> Decimal:
    """`wanted` moved at most the rule's max change away from the current price."""
    if terms.max_change is None:
        trace.add("max_change", "unlimited")
        return wanted
    current = situation.price
    limit = terms.max_change
    if terms.max_change_is_percent:
        limit = round_down(percent_of(current, limit), situation.unit)
    low, high = current - limit, current + limit
    if low <= wanted <= high:
        trace.add("max_change", "within", limit=limit)
        return wanted
    price = max(low, min(high, wanted))
    trace.add("max_change", "clamped", wanted=wanted, price=price, limit=limit)
    return price


def floor_price(terms: RuleTerms, situation: Situation) -> Decimal:
    """max(set minimum, cost x (1 + min margin)), rounded up; never under one price unit.
    Without a known cost only the set minimum counts."""
    unit = situation.unit
    floor = terms.min_price or Decimal(0)
    if situation.cost is not None:
        margin = terms.min_margin_percent or Decimal(0)
        floor = max(floor, situation.cost + percent_of(situation.cost, margin))
    return max(round_up(floor, unit), unit)


def floor(terms: RuleTerms, situation: Situation, wanted: Decimal, trace: Trace) -> Decimal:
    """`wanted`, raised to the floor if it is under it."""
    lowest = floor_price(terms, situation)
    if wanted >= lowest:
        trace.add("floor", "above", floor=lowest)
        return wanted
    trace.add("floor", "raised", wanted=wanted, price=lowest, floor=lowest)
    return lowest


def ceiling(
    terms: RuleTerms, situation: Situation, wanted: Decimal, trace: Trace
) -> Decimal | None:
    """`wanted`, lowered to the ceiling if it is over it; None (hold) when the floor is
    over the ceiling (the cost rose since the rule was saved): never under the floor."""
    if terms.max_price is None:
        trace.add("ceiling", "none")
        return wanted
    top = to_unit(terms.max_price, situation.unit)
    lowest = floor_price(terms, situation)
    if lowest > top:
        trace.add("ceiling", "under_floor", floor=lowest, ceiling=top)
        return None
    if wanted <= top:
        trace.add("ceiling", "below", ceiling=top)
        return wanted
    trace.add("ceiling", "lowered", wanted=wanted, price=top, ceiling=top)
    return top
