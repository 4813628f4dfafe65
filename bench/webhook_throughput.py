"""Webhook throughput: `souk serve` against a bare aiogram echo bot, same load, same fake.

N distinct users each send one plain text message, posted with concurrency C over
keep-alive HTTP, first to `souk serve` (its fallback handler answers each), then to
`bench/echo_bot.py` (aiogram's SimpleRequestHandler, echoing each). Both reply through
the fake Bot API, which runs inside this process with its limits off, so the time it
records a reply (`RecordedCall.at`, this process's monotonic clock) is comparable with
the time the update was posted:

- ack latency: POST sent -> 200 received (both answer before processing);
- end-to-end latency: POST sent -> the reply recorded by the fake;
- updates/s: N / (first POST -> last reply recorded).

Run: `.venv/bin/python bench/webhook_throughput.py [--updates N] [--concurrency C]`.
Prints figures and the issue's targets next to them; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.common import (
    PYTHON,
    REPO_ROOT,
    Child,
    CpuMeter,
    bench_workdir,
    child_env,
    embedded_services,
    fmt,
    free_port,
    new_bot_token,
    parse_env_pairs,
    peak_rss_mb,
    percentiles,
    pid_from_file,
    print_table,
    process_tree,
    runqueue_wait_seconds,
    souk_env,
    spawn,
    wait_http_ok,
)
from souk.embedded import ServiceURLs
from souk.logs import setup_logging
from souk.web import SECRET_HEADER
from tests.fakes.telegram_api import FakeBotAPI, FakeLimits
from tests.fixtures.telegram import message

# The targets, printed next to the figures (never asserted).
TARGET_THROUGHPUT_RATIO = 0.4
TARGET_P99_RATIO = 2.0
TARGET_RSS_MB = 250.0
WARMUP_UPDATES = 200

Update = tuple[int, bytes]  # (user/chat id, JSON body)


@dataclass(frozen=True)
class Target:
    """A webhook server under test."""

    name: str
    child: Child
    webhook_url: str
    secret: str
    text: str  # what each update says (plus its index)


@dataclass
class Load:
    """What the client saw while posting."""

    sent_at: dict[int, float]  # chat id -> time.monotonic() when its POST started
    ack_ms: list[float]
    failed: int
    first_post: float


@dataclass
class Figures:
    target: str
    updates: int
    replies: int
    failed_posts: int
    seconds: float
    ack_ms: list[float]
    e2e_ms: list[float]
    rss_mb: float | None
    cpu: dict[str, float]

    @property
    def throughput(self) -> float:
        return self.replies / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Meters:
    """CPU meters of the processes that take part in a run."""

    target: CpuMeter
    bench: CpuMeter
    postgres: CpuMeter
    redis: CpuMeter
    target_waiting: CpuMeter

    def _all(self) -> dict[str, CpuMeter]:
        return {
            "target": self.target,
            "bench": self.bench,
            "postgres": self.postgres,
            "redis": self.redis,
            "target_waiting": self.target_waiting,
        }

    def start(self) -> None:
        for meter in self._all().values():
            meter.start()

    def stop(self) -> dict[str, float]:
        return {name: meter.stop() for name, meter in self._all().items()}


def build_updates(count: int, *, first_user: int, first_update_id: int, text: str) -> list[Update]:
    """One message from each of `count` distinct users, in the Bot API's own format."""
    return [
        (
            user_id,
            json.dumps(
                message(user_id, f"{text} {index}", update_id=first_update_id + index)
            ).encode(),
        )
        for index, user_id in enumerate(range(first_user, first_user + count))
    ]


