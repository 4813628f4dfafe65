"""The outbox benchmark's printed report: each phase, the kill's timeline, the targets."""

from __future__ import annotations

from bench.outbox_bench import LEASE_SECONDS, WORKER_CONCURRENCY
from bench.outbox_phase import PhaseFigures
from bench.report import fmt, print_table
from souk.config import Settings

# The targets, printed next to the figures (never asserted).
TARGET_RATE_RATIO = 0.95
TARGET_WORKER_RSS_MB = 400.0


def report(results: list[PhaseFigures], settings: Settings) -> None:
    """Print the settings, a row per phase, the kill's timeline, then the issue's targets."""
    allowed = settings.telegram.per_bot_rate
    print()
    _print_settings(settings)
    print()
    _print_phase_table(results, allowed)
    _print_kill_timelines(results)
    print()
    _print_targets(results, allowed)


def _print_settings(settings: Settings) -> None:
    print(
        f"outbox push: souk worker (WORKER_CONCURRENCY={WORKER_CONCURRENCY}, "
        f"OUTBOX_LEASE_SECONDS={LEASE_SECONDS:g}), souk limits TELEGRAM_PER_BOT_RATE="
        f"{settings.telegram.per_bot_rate:g} burst {settings.telegram.per_bot_burst}; "
        f"fake Bot API limits on (per bot 30/s burst 30, per chat 1/s burst 3); one push per chat"
    )


def _print_phase_table(results: list[PhaseFigures], allowed: float) -> None:
    rows = []
    for r in results:
        rows.append(
            [
                r.phase.name + (" (TIMED OUT)" if r.timed_out else ""),
                str(r.phase.pushes),
                fmt(r.enqueue_seconds, 1),
                fmt(r.seconds, 1),
                fmt(r.rate, 2),
                fmt(allowed, 0),
                fmt(r.rate / allowed, 3),
                str(r.retry_after),
                str(r.lost),
                str(r.duplicated),
                " ".join(f"{k}={v}" for k, v in sorted(r.statuses.items())),
            ]
        )
    print_table(
        [
            "phase",
            "pushes",
            "enqueue s",
            "seconds",
            "rate/s",
            "allowed/s",
            "achieved/allowed",
            "429s",
            "lost",
            "duplicated",
            "outbox rows",
        ],
        rows,
    )
    print("(seconds: from the deliver kick to the last message recorded by the fake)")


def _print_kill_timelines(results: list[PhaseFigures]) -> None:
    for r in results:
        t = r.timeline
        if t.killed_at is None:
            continue
        print(
            f"{r.phase.name}: SIGKILL to the worker's process group at {t.killed_at:.1f}s "
            f"({t.delivered_at_kill}/{r.phase.pushes} delivered); new worker answering at "
            f"{fmt(t.worker_ready_at)}s; first delivery after the kill at "
            f"{fmt(t.resumed_at)}s; rows claimed by the dead worker return after their "
            f"{LEASE_SECONDS:g}s lease, so the phase's rate includes that gap"
        )


def _print_targets(results: list[PhaseFigures], allowed: float) -> None:
    worker_mb = max(r.worker_rss_mb for r in results)
    main_mb = max(r.main_rss_mb for r in results)
    print_table(
        ["target", "figure", "issue's target"],
        [
            [
                "achieved / allowed (steady)",
                fmt(results[0].rate / allowed, 3),
                f">= {TARGET_RATE_RATIO}",
            ],
            ["429s received (all phases)", str(sum(r.retry_after for r in results)), "0"],
            ["lost (all phases)", str(sum(r.lost for r in results)), "0"],
            ["duplicated (all phases)", str(sum(r.duplicated for r in results)), "0"],
            ["worker pool process peak RSS MB", fmt(worker_mb), f"< {TARGET_WORKER_RSS_MB:g}"],
            ["worker main process peak RSS MB", fmt(main_mb), "-"],
        ],
    )
