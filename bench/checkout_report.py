"""The checkout race's verdict: each race's figures, its checks, and the printed report."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.checkout_customers import PLACED, SOLD_OUT, Customer, RaceAnswers
from bench.checkout_shop import Ledger
from bench.report import fmt, print_table
from souk.db.models import InboundStatus


@dataclass(frozen=True)
class RaceFigures:
    """One race for the last unit, as the customers saw it and as the database has it."""

    round_number: int
    customers: int
    ledger: Ledger
    placed: list[int]  # user ids told their order is placed
    refusals: int  # sold-out alerts
    others: list[str]  # every other answer, described
    missing: int  # Confirm presses never answered
    seconds: float  # first Confirm posted -> last answer
    updates: dict[InboundStatus, int]  # the bot's stored updates by status, after the race

    def checks(self) -> list[tuple[str, bool, str]]:
        """(what, held, the figure behind it) for each property the race must have."""
        n, orders = self.customers, len(self.ledger.buyers)
        unsettled = {s.value: c for s, c in self.updates.items() if s is not InboundStatus.DONE}
        movements = ", ".join(f"{r.value} {d:+d}->{a}" for r, d, a in self.ledger.movements)
        return [
            ("every Confirm answered", self.missing == 0, f"{n - self.missing}/{n}"),
            ("exactly one order", orders == 1, f"{orders} order(s)"),
            (
                "one 'is placed', to the order's buyer",
                len(self.placed) == 1 and self.placed == self.ledger.buyers,
                f"placed {self.placed}, buyers {self.ledger.buyers}",
            ),
            ("the others refused as sold out", self.refusals == n - 1, f"{self.refusals}/{n - 1}"),
            ("no other answer", not self.others, "; ".join(self.others[:3]) or "none"),
            ("final stock 0", self.ledger.stock == 0, f"stock {self.ledger.stock}"),
            ("one RESERVE of -1", self.ledger.consistent, movements or "no movements"),
            ("stock never negative", self.ledger.never_negative, f"stock {self.ledger.stock}"),
            ("every update processed", not unsettled, str(unsettled or "all done")),
        ]

    @property
    def passed(self) -> bool:
        return all(held for _, held, _ in self.checks())


def race_figures(
    round_number: int,
    customers: list[Customer],
    answers: RaceAnswers,
    ledger: Ledger,
    updates: dict[InboundStatus, int],
) -> RaceFigures:
    """Sort the answers to the Confirm presses into placed, sold out, other and missing."""
    placed: list[int] = []
    refusals = 0
    others: list[str] = []
    for customer in customers:
        call = answers.answers.get(customer.user_id)
        if call is None:
            continue
        alert, text = bool(call.params.get("show_alert")), str(call.params.get("text") or "")
        if alert and SOLD_OUT in text and not customer.placed():
            refusals += 1
        elif not alert and not text and customer.placed():
            placed.append(customer.user_id)
        else:
            kind = "alert" if alert else "answer"
            others.append(f"{customer.user_id}: {kind} {text!r}, placed={customer.placed()}")
    return RaceFigures(
        round_number=round_number,
        customers=len(customers),
        ledger=ledger,
        placed=placed,
        refusals=refusals,
        others=others,
        missing=len(customers) - len(answers.answers),
        seconds=answers.seconds,
        updates=updates,
    )


def report(results: list[RaceFigures], args: argparse.Namespace) -> bool:
    """Print the settings, a row per race, then one PASS/FAIL line per check; all passed?"""
    print()
    print(
        f"checkout race: {args.customers} customers at the summary of the same last unit "
        f"(stock 1), all pressing Confirm at once; {args.rounds} round(s), a fresh product "
        f"each; souk serve with its default settings"
        + "".join(f", {key}={value}" for key, value in args.souk_env.items())
        + ("; Postgres without fsync" if args.fast_postgres else "; Postgres durable")
    )
    print()
    _print_table(results)
    print()
    return _print_checks(results)


def _print_table(results: list[RaceFigures]) -> None:
    rows = [
        [
            str(r.round_number),
            str(r.customers),
            str(len(r.ledger.buyers)),
            str(len(r.placed)),
            str(r.refusals),
            str(len(r.others)),
            str(r.missing),
            str(r.ledger.stock),
            fmt(r.seconds, 2),
            "PASS" if r.passed else "FAIL",
        ]
        for r in results
    ]
    print_table(
        [
            "round",
            "customers",
            "orders",
            f"'{PLACED}'",
            "sold-out refusals",
            "other answers",
            "unanswered",
            "final stock",
            "first Confirm -> last answer s",
            "verdict",
        ],
        rows,
    )


def _print_checks(results: list[RaceFigures]) -> bool:
    """One line per check over every round: PASS, or FAIL with the rounds that broke it."""
    table = [r.checks() for r in results]
    for index, (what, _, figure) in enumerate(table[0]):
        broken = [
            f"round {r.round_number}: {checks[index][2]}"
            for r, checks in zip(results, table, strict=True)
            if not checks[index][1]
        ]
        if broken:
            print(f"FAIL  {what}: " + "; ".join(broken))
        else:
            print(f"PASS  {what} ({figure if len(results) == 1 else f'{len(results)} rounds'})")
    passed = all(r.passed for r in results)
    print()
    print("PASS" if passed else "FAIL")
    return passed
