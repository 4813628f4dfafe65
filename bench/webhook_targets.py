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
    souk_env,
    spawn,
    wait_http_ok,
)
from souk.embedded import ServiceURLs


@dataclass(frozen=True)
class Target:
    """A webhook server under test."""

    name: str
    child: Child
    webhook_url: str
    secret: str
    text: str  # what each update says (plus its index)


async def souk_target(
    workdir: Path,
    data_dir: Path,
    urls: ServiceURLs,
    api_base: str,
    token: str,
    args: argparse.Namespace,
) -> Target:
    """`souk serve` on a free port with its own webhook secret, once /readyz answers."""
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
    # A command with a fixed answer: the figure is the framework's cost (intake, inbox,
    # middlewares, outbound limits), not a search's; free text would run one.
    return Target("souk", child, f"{base}/webhook/telegram/{bot_id}", secret, "/help")


async def echo_target(workdir: Path, api_base: str, token: str, args: argparse.Namespace) -> Target:
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
    return Target("echo", child, f"{base}/webhook", secret, "echo")