async def post_all(
    http: aiohttp.ClientSession, target: Target, updates: list[Update], concurrency: int
) -> Load:
    """POST every update with `concurrency` requests in flight."""
    load = Load(sent_at={}, ack_ms=[], failed=0, first_post=time.monotonic())
    headers = {SECRET_HEADER: target.secret, "Content-Type": "application/json"}
    pending = iter(updates)

    async def poster() -> None:
        for chat_id, body in pending:  # one shared iterator: each update is posted once
            started = time.monotonic()
            load.sent_at[chat_id] = started
            try:
                async with http.post(target.webhook_url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                load.ack_ms.append((time.monotonic() - started) * 1000.0)
            else:
                load.failed += 1

    await asyncio.gather(*(poster() for _ in range(concurrency)))
    return load


def first_replies(api: FakeBotAPI, chats: Iterable[int]) -> dict[int, float]:
    """chat id -> when the fake recorded the first successful sendMessage to it."""
    wanted = set(chats)
    seen: dict[int, float] = {}
    for call in api.calls("sendMessage"):
        chat_id = call.params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in wanted and chat_id not in seen:
            seen[chat_id] = call.at
    return seen


async def wait_replies(
    api: FakeBotAPI, chats: Iterable[int], *, deadline: float, target: Target
) -> dict[int, float]:
    """Poll (every 100 ms) until every chat got its reply or the deadline passes."""
    chats = list(chats)
    while True:
        replies = first_replies(api, chats)
        if len(replies) >= len(chats) or time.monotonic() > deadline:
            return replies
        if not target.child.alive():
            raise RuntimeError(f"{target.name} died:\n{target.child.log_tail()}")
        await asyncio.sleep(0.1)


async def run_load(
    api: FakeBotAPI, target: Target, updates: list[Update], *, concurrency: int, within: float
) -> tuple[Load, dict[int, float]]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as http:
        load = await post_all(http, target, updates, concurrency)
    replies = await wait_replies(
        api, load.sent_at, deadline=load.first_post + within, target=target
    )
    return load, replies


def start_profiler(pid: int, output: Path) -> Child:
    return spawn(
        f"py-spy-{output.stem}",
        [
            str(Path(PYTHON).parent / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        env=child_env({}),
        workdir=output.parent,
    )


async def measure(
    api: FakeBotAPI, target: Target, meters: Meters, args: argparse.Namespace, *, first_user: int
) -> Figures:
    """Warm up (not measured), then post N updates and wait for their replies."""
    warmup = build_updates(
        WARMUP_UPDATES, first_user=first_user, first_update_id=first_user, text=target.text
    )
    _, warm_replies = await run_load(
        api, target, warmup, concurrency=args.concurrency, within=args.timeout
    )
    if len(warm_replies) < len(warmup):
        print(f"  warning: warm-up got {len(warm_replies)}/{len(warmup)} replies")
    api.reset()
    first = first_user + WARMUP_UPDATES
    updates = build_updates(args.updates, first_user=first, first_update_id=first, text=target.text)
    profiler = None
    if args.profile_dir:
        profiler = start_profiler(target.child.pid, args.profile_dir / f"{target.name}.txt")
        await asyncio.sleep(1.0)  # let py-spy attach
    meters.start()
    load, replies = await run_load(
        api, target, updates, concurrency=args.concurrency, within=args.timeout
    )
    cpu = meters.stop()
    if profiler is not None:
        profiler.signal_group(signal.SIGINT)  # py-spy writes its output on SIGINT
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(profiler.process.wait, 60)
        await profiler.stop(grace=5)
    e2e = [(at - load.sent_at[chat]) * 1000.0 for chat, at in replies.items()]
    last = max(replies.values(), default=load.first_post)
    return Figures(
        target=target.name,
        updates=len(updates),
        replies=len(replies),
        failed_posts=load.failed,
        seconds=last - load.first_post,
        ack_ms=load.ack_ms,
        e2e_ms=e2e,
        rss_mb=peak_rss_mb(target.child.pid),
        cpu=cpu,
    )


def meters_for(target: Child, data_dir: Path) -> Meters:
    def tree_of(pid_file: Path) -> Callable[[], list[int]]:
        def pids() -> list[int]:
            pid = pid_from_file(pid_file)
            return process_tree(pid) if pid is not None else []

        return pids

    return Meters(
        target=CpuMeter(lambda: process_tree(target.pid)),
        bench=CpuMeter(lambda: [os.getpid()]),
        postgres=CpuMeter(tree_of(data_dir / "postgres" / "postmaster.pid")),
        redis=CpuMeter(tree_of(data_dir / "redis" / "redis.pid")),
        target_waiting=CpuMeter(lambda: [target.pid], runqueue_wait_seconds),
    )


async def souk_target(
    workdir: Path,
    data_dir: Path,
    urls: ServiceURLs,
    api_base: str,
    token: str,
    args: argparse.Namespace,
) -> Target:
    port, secret = free_port(), secrets.token_urlsafe(24)
    env = souk_env(
        data_dir=data_dir,
        urls=urls,
        api_base=api_base,
        extra={
            "HTTP_PORT": str(port),
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_WEBHOOK_SECRET": secret,
            "LOG_LEVEL": args.log_level,
            "TELEGRAM_PER_BOT_RATE": str(args.souk_bot_rate),
            "TELEGRAM_PER_BOT_BURST": str(args.souk_bot_burst),
            **args.souk_env,
        },
    )
    child = spawn("souk-serve", [PYTHON, "-m", "souk", "serve"], env=env, workdir=workdir)
    base = f"http://127.0.0.1:{port}"
    await wait_http_ok(f"{base}/readyz", child)
    bot_id = token.partition(":")[0]
    return Target("souk", child, f"{base}/webhook/telegram/{bot_id}", secret, "hello")


async def echo_target(workdir: Path, api_base: str, token: str, args: argparse.Namespace) -> Target:
    port, secret = free_port(), secrets.token_urlsafe(24)
    child = spawn(
        "echo-bot",
        [
            PYTHON,
            str(REPO_ROOT / "bench" / "echo_bot.py"),
            "--port",
            str(port),
            "--token",
            token,
            "--secret",
            secret,
            "--api-base",
            api_base,
            "--log-level",
            args.log_level,
        ],
        env=child_env({}),
        workdir=workdir,
    )
    base = f"http://127.0.0.1:{port}"
    await wait_http_ok(f"{base}/healthz", child)
    return Target("echo", child, f"{base}/webhook", secret, "echo")


def report(results: list[Figures], args: argparse.Namespace) -> None:
    print()
    print(
        f"webhook throughput: {args.updates} updates from distinct users, concurrency "
        f"{args.concurrency}, warm-up {WARMUP_UPDATES}; fake Bot API in-process, limits off; "
        f"souk TELEGRAM_PER_BOT_RATE={args.souk_bot_rate:g} burst {args.souk_bot_burst}"
        + "".join(f", {key}={value}" for key, value in args.souk_env.items())
        + ("; Postgres without fsync" if args.fast_postgres else "; Postgres durable (fsync on)")
    )
    print()
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
    print()
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
    by_name = {r.target: r for r in results}
    souk, echo = by_name.get("souk"), by_name.get("echo")
    print()
    if souk is not None and echo is not None:

        def ratio(a: float, b: float) -> float:
            return a / b if b else float("nan")

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


async def run(args: argparse.Namespace) -> None:
    souk_token, echo_token = new_bot_token(), new_bot_token()
    api = FakeBotAPI(tokens=[souk_token, echo_token], limits=FakeLimits(enabled=False))
    api_base = await api.start()
    results: list[Figures] = []
    children: list[Child] = []
    try:
        async with bench_workdir("souk-bench-web-") as workdir:
            data_dir = workdir / "data"
            async with embedded_services(data_dir, fast=args.fast_postgres) as urls:
                try:
                    for index, name in enumerate(args.targets):
                        api.reset()
                        if name == "souk":
                            target = await souk_target(
                                workdir, data_dir, urls, api_base, souk_token, args
                            )
                        else:
                            target = await echo_target(workdir, api_base, echo_token, args)
                        children.append(target.child)
                        print(f"{name}: measuring ...", flush=True)
                        figures = await measure(
                            api,
                            target,
                            meters_for(target.child, data_dir),
                            args,
                            first_user=10_000_000 * (index + 1),
                        )
                        results.append(figures)
                        print(
                            f"{name}: {figures.replies}/{figures.updates} replies in "
                            f"{figures.seconds:.2f}s",
                            flush=True,
                        )
                        await target.child.stop()
                finally:
                    for child in children:
                        await child.stop()
                    if args.show_logs:
                        for child in children:
                            print(f"--- {child.name} log (tail) ---\n{child.log_tail(40)}")
    finally:
        await api.close()
    report(results, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=3000, help="measured updates (N)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (C)")
    parser.add_argument(
        "--targets",
        default="souk,echo",
        type=lambda text: [t for t in text.split(",") if t],
        help="comma-separated, from: souk, echo",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds a run may take, first POST to last reply",
    )
    parser.add_argument(
        "--souk-bot-rate",
        type=float,
        default=100_000.0,
        help="souk's TELEGRAM_PER_BOT_RATE; the fake's limits are off, so by "
        "default souk's are lifted too (30 = production)",
    )
    parser.add_argument(
        "--souk-bot-burst",
        type=int,
        default=1000,
        help="souk's TELEGRAM_PER_BOT_BURST (5 = production)",
    )
    parser.add_argument("--log-level", default="INFO", help="of both servers")
    parser.add_argument(
        "--souk-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of `souk serve` (experiments), repeatable",
    )
    parser.add_argument(
        "--fast-postgres",
        action="store_true",
        help="run Postgres without fsync, as the tests do (diagnosis only)",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="record each target with py-spy (raw collapsed stacks) here",
    )
    parser.add_argument("--show-logs", action="store_true", help="print the servers' log tails")
    args = parser.parse_args()
    try:
        args.souk_env = parse_env_pairs(args.souk_env)
    except ValueError as error:
        parser.error(str(error))
    unknown = set(args.targets) - {"souk", "echo"}
    if unknown:
        parser.error(f"unknown targets: {sorted(unknown)}")
    if args.profile_dir:
        args.profile_dir = args.profile_dir.resolve()
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    setup_logging(level="WARNING")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
