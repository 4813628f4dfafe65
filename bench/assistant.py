"""The assistant: turns per second and souk's own time per turn with a model that answers
at once; and how well the fallback (no model) answers product questions.

The demo shop is seeded into embedded Postgres and Redis and embedded with the real local
model (product embeddings are kept in `.cache/bench/`, see bench/search_quality.py); its
bot takes Telegram updates at the webhook of `souk serve`, a process of its own with
production settings, as in production; the Bot API and the LLM are fakes over real HTTP
in this process, the LLM scripted as a quick shop assistant: it calls `search_products`
with the customer's words, then names the first product found with its price (which
souk then shows as a card).

- Turns: the labelled queries of the shopping issue (bench/data/search_queries.json),
  each from a new customer. First one at a time. The figure the issue sets a target for
  is souk's own overhead of a turn, its tools and rendering: the assistant handler's
  time but its requests to the model, as souk measures it in production
  (`souk_assistant_seconds{part="ours"}`: its sum read from /metrics after each turn,
  so each turn's own value). Printed beside it: the LLM client's own time (the handler's
  requests to the model but the fake model's time inside its server: the `openai`
  package, HTTP), and the whole turn, from the POST to its update being processed
  (replies sent, transaction committed; the bench waits on the customer's lock, which
  the processor holds until its commit) but the fake model's own time: the intake, the
  queue, the middlewares, the tools and rendering, the LLM client and the commit.
  souk's CPU per turn is printed too (on a busy machine it swings less than times).
  Then `--concurrency` turns at a time: turns per second.
- Fallback quality: the same queries sent to a `souk serve` without OPENAI_API_KEY (the
  default): the share of them whose answer shows a relevant product among the first 5
  (an FAQ answer or an order/cart screen instead of products counts as a miss).

Run: `.venv/bin/python bench/assistant.py [--turns 200] [--concurrency 8] [--queries N]`.
PASS when the p95 of the tools and rendering is under 50 ms and every turn was
answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import quantiles
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bench.fixtures import bench_workdir, embedded_services, new_bot_token
from bench.processes import PYTHON, Child, free_port, souk_env, spawn, wait_http_ok
from bench.procfs import cpu_seconds
from bench.report import fmt, print_table
from bench.search_quality import (
    CACHE_DIR,
    CachedEmbedder,
    LabelledQuery,
    load_queries,
    prepare_demo_shop,
)
from souk.ai.embedder import LocalEmbedder
from souk.channels.telegram import update_chat_key, update_kind
from souk.config import FaqSettings, InboxSettings
from souk.db.models import InboundStatus, InboundUpdate, Product, Shop
from souk.embedded import ServiceURLs
from souk.logs import setup_logging
from souk.services.faq import FaqService
from souk.services.inbox import chat_lock_id
from souk.services.shops import ShopService
from souk.web import SECRET_HEADER
from tests.conftest import TestShop
from tests.fakes.openai_api import Call, FakeOpenAI, Reply, Say
from tests.fakes.telegram_api import FakeBotAPI, FakeLimits
from tests.fixtures.telegram import message

TARGET_MS = 50.0
WARM_UP = 3  # turns before measuring
SHOWN = 5  # products a customer sees first on a results page
_POLL_SECONDS = 0.002


def quick_assistant(body: dict[str, Any]) -> Reply:
    """The scripted model: search with the customer's words, then name what was found."""
    last = body["messages"][-1]
    if last["role"] == "user":
        return Call("search_products", {"query": last["content"]})
    found = json.loads(last["content"]).get("products") or []
    if not found:
        return Say("Sorry, there is nothing like that in the shop.")
    first = found[0]
    return Say(f"{first['title']} costs {first['price']} {first['currency']}.")


@dataclass
class Bench:
    """`souk serve` under measure, the fakes it talks to and the shop it serves."""

    http: ClientSession
    souk: Child
    base_url: str
    session_factory: async_sessionmaker[AsyncSession]
    bot_api: FakeBotAPI
    llm_api: FakeOpenAI
    shop: TestShop
    next_user: int = 50_000_000

    def user(self) -> int:
        self.next_user += 1
        return self.next_user


async def _processed(
    session_factory: async_sessionmaker[AsyncSession],
    shop: TestShop,
    update: dict[str, Any],
) -> None:
    """Wait until this update, whose first reply was sent, is processed. Its processor
    holds the user's lock until it commits: taking that lock waits exactly as long, where
    polling would add its interval and load the machine it measures."""
    kind = update_kind(update)
    assert kind is not None, "the bench posts messages, a kind souk handles"
    lock = chat_lock_id(str(shop.bot_id), update_chat_key(update, kind))
    while True:
        async with session_factory() as session, session.begin():
            await session.execute(select(func.pg_advisory_xact_lock(lock)))
            status = await session.scalar(
                select(InboundUpdate.status).where(
                    InboundUpdate.receiver == str(shop.bot_id),
                    InboundUpdate.external_id == str(update["update_id"]),
                )
            )
        if status not in (None, InboundStatus.PENDING):
            return
        await asyncio.sleep(_POLL_SECONDS)  # the processor had not taken the lock yet


