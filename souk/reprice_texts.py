"""Texts about repricing shown to staff (HTML, translated): a rule, a decision with its
rule trace step by step, the pushes of applied and proposed prices, staff's answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _

from souk.db.models import DecisionStatus, NoCompetitor, RepriceMode, RepriceRule, Strategy
from souk.formatting import money, short_title
from souk.services.repricing.desk import Answer, Outcome
from souk.services.repricing.runs import Decision
from souk.services.repricing.syntax import RuleSyntaxError, SyntaxProblem

Entry = dict[str, Any]


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def status_name(status: DecisionStatus) -> str:
    names = {
        DecisionStatus.HELD: _("held"),
        DecisionStatus.DRY_RUN: _("dry run, logged only"),
        DecisionStatus.PENDING: _("waiting for approval"),
        DecisionStatus.APPLIED: _("applied"),
        DecisionStatus.REJECTED: _("rejected"),
        DecisionStatus.EXPIRED: _("expired unanswered"),
        DecisionStatus.STALE: _("refused: the price had changed"),
        DecisionStatus.REVERTED: _("reverted"),
    }
    return names[status]


def mode_name(mode: RepriceMode) -> str:
    names = {
        RepriceMode.AUTO: _("auto (applied at once)"),
        RepriceMode.DRY_RUN: _("dry run (logged only)"),
        RepriceMode.APPROVE: _("approve (Yes/No to staff)"),
    }
    return names[mode]


class TraceWriter:
    """Renders trace entries in the current language, amounts in the decision's currency."""

    def __init__(self, currency: str, language: str) -> None:
        self._currency = currency
        self._language = language

    def amount(self, entry: Entry, key: str) -> str:
        return money(Decimal(entry[key]), self._currency, self._language)

    def step(self, entry: Entry) -> str:
        if entry.get("percent"):
            return f"{Decimal(entry['by']).normalize():f}%"
        if "by" in entry:
            return self.amount(entry, "by")
        return _("one unit")

    def line(self, entry: Entry) -> str:
        render = _LINES.get((entry["step"], entry["code"]))
        return render(self, entry) if render is not None else escape(str(entry))

    def lines(self, trace: list[Entry]) -> list[str]:
        return [f"{number}. {self.line(entry)}" for number, entry in enumerate(trace, 1)]


def _dropped(entry: Entry) -> str:
    reasons = {
        "excluded": _("excluded"),
        "ours": _("our store"),
        "no_price": _("no price"),
        "currency": _("another currency"),
        "out_of_stock": _("out of stock"),
        "rating": _("rating too low"),
    }
    left_out = ", ".join(
        f"{escape(item['competitor'])} ({reasons[item['reason']]})" for item in entry["dropped"]
    )
    text = _("Competitors: {kept} of {count} count.").format(kept=entry["kept"], count=entry["of"])
    return text + (" " + _("Left out: {names}.").format(names=left_out) if left_out else "")


def _position_short(w: TraceWriter, e: Entry) -> str:
    text = _("Position {position} wanted, {count} offers only:").format(
        position=e["position"], count=e["offers"]
    )
    if "price" in e:
        return text + " " + _("the ceiling, {price}.").format(price=w.amount(e, "price"))
    return text + " " + _("no ceiling, so the price is held.")


