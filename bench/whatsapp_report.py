"""The WhatsApp intake benchmark's printed report: both platforms, round by round and
merged, and WhatsApp's throughput against Telegram's."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from bench.report import fmt, percentiles, print_table
from bench.webhook_measure import WARMUP_UPDATES, Figures, merge
from bench.webhook_report import TARGET_RSS_MB, latency_table, ratio, resource_table

# The target, printed next to the figure (never asserted).
TARGET_THROUGHPUT_RATIO = 0.7
# Above this share of its run waiting for a CPU, souk's updates/s says more about the
# machine's other work than about souk.
BUSY_WAITING_PERCENT = 20.0
TELEGRAM = "telegram"
WHATSAPP = "whatsapp"


def round_order(number: int, names: Sequence[str]) -> list[str]:
    """The order of round `number` (from 0): as given, then reversed, and so on."""
    return list(names) if number % 2 == 0 else list(reversed(names))


def complete(figures: Figures) -> bool:
    """Every update acknowledged and answered."""
    return figures.failed_posts == 0 and figures.replies == figures.updates


def verdict(telegram: Figures, whatsapp: Figures) -> tuple[float, str]:
    """WhatsApp's updates/s over Telegram's, and PASS when it meets the target with
    every update of both answered (FAIL, with why, otherwise)."""
    figure = ratio(whatsapp.throughput, telegram.throughput)
    missing = [f.target for f in (telegram, whatsapp) if not complete(f)]
    if missing:
        return figure, f"FAIL (unanswered or refused updates: {', '.join(missing)})"
    return figure, "PASS" if figure >= TARGET_THROUGHPUT_RATIO else "FAIL"


def report(
    rounds: list[dict[str, Figures]], peak_rss: float | None, args: argparse.Namespace
) -> None:
    """Settings, each round's updates/s, the merged figures, the ratio and the verdict."""
    merged = [merge([measured[name] for measured in rounds]) for name in (TELEGRAM, WHATSAPP)]
    print()
    _print_settings(args)
    print()
    _print_rounds(rounds)
    print()
    latency_table(merged)
    print()
    resource_table(merged)
    print(
        "(one `souk serve` takes both: its peak RSS is cumulative, each row is the peak "
        "up to the end of that platform's last run)"
    )
    print()
    _print_comparison(merged[0], merged[1])
    _print_cpu_per_update(merged[0], merged[1])
    warning = busy_warning(merged)
    if warning:
        print(warning)
    print(
        f"souk web process peak RSS (VmHWM) over the whole run: {fmt(peak_rss)} MB "
        f"(target < {TARGET_RSS_MB:g} MB)"
    )


def _print_settings(args: argparse.Namespace) -> None:
    print(
        f"whatsapp intake: one `souk serve`, {args.rounds} round(s) of {args.updates} updates "
        f"per platform, each from distinct users, concurrency {args.concurrency}, warm-up "
        f"{WARMUP_UPDATES} before each run; Telegram `/help` (secret token), WhatsApp `help` "
        f"(signed X-Hub-Signature-256), both answered by /help's handler"
    )
    print(
        "fakes in-process: Bot API limits off; Graph API as --no-limits --no-window (no "
        "throughput, pair rate or 24-hour window); "
        f"souk TELEGRAM_PER_BOT_RATE={args.souk_bot_rate:g} burst {args.souk_bot_burst}, "
        f"WHATSAPP_PER_NUMBER_RATE={args.souk_number_rate:g} (burst 1), WhatsApp pair rate "
        "at production (one reply per user)"
        + "".join(f", {key}={value}" for key, value in args.souk_env.items())
        + ("; Postgres without fsync" if args.fast_postgres else "; Postgres durable (fsync on)")
    )


def _print_rounds(rounds: list[dict[str, Figures]]) -> None:
    rows = []
    for number, measured in enumerate(rounds):
        telegram, whatsapp = measured[TELEGRAM], measured[WHATSAPP]
        rows.append(
            [
                str(number + 1),
                ", ".join(measured),
                fmt(telegram.throughput),
                fmt(whatsapp.throughput),
                fmt(ratio(whatsapp.throughput, telegram.throughput), 2),
                fmt(cpu_ms_per_update(telegram), 2),
                fmt(cpu_ms_per_update(whatsapp), 2),
            ]
        )
    print_table(
        [
            "round",
            "order",
            "telegram upd/s",
            "whatsapp upd/s",
            "whatsapp / telegram",
            "telegram cpu ms/upd",
            "whatsapp cpu ms/upd",
        ],
        rows,
    )


def _print_comparison(telegram: Figures, whatsapp: Figures) -> None:
    figure, outcome = verdict(telegram, whatsapp)
    p99 = {
        name: (percentiles(f.ack_ms)[2], percentiles(f.e2e_ms)[2])
        for name, f in ((TELEGRAM, telegram), (WHATSAPP, whatsapp))
    }
    print_table(
        ["whatsapp / telegram", "figure", "target", "verdict"],
        [
            ["updates/s", fmt(figure, 2), f">= {TARGET_THROUGHPUT_RATIO}", outcome],
            ["ack p99", fmt(ratio(p99[WHATSAPP][0], p99[TELEGRAM][0]), 2), "-", "-"],
            ["end-to-end p99", fmt(ratio(p99[WHATSAPP][1], p99[TELEGRAM][1]), 2), "-", "-"],
        ],
    )


def cpu_ms_per_update(figures: Figures) -> float:
    """CPU the souk process tree spent per answered update in the measured run, in ms."""
    if not figures.replies:
        return math.nan
    return figures.cpu["target"] / 100.0 * figures.seconds / figures.replies * 1000.0


def _print_cpu_per_update(telegram: Figures, whatsapp: Figures) -> None:
    """What the ratio would be if souk had a core to itself (a busy machine moves it less)."""
    tg_ms, wa_ms = cpu_ms_per_update(telegram), cpu_ms_per_update(whatsapp)
    print(
        f"souk CPU per update: telegram {fmt(tg_ms, 2)} ms, whatsapp {fmt(wa_ms, 2)} ms "
        f"(on CPU alone WhatsApp would reach {fmt(ratio(tg_ms, wa_ms), 2)}x Telegram's updates/s)"
    )


def busy_warning(results: Sequence[Figures]) -> str | None:
    """A warning when souk spent much of a platform's runs runnable but without a CPU."""
    busy = [
        f"{r.target} {fmt(r.cpu['target_waiting'], 0)}%"
        for r in results
        if r.cpu["target_waiting"] > BUSY_WAITING_PERCENT
    ]
    if not busy:
        return None
    return (
        f"warning: the machine was busy (souk waited for a CPU: {', '.join(busy)} of the "
        "runs): updates/s and their ratio are unsteady, CPU per update is the better guide"
    )