async def one_turn(bench: Bench, text: str, language: str) -> tuple[int, float]:
    """Post one customer message; (the customer, seconds until it was processed). The
    first reply is waited for at the fake, then the commit (see `_processed`): no
    polling that would load the machine."""
    user = bench.user()
    update = message(user, text, language=language)
    started = time.perf_counter()
    async with bench.http.post(
        f"{bench.base_url}/webhook/telegram/{bench.shop.bot_id}",
        json=update,
        headers={SECRET_HEADER: bench.shop.secret},
    ) as response:
        if response.status != 200:
            raise RuntimeError(f"the webhook answered {response.status}")
    await bench.bot_api.wait_for(lambda api: api.calls("sendMessage", chat_id=user), timeout=60)
    await _processed(bench.session_factory, bench.shop, update)
    return user, time.perf_counter() - started


Reading = dict[str, tuple[float, float]]


async def assistant_seconds(bench: Bench) -> Reading:
    """souk's own `souk_assistant_seconds` so far, as /metrics reports it: per part
    ("ours", "model"), the seconds of all turns together and how many turns."""
    async with bench.http.get(f"{bench.base_url}/metrics") as response:
        text = await response.text()
    parts: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "souk_assistant_seconds":
            continue
        for sample in family.samples:
            part = parts.setdefault(sample.labels["part"], [0.0, 0.0])
            if sample.name.endswith("_sum"):
                part[0] = sample.value
            elif sample.name.endswith("_count"):
                part[1] = sample.value
    return {name: (total, count) for name, (total, count) in parts.items()}


def one_observation(before: Reading, after: Reading, part: str) -> float:
    """The ms of `part` in the one turn observed between two readings."""
    (sum_before, count_before), (sum_after, count_after) = (
        reading.get(part, (0.0, 0.0)) for reading in (before, after)
    )
    if count_after - count_before != 1:
        raise RuntimeError(f"not one assistant turn in souk's metrics ({part})")
    return (sum_after - sum_before) * 1000


@dataclass(frozen=True)
class TurnFigures:
    turns: int
    overhead_ms: list[float]  # the whole turn, one at a time, but the fake model's own time
    new_words: list[bool]  # per turn: words souk had not searched for (embedded anew)
    model_ms: list[float]  # the fake model's own time (inside its server)
    souk_cpu_ms: float  # souk's CPU per turn, one at a time (the mean: /proc counts ticks)
    tools_ms: list[float]  # per turn: souk_assistant_seconds{part="ours"}, tools + rendering
    client_ms: list[float]  # per turn: its requests to the model but the fake's own time
    concurrent_turns: int
    concurrent_seconds: float
    unanswered: int

    @property
    def turns_per_second(self) -> float:
        return self.concurrent_turns / self.concurrent_seconds

    def split(self, *, new: bool) -> list[float]:
        """The whole turn's time of the turns whose words were (not) new to souk."""
        return [
            ms for ms, fresh in zip(self.overhead_ms, self.new_words, strict=True) if fresh == new
        ]


async def measure_turns(
    bench: Bench, queries: Sequence[LabelledQuery], *, turns: int, concurrency: int
) -> TurnFigures:
    """`turns` turns one at a time (overhead), then `turns` with `concurrency` at once."""
    overhead, model, new_words, tools, client, unanswered = [], [], [], [], [], 0
    asked = {query.query for query in queries[:WARM_UP]}
    reading = await assistant_seconds(bench)
    cpu_before, cpu_scraping = cpu_seconds(bench.souk.pid), 0.0
    for index in range(turns):
        query = queries[index % len(queries)]
        new_words.append(query.query not in asked)
        asked.add(query.query)
        served = bench.llm_api.served_seconds
        user, seconds = await one_turn(bench, query.query, query.lang)
        waited = bench.llm_api.served_seconds - served
        overhead.append((seconds - waited) * 1000)
        model.append(waited * 1000)
        unanswered += not bench.bot_api.calls("sendMessage", chat_id=user)
        bench.bot_api.reset()  # the fake's checks go through every call it recorded
        # This turn's own reading, between turns; the scrape's CPU is not the turn's.
        scraping = cpu_seconds(bench.souk.pid)
        reading, before = await assistant_seconds(bench), reading
        cpu_scraping += cpu_seconds(bench.souk.pid) - scraping
        tools.append(one_observation(before, reading, "ours"))
        client.append(one_observation(before, reading, "model") - waited * 1000)
    souk_cpu_ms = (cpu_seconds(bench.souk.pid) - cpu_before - cpu_scraping) * 1000 / turns
    slots = asyncio.Semaphore(concurrency)

    async def limited(query: LabelledQuery) -> int:
        async with slots:
            user, _ = await one_turn(bench, query.query, query.lang)
            return user

    started = time.perf_counter()
    users = await asyncio.gather(
        *(limited(queries[index % len(queries)]) for index in range(turns))
    )
    seconds = time.perf_counter() - started
    unanswered += sum(not bench.bot_api.calls("sendMessage", chat_id=user) for user in users)
    bench.bot_api.reset()
    return TurnFigures(
        turns, overhead, new_words, model, souk_cpu_ms, tools, client, turns, seconds, unanswered
    )


