"""The repricing pipeline, step by step and as a whole: pure, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from souk.db.models import NoCompetitor, Strategy
from souk.services.repricing.pipeline import decide
from souk.services.repricing.terms import OfferSeen, RuleTerms, Situation, price_unit, to_unit

NOW = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
D = Decimal


def offer(price: str | None, name: str = "A", **changes: object) -> OfferSeen:
    base = OfferSeen(competitor=name, price=None if price is None else D(price), currency="KZT")
    return replace(base, **changes)  # type: ignore[arg-type]


def situation(price: str = "1000", **changes: object) -> Situation:
    base = Situation(price=D(price), currency="KZT", unit=D(1), now=NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


BEAT_10 = RuleTerms(strategy=Strategy.BEAT, step=D(10))


def codes(trace: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(entry["step"], entry["code"]) for entry in trace]


def test_price_units_follow_the_currency_and_the_whole_unit_setting() -> None:
    assert price_unit("KZT", ["KZT"]) == D(1) and price_unit("JPY") == D(1)
    assert price_unit("KZT") == D("0.01")  # ISO gives tenge two minor digits
    assert price_unit("USD", ["KZT"]) == D("0.01")
    assert price_unit("KWD") == D("0.01")  # three minor digits, stored with two
    assert to_unit(D("989.5"), D(1)) == D(990)
    assert to_unit(D("989.499"), D("0.01")) == D("989.50")


def test_beat_lowest_by_an_amount_goes_through_every_step() -> None:
    verdict = decide(BEAT_10, situation(), [offer("950", "A"), offer("900", "B")])
    assert verdict.price == D(890)
    assert codes(verdict.trace) == [
        ("gate", "open"),
        ("filter", "kept"),
        ("strategy", "beat"),
        ("max_change", "unlimited"),
        ("floor", "above"),
        ("ceiling", "none"),
        ("result", "change"),
    ]
    beat = verdict.trace[2]
    assert (beat["lowest"], beat["competitor"], beat["price"]) == ("900", "B", "890")


def test_beat_by_percent_rounds_down_to_the_currency_minor_unit() -> None:
    terms = RuleTerms(strategy=Strategy.BEAT, step=D("1.5"), step_is_percent=True)
    # 999 less 1.5 % is 984.015: whole tenge, rounded down so it stays under.
    assert decide(terms, situation(), [offer("999")]).price == D(984)
    dollars = replace(situation("10.00"), currency="USD", unit=D("0.01"))
    usd = [replace(offer("12.99"), currency="USD")]
    # 12.99 less 1.5 % is 12.79515 -> 12.79
    assert decide(terms, dollars, usd).price == D("12.79")
    # A step under the minor unit still undercuts by one unit.
    tiny = RuleTerms(strategy=Strategy.BEAT, step=D("0.01"), step_is_percent=True)
    assert decide(tiny, situation(), [offer("500")]).price == D(499)


def test_match_lowest_and_fixed_price() -> None:
    match = RuleTerms(strategy=Strategy.MATCH)
    assert decide(match, situation(), [offer("970"), offer("960", "B")]).price == D(960)
    fixed = RuleTerms(strategy=Strategy.FIXED, fixed_price=D("1234.4"))
    verdict = decide(fixed, situation(), [])
    assert verdict.price == D(1234) and codes(verdict.trace)[2] == ("strategy", "fixed")


def test_target_position_two_undercuts_the_second_cheapest() -> None:
    terms = RuleTerms(strategy=Strategy.POSITION, position=2, step=D(5))
    offers = [offer("800", "A"), offer("950", "B"), offer("900", "C")]
    verdict = decide(terms, situation(), offers)
    assert verdict.price == D(895)  # under C (900), over A (800): second place
    step = verdict.trace[2]
    assert (step["code"], step["competitor"], step["target"]) == ("position", "C", "900")
    # Without a step it undercuts by one minor unit.
    assert decide(replace(terms, step=None), situation(), offers).price == D(899)


def test_position_with_too_few_offers_goes_to_the_ceiling_or_holds() -> None:
    terms = RuleTerms(strategy=Strategy.POSITION, position=3, step=D(5))
    held = decide(terms, situation(), [offer("800")])
    assert held.price is None
    assert codes(held.trace)[-1] == ("strategy", "position_short")
    capped = decide(replace(terms, max_price=D(1100)), situation(), [offer("800")])
    assert capped.price == D(1100)


def test_excluded_ours_out_of_stock_unrated_and_other_currency_are_filtered() -> None:
    offers = [
        offer("500", "Excluded", is_excluded=True),
        offer("510", "Our store", is_ours=True),
        offer("520", "Sold out", in_stock=False),
        offer("530", "Low rated", rating=D("3.9")),
        offer("5", "Dollars", currency="USD"),
        offer(None, "No price"),
        offer("0", "Zero"),
        offer("900", "Unrated"),
        offer("950", "Good", rating=D("4.8")),
        offer("940", "Stock unknown", in_stock=None),
    ]
    terms = replace(BEAT_10, min_rating=D("4.0"))
    verdict = decide(terms, situation(), offers)
    assert verdict.price == D(890)  # only the unrated 900, the 940 and the good 950 count
    kept = verdict.trace[1]
    assert (kept["kept"], kept["of"]) == (3, 10)
    assert kept["dropped"] == [
        {"competitor": "Excluded", "reason": "excluded"},
        {"competitor": "Our store", "reason": "ours"},
        {"competitor": "Sold out", "reason": "out_of_stock"},
        {"competitor": "Low rated", "reason": "rating"},
        {"competitor": "Dollars", "reason": "currency"},
        {"competitor": "No price", "reason": "no_price"},
        {"competitor": "Zero", "reason": "no_price"},
    ]
    # A rule that counts sold-out offers undercuts them too.
    counting = replace(terms, ignore_out_of_stock=False)
    assert decide(counting, situation(), offers).price == D(510)


def test_no_competitor_holds_or_goes_to_the_ceiling() -> None:
    excluded = [offer("700", is_excluded=True)]
    held = decide(BEAT_10, situation(), excluded)
    assert held.price is None and codes(held.trace)[-1] == ("strategy", "no_competitor_hold")
    to_ceiling = replace(BEAT_10, no_competitor=NoCompetitor.CEILING, max_price=D(1200))
    assert decide(to_ceiling, situation(), excluded).price == D(1200)
    no_ceiling = replace(BEAT_10, no_competitor=NoCompetitor.CEILING)
    verdict = decide(no_ceiling, situation(), [])
    assert verdict.price is None and codes(verdict.trace)[-1] == ("strategy", "no_ceiling")


def test_max_change_clamps_absolute_and_percent() -> None:
    absolute = replace(BEAT_10, max_change=D(50))
    verdict = decide(absolute, situation(), [offer("500")])
    assert verdict.price == D(950)
    clamped = verdict.trace[3]
    assert (clamped["code"], clamped["wanted"], clamped["price"]) == ("clamped", "490", "950")
    percent = replace(BEAT_10, max_change=D(3), max_change_is_percent=True)
    assert decide(percent, situation(), [offer("500")]).price == D(970)
    # Upwards too, and a change within the limit passes as it is.
    assert decide(percent, situation(), [offer("2000")]).price == D(1030)
    assert decide(percent, situation(), [offer("1000")]).price == D(990)


def test_a_competitor_at_the_floor_gives_the_floor_and_the_trace_says_so() -> None:
    terms = replace(BEAT_10, min_price=D(800))
    verdict = decide(terms, situation(), [offer("800")])
    assert verdict.price == D(800)
    raised = verdict.trace[4]
    assert (raised["code"], raised["wanted"], raised["floor"]) == ("raised", "790", "800")


def test_the_floor_is_the_larger_of_the_minimum_and_cost_plus_margin() -> None:
    terms = replace(BEAT_10, min_price=D(700), min_margin_percent=D("12.5"))
    costly = situation(cost=D("799.99"))  # 799.99 x 1.125 = 899.98875 -> 900 (rounded up)
    assert decide(terms, costly, [offer("500")]).price == D(900)
    cheap = situation(cost=D(100))  # 112.5 < the set 700
    assert decide(terms, cheap, [offer("500")]).price == D(700)
    # Without a margin the cost itself is the floor; never under one minor unit.
    assert decide(BEAT_10, situation(cost=D(600)), [offer("500")]).price == D(600)
    assert decide(BEAT_10, situation(), [offer("3")]).price == D(1)


def test_the_ceiling_caps_and_a_floor_above_it_holds() -> None:
    terms = replace(BEAT_10, max_price=D(1100))
    verdict = decide(terms, situation(), [offer("1500")])
    assert verdict.price == D(1100) and codes(verdict.trace)[5] == ("ceiling", "lowered")
    # The cost rose since the rule was saved: the floor is over the ceiling.
    risen = decide(replace(terms, min_margin_percent=D(20)), situation(cost=D(1000)), [])
    assert risen.price is None
    conflict = decide(
        replace(terms, min_margin_percent=D(20)), situation(cost=D(1000)), [offer("1500")]
    )
    assert conflict.price is None
    assert conflict.trace[-1] == {
        "step": "ceiling",
        "code": "under_floor",
        "floor": "1200",
        "ceiling": "1100",
    }


def test_the_same_price_is_a_no_op() -> None:
    verdict = decide(BEAT_10, situation("890"), [offer("900")])
    assert verdict.price is None
    assert verdict.trace[-1] == {"step": "result", "code": "unchanged", "price": "890"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"paused": True}, "shop_paused"),
        ({"pending_id": 42}, "awaiting"),
    ],
)
def test_the_gate_holds_a_paused_shop_and_a_waiting_approval(
    changes: dict[str, object], code: str
) -> None:
    verdict = decide(BEAT_10, situation(**changes), [offer("500")])
    assert verdict.price is None and codes(verdict.trace) == [("gate", code)]


def test_a_rule_switched_off_holds() -> None:
    verdict = decide(replace(BEAT_10, enabled=False), situation(), [offer("500")])
    assert verdict.price is None and codes(verdict.trace) == [("gate", "rule_off")]


def test_cooldown_holds_until_it_has_passed() -> None:
    terms = replace(BEAT_10, cooldown_minutes=30)
    recent = situation(last_change_at=NOW - timedelta(minutes=29))
    held = decide(terms, recent, [offer("500")])
    assert held.price is None
    assert held.trace == [
        {
            "step": "gate",
            "code": "cooldown",
            "until": (NOW + timedelta(minutes=1)).isoformat(),
            "minutes": 30,
        }
    ]
    passed = situation(last_change_at=NOW - timedelta(minutes=30))
    assert decide(terms, passed, [offer("500")]).price == D(490)