_LINES: dict[tuple[str, str], Callable[[TraceWriter, Entry], str]] = {
    ("gate", "shop_paused"): lambda w, e: _("Repricing is off for the shop (/reprice on)."),
    ("gate", "rule_off"): lambda w, e: _("The rule is switched off."),
    ("gate", "awaiting"): lambda w, e: _("Decision #{id} is still waiting for an answer.").format(
        id=e["decision"]
    ),
    ("gate", "cooldown"): lambda w, e: _(
        "Cooldown of {minutes} min: no change before {until}."
    ).format(minutes=e["minutes"], until=when(datetime.fromisoformat(e["until"]))),
    ("gate", "open"): lambda w, e: _("The rule is on and not cooling down."),
    ("filter", "kept"): lambda w, e: _dropped(e),
    ("strategy", "fixed"): lambda w, e: _("Fixed price: {price}.").format(
        price=w.amount(e, "price")
    ),
    ("strategy", "match"): lambda w, e: _("Match the lowest, {lowest} ({competitor}).").format(
        lowest=w.amount(e, "lowest"), competitor=escape(e["competitor"])
    ),
    ("strategy", "beat"): lambda w, e: _(
        "Beat the lowest, {lowest} ({competitor}), by {step}: {price}."
    ).format(
        lowest=w.amount(e, "lowest"),
        competitor=escape(e["competitor"]),
        step=w.step(e),
        price=w.amount(e, "price"),
    ),
    ("strategy", "position"): lambda w, e: _(
        "Position {position}: under {target} ({competitor}) by {step}: {price}."
    ).format(
        position=e["position"],
        target=w.amount(e, "target"),
        competitor=escape(e["competitor"]),
        step=w.step(e),
        price=w.amount(e, "price"),
    ),
    ("strategy", "position_short"): _position_short,
    ("strategy", "no_competitor_hold"): lambda w, e: _("No competitor left: the price is held."),
    ("strategy", "no_competitor_ceiling"): lambda w, e: _(
        "No competitor left: the ceiling, {price}."
    ).format(price=w.amount(e, "price")),
    ("strategy", "no_ceiling"): lambda w, e: _(
        "No competitor left and no ceiling set: the price is held."
    ),
    ("max_change", "unlimited"): lambda w, e: _("No limit to the change per run."),
    ("max_change", "within"): lambda w, e: _("Within the max change of {limit}.").format(
        limit=w.amount(e, "limit")
    ),
    ("max_change", "clamped"): lambda w, e: _(
        "Max change {limit}: {wanted} clamped to {price}."
    ).format(limit=w.amount(e, "limit"), wanted=w.amount(e, "wanted"), price=w.amount(e, "price")),
    ("floor", "above"): lambda w, e: _("Floor {floor}: not reached.").format(
        floor=w.amount(e, "floor")
    ),
    ("floor", "raised"): lambda w, e: _("Under the floor: {wanted} raised to {floor}.").format(
        wanted=w.amount(e, "wanted"), floor=w.amount(e, "floor")
    ),
    ("ceiling", "none"): lambda w, e: _("No ceiling."),
    ("ceiling", "below"): lambda w, e: _("Ceiling {ceiling}: not reached.").format(
        ceiling=w.amount(e, "ceiling")
    ),
    ("ceiling", "lowered"): lambda w, e: _(
        "Over the ceiling: {wanted} lowered to {ceiling}."
    ).format(wanted=w.amount(e, "wanted"), ceiling=w.amount(e, "ceiling")),
    ("ceiling", "under_floor"): lambda w, e: _(
        "The floor {floor} is above the ceiling {ceiling} (has the cost risen?): the price is held."
    ).format(floor=w.amount(e, "floor"), ceiling=w.amount(e, "ceiling")),
    ("result", "unchanged"): lambda w, e: _("The price is {price} already: no change.").format(
        price=w.amount(e, "price")
    ),
    ("result", "change"): lambda w, e: _("New price: {old} → {price}.").format(
        old=w.amount(e, "old"), price=w.amount(e, "price")
    ),
}


def decision_heading(decision: Decision, language: str) -> str:
    old = money(decision.old_price, decision.currency, language)
    head = f"#{decision.id} · {when(decision.created_at)} · {status_name(decision.status)}"
    if decision.proposed_price is None:
        return f"<b>{head}</b>: {old}"
    new = money(decision.proposed_price, decision.currency, language)
    return f"<b>{head}</b>: {old} → {new}"


def decision_text(decision: Decision, language: str) -> str:
    """A decision with its whole trace (for /reprice_log)."""
    lines = TraceWriter(decision.currency, language).lines(decision.trace)
    return "\n".join([decision_heading(decision, language), *lines])


def _product(decision: Decision) -> str:
    return f"<code>{escape(decision.sku)}</code> {escape(short_title(decision.title))}"


def _strategy_line(decision: Decision, language: str) -> str:
    writer = TraceWriter(decision.currency, language)
    return next((writer.line(entry) for entry in decision.trace if entry["step"] == "strategy"), "")


def decision_push(decision: Decision, language: str) -> str:
    """What staff are told of an applied price (short), or asked about one to approve
    (with the trace and the buttons' expiry)."""
    old = money(decision.old_price, decision.currency, language)
    assert decision.proposed_price is not None
    new = money(decision.proposed_price, decision.currency, language)
    if decision.status is DecisionStatus.APPLIED:
        text = _("Repriced {product}: {old} → {new}.").format(
            product=_product(decision), old=old, new=new
        )
        return f"{text}\n{_strategy_line(decision, language)}"
    assert decision.expires_at is not None
    lines = [
        _("Reprice {product}: {old} → {new}?").format(product=_product(decision), old=old, new=new),
        *TraceWriter(decision.currency, language).lines(decision.trace),
        _("The buttons expire at {time}.").format(time=when(decision.expires_at)),
    ]
    return "\n".join(lines)


def answer_text(answer: Answer, language: str) -> str:
    """What a tap on Yes, No or Revert did, or why it did nothing."""
    decision = answer.decision
    price = money(answer.price, decision.currency, language)
    texts: dict[Outcome, Callable[[], str]] = {
        Outcome.APPLIED: lambda: _("Applied: {sku} costs {price} now."),
        Outcome.REJECTED: lambda: _("Rejected: {sku} stays at {price}."),
        Outcome.REVERTED: lambda: _("Reverted: {sku} costs {price} again."),
        Outcome.EXPIRED: lambda: _(
            "This proposal expired unanswered; nothing changed. {sku} costs {price}."
        ),
        Outcome.ANSWERED: lambda: _(
            "Decision #{id} was answered already ({status}); nothing changed."
        ),
        Outcome.PRICE_MOVED: lambda: _(
            "Not done: the price of {sku} has changed since (it is {price} now)."
        ),
        Outcome.BELOW_COST: lambda: _(
            "Not done: the proposed price is under the cost of {sku} now."
        ),
        Outcome.NOT_APPLIED: lambda: _("Decision #{id} changed no price: nothing to revert."),
    }
    return texts[answer.outcome]().format(
        sku=decision.sku, price=price, id=decision.id, status=status_name(decision.status)
    )