@dataclass(frozen=True)
class Quality:
    answered: int  # queries with a relevant product among the first SHOWN
    queries: int
    by_language: dict[str, tuple[int, int]]

    @property
    def share(self) -> float:
        return self.answered / self.queries


def shown_products(call_params: dict[str, Any]) -> list[int]:
    """The product ids of a results page's buttons, in order."""
    markup = call_params.get("reply_markup") or {}
    ids = []
    for row in markup.get("inline_keyboard", []):
        data = str(row[0].get("callback_data", ""))
        if data.startswith("hit:"):
            ids.append(int(data.split(":")[1]))
    return ids


async def measure_fallback(bench: Bench, queries: Sequence[LabelledQuery]) -> Quality:
    """Each query answered by a souk without a model; a hit when a relevant product is
    shown among the first SHOWN."""
    async with bench.session_factory() as session:
        skus = dict(
            (await session.execute(
                select(Product.id, Product.sku).where(Product.shop_id == bench.shop.shop_id)
            )).all()
        )  # fmt: skip
    answered, by_language = 0, dict[str, tuple[int, int]]()
    for query in queries:
        user, _ = await one_turn(bench, query.query, query.lang)
        replies = bench.bot_api.calls("sendMessage", chat_id=user)
        shown = [skus.get(i) for i in shown_products(replies[-1].params)] if replies else []
        hit = bool(query.relevant.intersection(shown[:SHOWN]))
        answered += hit
        hits, total = by_language.get(query.lang, (0, 0))
        by_language[query.lang] = (hits + hit, total + 1)
        bench.bot_api.reset()
    return Quality(answered, len(queries), by_language)


