"""The webhook benchmark's printed report: latency, resources, souk against the echo bot."""

from __future__ import annotations

import argparse

from bench.report import fmt, percentiles, print_table
from bench.webhook_measure import WARMUP_UPDATES, Figures

# The targets, printed next to the figures (never asserted).
TARGET_THROUGHPUT_RATIO = 0.4
TARGET_P99_RATIO = 2.0
TARGET_RSS_MB = 250.0


def report(results: list[Figures], args: argparse.Namespace) -> None:
    """Print the run's settings, then the figures of each target, then souk against echo."""
    print()
    _print_settings(args)
    print()
    latency_table(results)
    print()
    resource_table(results)
    print()
    _print_comparison(results)


def _print_settings(args: argparse.Namespace) -> None:
    print(
        f"webhook throughput: {args.updates} updates from distinct users, concurrency "
        f"{args.concurrency}, warm-up {WARMUP_UPDATES}; fake Bot API in-process, limits off; "
        f"souk TELEGRAM_PER_BOT_RATE={args.souk_bot_rate:g} burst {args.souk_bot_burst}"
        + "".join(f", {key}={value}" for key, value in args.souk_env.items())
        + ("; Postgres without fsync" if args.fast_postgres else "; Postgres durable (fsync on)")
    )


def latency_table(results: list[Figures]) -> None:
    """Per target: updates, failures, replies, updates/s, ack and end-to-end percentiles."""
    rows = []
    for r in results:
        ack, e2e = percentiles(r.ack_ms), percentiles(r.e2e_ms)
        rows.append(
            [
                r.target,
                str(r.updates),
                str(r.failed_posts),
                str(r.replies),
                fmt(r.seconds, 2),
                fmt(r.throughput),
                *(fmt(v) for v in ack),
                *(fmt(v) for v in e2e),
            ]
        )
    print_table(
        [
            "target",
            "updates",
            "failed",
            "replies",
            "seconds",
            "updates/s",
            "ack p50 ms",
            "ack p95",
            "ack p99",
            "e2e p50 ms",
            "e2e p95",
            "e2e p99",
        ],
        rows,
    )


def resource_table(results: list[Figures]) -> None:
    """Per target: peak memory and the CPU of each process taking part."""
    print_table(
        [
            "target",
            "peak RSS MB",
            "cpu% target",
            "runqueue wait% target",
            "cpu% bench (load+fake)",
            "cpu% postgres",
            "cpu% redis",
        ],
        [
            [
                r.target,
                fmt(r.rss_mb),
                fmt(r.cpu["target"], 0),
                fmt(r.cpu["target_waiting"], 0),
                fmt(r.cpu["bench"], 0),
                fmt(r.cpu["postgres"], 0),
                fmt(r.cpu["redis"], 0),
            ]
            for r in results
        ],
    )
    print(
        "(cpu%: of one core during the measured run; runqueue wait%: time the target was "
        "runnable but had no CPU, i.e. the 2-core machine was busy)"
    )


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _print_comparison(results: list[Figures]) -> None:
    """souk / echo ratios against the issue's targets, and souk's peak memory."""
    by_name = {r.target: r for r in results}
    souk, echo = by_name.get("souk"), by_name.get("echo")
    if souk is not None and echo is not None:
        ack_ratio = ratio(percentiles(souk.ack_ms)[2], percentiles(echo.ack_ms)[2])
        e2e_ratio = ratio(percentiles(souk.e2e_ms)[2], percentiles(echo.e2e_ms)[2])
        print_table(
            ["souk / echo", "figure", "target"],
            [
                [
                    "throughput",
                    fmt(ratio(souk.throughput, echo.throughput), 2),
                    f">= {TARGET_THROUGHPUT_RATIO}",
                ],
                ["ack p99", fmt(ack_ratio, 2), f"<= {TARGET_P99_RATIO}"],
                ["end-to-end p99", fmt(e2e_ratio, 2), f"<= {TARGET_P99_RATIO}"],
            ],
        )
    if souk is not None:
        print(
            f"souk web process peak RSS (VmHWM): {fmt(souk.rss_mb)} MB "
            f"(target < {TARGET_RSS_MB:g} MB)"
        )