def _amount_or_percent(value: Decimal, percent: bool, currency: str, language: str) -> str:
    return f"{value.normalize():f}%" if percent else money(value, currency, language)


def _strategy_text(rule: RepriceRule, currency: str, language: str) -> str:
    step = (
        _amount_or_percent(rule.step, rule.step_is_percent, currency, language)
        if rule.step is not None
        else _("one unit")
    )
    if rule.strategy is Strategy.BEAT:
        return _("beat the lowest by {step}").format(step=step)
    if rule.strategy is Strategy.MATCH:
        return _("match the lowest")
    if rule.strategy is Strategy.POSITION:
        return _("position {position}, undercutting by {step}").format(
            position=rule.position, step=step
        )
    assert rule.fixed_price is not None
    return _("fixed at {price}").format(price=money(rule.fixed_price, currency, language))


def rule_text(rule: RepriceRule, currency: str, language: str, default: NoCompetitor) -> str:
    """A rule's settings, one per line."""

    def amount(value: Decimal | None) -> str:
        return _("none") if value is None else money(value, currency, language)

    change = (
        _amount_or_percent(rule.max_change, rule.max_change_is_percent, currency, language)
        if rule.max_change is not None
        else _("no limit")
    )
    margin = f"{rule.min_margin_percent.normalize():f}%" if rule.min_margin_percent else _("none")
    no_competitor = rule.no_competitor or default
    return "\n".join(
        [
            _("Strategy: {strategy}").format(strategy=_strategy_text(rule, currency, language)),
            _("Floor: {floor}; minimum margin over cost: {margin}").format(
                floor=amount(rule.min_price), margin=margin
            ),
            _("Ceiling: {ceiling}").format(ceiling=amount(rule.max_price)),
            _("Max change per run: {change}; cooldown: {minutes} min").format(
                change=change, minutes=rule.cooldown_minutes
            ),
            _("Competitors: rated at least {rating}; out-of-stock offers {stock}").format(
                rating=rule.min_rating if rule.min_rating is not None else _("any"),
                stock=_("ignored") if rule.ignore_out_of_stock else _("counted"),
            ),
            _("No competitor: {choice}").format(
                choice=_("hold the price")
                if no_competitor is NoCompetitor.HOLD
                else _("go to the ceiling")
            ),
            _("Mode: {mode}").format(mode=mode_name(rule.mode)),
            _("The rule is on.") if rule.is_enabled else _("The rule is off."),
        ]
    )


def syntax_problem(error: RuleSyntaxError) -> str:
    word, value = escape(error.word), escape(error.value)
    texts = {
        SyntaxProblem.UNKNOWN_WORD: _("“{word}” is not a rule setting."),
        SyntaxProblem.MISSING_VALUE: _("“{word}” needs a value after it."),
        SyntaxProblem.NOT_AN_AMOUNT: _("“{value}” after “{word}” is not a positive amount."),
        SyntaxProblem.NEGATIVE: _("“{word}” cannot be negative ({value})."),
        SyntaxProblem.NOT_A_PERCENT: _("“{value}” after “{word}” is not a percentage we take."),
        SyntaxProblem.NOT_A_COUNT: _("“{value}” after “{word}” is not a whole number in range."),
        SyntaxProblem.NOT_A_RATING: _("“{value}” is not a rating from 0 to 5."),
        SyntaxProblem.NOT_A_CHOICE: _("“{value}” is not one of the choices of “{word}”."),
        SyntaxProblem.TWICE: _("“{word}” is given twice (or two strategies are)."),
    }
    return texts[error.problem].format(word=word, value=value)


def usage() -> str:
    return "\n".join(
        [
            _("Set a repricing rule for a SKU or a category, for example:"),
            "<code>/reprice PH-1 beat 1% floor 100 ceiling 500 mode approve</code>",
            "<code>/reprice category:phones position 2 step 5 margin 15% maxchange 5%</code>",
            _(
                "Strategies: beat AMOUNT|PERCENT%, match, position N, fixed PRICE. Settings: "
                "step, floor, margin, ceiling, maxchange, cooldown MINUTES, rating, "
                "outofstock ignore|count, nocompetitor hold|ceiling|default, "
                "mode auto|dry-run|approve, on|off."
            ),
            _(
                "/reprice SKU shows the rule in effect, /reprice SKU delete removes it, "
                "/reprice off|on stops or restarts repricing for the whole shop, "
                "/reprice_log SKU shows the latest decisions."
            ),
        ]
    )
