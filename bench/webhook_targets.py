"""The webhook servers under test: `souk serve` and the bare aiogram echo bot."""

from __future__ import annotations

import argparse
import secrets
from dataclasses import dataclass
from pathlib import Path

from bench.processes import (
    PYTHON,
    REPO_ROOT,
    Child,
    child_env,
    free_port,
    parse_env_pairs,
    souk_env,
    spawn,
    wait_http_ok,
)
from bench.webhook_channels import Channel, TelegramChannel
from souk.embedded import ServiceURLs
from tests.fakes.telegram_api import FakeBotAPI


@dataclass(frozen=True)
class Target:
    """A webhook server under test."""

    name: str
    child: Child
    webhook_url: str
    channel: Channel  # builds what the webhook takes, finds the replies at the fake
    text: str  # what each update says


async def start_souk(
    workdir: Path,
    data_dir: Path,
    urls: ServiceURLs,
    api_base: str,
    token: str,
    args: argparse.Namespace,
    extra_env: dict[str, str] | None = None,
) -> tuple[Child, str, str]:
    """`souk serve` on a free port with the bot `token` and its own webhook secret, once
    /readyz answers: (the process, its base URL, the secret)."""
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
            **(extra_env or {}),
            **args.souk_env,
        },
    )
    child = spawn("souk-serve", [PYTHON, "-m", "souk", "serve"], env=env, workdir=workdir)
    base = f"http://127.0.0.1:{port}"
    await wait_http_ok(f"{base}/readyz", child)
    return child, base, secret


def telegram_webhook_url(base: str, token: str) -> str:
    """souk's webhook of the bot `token`."""
    return f"{base}/webhook/telegram/{token.partition(':')[0]}"


async def souk_target(
    workdir: Path,
    data_dir: Path,
    urls: ServiceURLs,
    api: FakeBotAPI,
    api_base: str,
    token: str,
    args: argparse.Namespace,
) -> Target:
    """`souk serve` (see `start_souk`) as a target of Telegram updates."""
    child, base, secret = await start_souk(workdir, data_dir, urls, api_base, token, args)
    # A command with a fixed answer: the figure is the framework's cost (intake, inbox,
    # middlewares, outbound limits), not a search's; free text would run one.
    channel = TelegramChannel(api, secret)
    return Target("souk", child, telegram_webhook_url(base, token), channel, "/help")


async def echo_target(
    workdir: Path, api: FakeBotAPI, api_base: str, token: str, args: argparse.Namespace
) -> Target:
    """`bench/echo_bot.py` on a free port with its own webhook secret, once /healthz answers."""
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
    return Target("echo", child, f"{base}/webhook", TelegramChannel(api, secret), "echo")


def add_webhook_arguments(parser: argparse.ArgumentParser, *, updates: int) -> None:
    """The flags the webhook benchmarks share: the load, souk's limits and environment,
    Postgres, profiles and logs (`updates`: the default N)."""
    parser.add_argument("--updates", type=int, default=updates, help="measured updates (N)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (C)")
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
    parser.add_argument("--log-level", default="INFO", help="of the servers")
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
        help="record each measured run with py-spy (raw collapsed stacks) here",
    )
    parser.add_argument("--show-logs", action="store_true", help="print the servers' log tails")


def check_webhook_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.Namespace:
    """`--souk-env` pairs as a dict (or the parser's error), `--profile-dir` made."""
    try:
        args.souk_env = parse_env_pairs(args.souk_env)
    except ValueError as error:
        parser.error(str(error))
    if args.profile_dir:
        args.profile_dir = args.profile_dir.resolve()
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    return args