def _p(values: Sequence[float], percentile: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return quantiles(values, n=100, method="inclusive")[percentile - 1]


def report(turns: TurnFigures, quality: Quality, concurrency: int) -> bool:
    """Print the figures; True when the tools and rendering are within the target and
    every turn was answered."""
    print(
        "assistant turns, the fake model answering at once (target: p95 of the tools and "
        f"rendering < {TARGET_MS:.0f} ms)"
    )
    print_table(
        ["per turn, one at a time", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [
            [
                name,
                fmt(_p(values, 50)),
                fmt(_p(values, 95)),
                fmt(_p(values, 99)),
                fmt(max(values)),
            ]
            for name, values in (
                ("tools + rendering", turns.tools_ms),
                ("the LLM client", turns.client_ms),
                ("the whole turn", turns.overhead_ms),
                ("  words new to souk", turns.split(new=True)),
                ("  words searched before", turns.split(new=False)),
                ("the fake model", turns.model_ms),
            )
            if values
        ],
    )
    print(
        "(tools + rendering: the assistant handler's time but its requests to the model, "
        'souk\'s own souk_assistant_seconds{part="ours"}, read after each turn: the context, '
        "the tools (a search embeds words new to souk, 10-25 ms of one core; the query "
        f"cache has the others; {sum(turns.new_words)} of {turns.turns} turns had new "
        "words), the check of the answer and the replies sent. The LLM client: the "
        "handler's requests to the model but the fake model's time. The whole turn adds "
        "to both the intake, the queue, the middlewares and the commit.)"
    )
    print(f"souk's CPU per turn (the `souk serve` process, mean): {fmt(turns.souk_cpu_ms)} ms")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"(load average {load} on {os.cpu_count()} CPUs: waits for the CPU are in the times)")
    print(
        f"{turns.concurrent_turns} turns, {concurrency} at a time: "
        f"{fmt(turns.turns_per_second)} turns/s; unanswered: {turns.unanswered}"
    )
    print()
    print(f"fallback without a model: a relevant product among the first {SHOWN} shown")
    print_table(
        ["queries", "answered", "share"],
        [
            [f"{language} ({total})", str(hits), fmt(hits / total, 3)]
            for language, (hits, total) in sorted(quality.by_language.items())
        ]
        + [[f"all ({quality.queries})", str(quality.answered), fmt(quality.share, 3)]],
    )
    passed = _p(turns.tools_ms, 95) < TARGET_MS and turns.unanswered == 0
    print("PASS" if passed else "FAIL")
    return passed


async def _demo_bench_shop(
    session_factory: async_sessionmaker[AsyncSession], token: str
) -> TestShop:
    """The demo shop, embedded, with its FAQ embedded and a bot to talk to."""
    embedder = await CachedEmbedder.open(LocalEmbedder(), CACHE_DIR)
    try:
        shop_id = await prepare_demo_shop(session_factory, embedder)
        async with session_factory() as session, session.begin():
            while await FaqService(session, FaqSettings(), embedder).embed_missing(shop_id):
                pass
            shop = await session.get_one(Shop, shop_id)
            channel = await ShopService(session).connect_telegram(shop, token)
    finally:
        await embedder.close()
    assert channel.webhook_secret is not None
    return TestShop(shop_id, shop.slug, int(channel.external_id), token, channel.webhook_secret)


async def start_souk(
    workdir: Path, urls: ServiceURLs, bot_api: FakeBotAPI, env: dict[str, str]
) -> tuple[Child, str]:
    """`souk serve` with production settings, pointed at the fakes, with the per-bot
    limit lifted (every turn's customer is new, so per-chat limits never wait)."""
    port = free_port()
    child = spawn(
        "souk-serve",
        [PYTHON, "-m", "souk", "serve"],
        env=souk_env(
            data_dir=workdir / "souk",
            urls=urls,
            api_base=bot_api.base_url,
            extra={
                "HTTP_PORT": str(port),
                "LOG_LEVEL": "WARNING",
                "TELEGRAM_PER_BOT_RATE": "10000",
                "TELEGRAM_PER_BOT_BURST": "10000",
                **env,
            },
        ),
        workdir=workdir,
    )
    base_url = f"http://127.0.0.1:{port}"
    await wait_http_ok(f"{base_url}/readyz", child)
    return child, base_url


async def run(
    turns: int, concurrency: int, queries: Sequence[LabelledQuery]
) -> tuple[TurnFigures, Quality]:
    """Stand everything up, measure the turns and the fallback, tear it all down."""
    token = new_bot_token()
    bot_api = FakeBotAPI(tokens=[token], limits=FakeLimits(enabled=False))
    llm_api = FakeOpenAI(responder=quick_assistant)
    await bot_api.start()
    await llm_api.start()
    inbox = {"INBOX_CONCURRENCY": str(max(InboxSettings().concurrency, concurrency))}
    with_model = {"OPENAI_API_KEY": llm_api.api_key, "OPENAI_BASE_URL": llm_api.base_url}
    async with (
        bench_workdir("souk-bench-assistant-") as workdir,
        embedded_services(workdir / "data", fast=True) as urls,
        ClientSession() as http,
    ):
        engine = create_async_engine(urls.database_url)
        session_factory = async_sessionmaker(engine, expire_on_commit=False)
        try:
            shop = await _demo_bench_shop(session_factory, token)
            souk, base_url = await start_souk(workdir, urls, bot_api, {**inbox, **with_model})
            try:
                bench = Bench(http, souk, base_url, session_factory, bot_api, llm_api, shop)
                for query in queries[:WARM_UP]:  # modules load, the embedder, the pools
                    await one_turn(bench, query.query, query.lang)
                figures = await measure_turns(bench, queries, turns=turns, concurrency=concurrency)
            finally:
                await souk.stop()
            # The default: no OPENAI_API_KEY, so the fallback answers.
            souk, bench.base_url = await start_souk(workdir, urls, bot_api, inbox)
            try:
                bench.souk = souk
                quality = await measure_fallback(bench, queries)
            finally:
                await souk.stop()
        finally:
            await engine.dispose()
    await llm_api.close()
    await bot_api.close()
    if llm_api.problems:
        raise RuntimeError(f"the app sent requests the API refuses: {llm_api.problems[:3]}")
    return figures, quality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=200, help="turns in each phase")
    parser.add_argument("--concurrency", type=int, default=8, help="turns at once")
    parser.add_argument(
        "--queries", type=int, default=None, help="only the first N labelled queries"
    )
    args = parser.parse_args()
    setup_logging(level="WARNING")
    queries = load_queries()[: args.queries]
    figures, quality = asyncio.run(run(args.turns, args.concurrency, queries))
    sys.exit(0 if report(figures, quality, args.concurrency) else 1)


if __name__ == "__main__":
    main()
