"""The WhatsApp intake benchmark's own logic: what it posts is what souk accepts, and how
its runs are ordered, merged and judged."""

from __future__ import annotations

import json

from bench.webhook_channels import WhatsAppChannel
from bench.webhook_measure import Figures, merge
from bench.whatsapp_report import busy_warning, cpu_ms_per_update, round_order, verdict
from souk.channels.whatsapp_bridge import InboundBridge
from souk.channels.whatsapp_intake import SIGNATURE_HEADER, parse_envelope, signature_valid
from tests.fakes.whatsapp_api import FakeWhatsAppAPI

NUMBER, SECRET = "1065403", "app-secret"


def figures(
    target: str,
    *,
    replies: int,
    seconds: float,
    updates: int | None = None,
    failed: int = 0,
    cpu: float = 50.0,
    waiting: float = 5.0,
    rss: float | None = 200.0,
) -> Figures:
    return Figures(
        target=target,
        updates=replies if updates is None else updates,
        replies=replies,
        failed_posts=failed,
        seconds=seconds,
        ack_ms=[1.0] * replies,
        e2e_ms=[2.0] * replies,
        rss_mb=rss,
        cpu={"target": cpu, "target_waiting": waiting},
    )


async def test_each_update_is_signed_and_comes_from_its_own_user_as_the_help_command() -> None:
    channel = WhatsAppChannel(FakeWhatsAppAPI({NUMBER: "token"}), NUMBER, SECRET)
    updates = channel.updates(3, first_user=10_000_000, text="help")
    assert [update.user for update in updates] == [10_000_000, 10_000_001, 10_000_002]
    ids = set()
    for update in updates:
        assert signature_valid(update.body, update.headers[SIGNATURE_HEADER], SECRET)
        assert not signature_valid(update.body, update.headers[SIGNATURE_HEADER], "other")
        (message,) = parse_envelope(json.loads(update.body)).messages
        assert (message.phone_number_id, message.sender) == (NUMBER, str(update.user))
        ids.add(message.message_id)
        bridge = InboundBridge(update_id=1, chat_id=7, payload=message.payload)
        built = await bridge.update(no_menu)
        assert built.message is not None and built.message.text == "/help"
    assert len(ids) == 3, "every message needs its own wamid, or souk drops it as a repeat"


async def no_menu(_: str) -> str | None:
    return None


def test_rounds_alternate_their_order() -> None:
    names = ["telegram", "whatsapp"]
    assert [round_order(n, names) for n in range(3)] == [
        ["telegram", "whatsapp"],
        ["whatsapp", "telegram"],
        ["telegram", "whatsapp"],
    ]


def test_merged_runs_give_all_replies_over_all_seconds() -> None:
    merged = merge(
        [
            figures("whatsapp", replies=100, seconds=1.0, cpu=90.0, rss=210.0),
            figures("whatsapp", replies=100, seconds=3.0, cpu=50.0, rss=None),
        ]
    )
    assert (merged.updates, merged.replies, merged.seconds) == (200, 200, 4.0)
    assert merged.throughput == 50.0  # not the mean of 100/s and 33/s
    assert merged.cpu["target"] == 60.0  # weighted by each run's seconds
    assert merged.rss_mb == 210.0
    assert len(merged.ack_ms) == len(merged.e2e_ms) == 200


def test_the_verdict_needs_the_ratio_and_every_update_answered() -> None:
    telegram = figures("telegram", replies=1000, seconds=5.0)  # 200/s
    assert verdict(telegram, figures("whatsapp", replies=1000, seconds=7.0)) == (
        1000 / 7.0 / 200.0,
        "PASS",
    )
    ratio, outcome = verdict(telegram, figures("whatsapp", replies=1000, seconds=8.0))
    assert (round(ratio, 3), outcome) == (0.625, "FAIL")
    _, outcome = verdict(telegram, figures("whatsapp", replies=990, updates=1000, seconds=5.0))
    assert outcome.startswith("FAIL") and "whatsapp" in outcome
    whatsapp = figures("whatsapp", replies=1000, seconds=5.0)
    _, outcome = verdict(figures("telegram", replies=1000, seconds=5.0, failed=1), whatsapp)
    assert outcome == "FAIL (unanswered or refused updates: telegram)"


def test_cpu_per_update_is_the_process_cpu_over_the_replies() -> None:
    # 50% of a core for 4 s is 2 s of CPU; over 1000 replies, 2 ms each.
    assert cpu_ms_per_update(figures("whatsapp", replies=1000, seconds=4.0, cpu=50.0)) == 2.0


def test_a_busy_machine_is_named_with_the_platform_that_waited() -> None:
    quiet = figures("telegram", replies=10, seconds=1.0, waiting=20.0)
    assert busy_warning([quiet, figures("whatsapp", replies=10, seconds=1.0)]) is None
    warning = busy_warning([quiet, figures("whatsapp", replies=10, seconds=1.0, waiting=41.0)])
    assert warning is not None and "whatsapp 41%" in warning and "telegram" not in warning
