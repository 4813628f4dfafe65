"""Prometheus metrics.

With PROMETHEUS_MULTIPROC_DIR set (as `souk up` does), every process writes its
samples there and `/metrics` of the web process reports them all: web, workers
and beat on one machine. Without it each process reports only itself.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

UPDATES_IN = Counter(
    "souk_updates_total", "Inbound updates accepted, by channel and kind", ["channel", "kind"]
)
UPDATES_REJECTED = Counter(
    "souk_updates_rejected_total",
    "Inbound requests refused, by channel and reason",
    ["channel", "reason"],
)
UPDATES_DUPLICATE = Counter(
    "souk_updates_duplicate_total", "Inbound updates dropped as duplicates", ["channel"]
)
HANDLER_SECONDS = Histogram(
    "souk_handler_seconds",
    "Time to process one stored update, handlers included",
    ["channel", "kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ASSISTANT_SECONDS = Histogram(
    "souk_assistant_seconds",
    "One assistant turn, in two parts: `model`, its requests to the LLM (the provider's "
    "time and the client's); `ours`, the rest: the shop's profile and memory, the tools, "
    "the answer's check and the replies sent",
    ["part"],
    # Every 5 ms up to 50, where a turn's own part is; then as HANDLER_SECONDS.
    buckets=(*(step / 200 for step in range(1, 11)), 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LLM_REQUESTS = Counter(
    "souk_llm_requests_total",
    "Requests to the LLM provider, by result: `ok`, `retried` (failed, tried again), "
    "`failed` (the last try failed: the fallback answered)",
    ["result"],
)
LLM_TOKENS = Counter(
    "souk_llm_tokens_total",
    "Tokens the LLM provider counted, by kind: `prompt` (in), `completion` (out); per "
    "shop and day in the llm_usage table and the staff's /usage",
    ["kind"],
)
OUTBOUND_CALLS = Counter(
    "souk_outbound_calls_total",
    "Platform API calls, by channel, method and result",
    ["channel", "method", "result"],
)
RATE_LIMITED = Counter(
    "souk_rate_limited_total", "429 answers received from a platform", ["channel"]
)
OUTBOX_DEPTH = Gauge(
    "souk_outbox_depth", "Pushes waiting in the outbox", multiprocess_mode="mostrecent"
)
OUTBOX_OLDEST_AGE = Gauge(
    "souk_outbox_oldest_age_seconds",
    "Age of the oldest waiting push",
    multiprocess_mode="mostrecent",
)
OUTBOX_DELIVERED = Counter(
    "souk_outbox_delivered_total", "Pushes by final result", ["channel", "result"]
)


def render() -> tuple[bytes, str]:
    """The exposition of this process, or of every process sharing the multiprocess dir."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
