"""`souk up` as an operator runs it: start, answer, crash, recover, stop cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

import aiohttp

from souk.embedded import EmbeddedPostgres, EmbeddedRedis
from souk.web import SECRET_HEADER
from tests.conftest import new_bot_token
from tests.e2e.processes import ROOT, WITHIN, free_port
from tests.fakes.telegram_api import FakeBotAPI
from tests.fixtures.telegram import message

SECRET = "up-test-secret"


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


async def wait_for(condition: object, what: str, within: float = 120) -> None:
    assert callable(condition)
    for _ in range(int(within / 0.2)):
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.2)  # other processes start and stop at their own pace
    raise AssertionError(f"timed out waiting for {what}")


class Up:
    def __init__(self, data_dir: Path, fake_api: FakeBotAPI) -> None:
        self.token = new_bot_token()
        fake_api.add_bot(self.token)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "DATABASE_URL", "REDIS_URL", "HTTP_"))
        }
        self.env.update(
            DATA_DIR=str(data_dir),
            HTTP_PORT=str(self.port),
            TELEGRAM_BOT_TOKEN=self.token,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            TELEGRAM_API_BASE=fake_api.base_url,
            PYTHONPATH=str(ROOT),
        )
        self.log = data_dir.parent / f"{data_dir.name}-up.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "souk",
                "up",
                env=self.env,
                cwd=str(ROOT),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    async def ready(self) -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{self.base}/readyz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    async def start_command(self, user_id: int) -> int:
        bot_id = int(self.token.split(":")[0])
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.base}/webhook/telegram/{bot_id}",
                data=json.dumps(message(user_id, "/start")),
                headers={SECRET_HEADER: SECRET},
            ) as response,
        ):
            return response.status

    async def command(self, *args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "souk",
            *args,
            env=self.env,
            cwd=str(ROOT),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        return process.returncode or 0, output.decode()


async def test_up_runs_recovers_from_crashes_and_stops_cleanly(fake_api: FakeBotAPI) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="souk-up-")) / "data"
    up = Up(data_dir, fake_api)
    postgres, redis = EmbeddedPostgres(data_dir), EmbeddedRedis(data_dir)
    bot_id = int(up.token.split(":")[0])
    try:
        await up.start()
        await wait_for(up.ready, "souk up to become ready", within=180)
        assert await up.start_command(9901) == 200
        await fake_api.wait_for(
            lambda api: api.delivered_texts(9901, bot_id=bot_id), timeout=WITHIN
        )
        assert "Souk Demo Store" in fake_api.delivered_texts(9901, bot_id=bot_id)[0]

        # Another command uses the same servers while `up` runs, and leaves them running.
        code, output = await up.command("shop", "create", "--slug", "second", "--name", "Second")
        assert code == 0 and "shop second created" in output, output

        # Crash 1: the supervisor alone is killed; its children follow it, the servers stay.
        assert up.process is not None
        children = children_of(up.process.pid)
        assert len(children) == 3
        os.kill(up.process.pid, signal.SIGKILL)
        await up.process.wait()
        await wait_for(lambda: not any(alive(pid) for pid in children), "children to exit", 30)
        assert postgres.is_ready() and redis.is_ready()
        await up.start()
        await wait_for(up.ready, "souk up after a supervisor crash")
        assert await up.start_command(9902) == 200
        await fake_api.wait_for(
            lambda api: api.delivered_texts(9902, bot_id=bot_id), timeout=WITHIN
        )

        # Crash 2: everything dies at once, leaving stale pid, lock and socket files behind.
        assert up.process is not None
        os.killpg(up.process.pid, signal.SIGKILL)
        await up.process.wait()
        for pid_file in (postgres.pgdata / "postmaster.pid", redis.redis_dir / "redis.pid"):
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
        await wait_for(lambda: not postgres.is_ready() and not redis.is_ready(), "servers down", 30)
        assert (postgres.pgdata / "postmaster.pid").exists()  # stale
        await up.start()
        await wait_for(up.ready, "souk up after a full crash", within=180)
        assert await up.start_command(9903) == 200
        await fake_api.wait_for(
            lambda api: api.delivered_texts(9903, bot_id=bot_id), timeout=WITHIN
        )
        code, output = await up.command("shop", "create", "--slug", "second", "--name", "Again")
        assert code == 1 and "already exists" in output  # the data survived both crashes

        # Ctrl-C / SIGTERM stops every child and both servers.
        assert up.process is not None
        children = children_of(up.process.pid)
        up.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(up.process.wait(), 60) == 0
        assert not any(alive(pid) for pid in children)
        assert not postgres.is_ready() and not redis.is_ready()

        # With `up` stopped, a command starts the servers for itself and stops them after.
        code, output = await up.command("migrate")
        assert code == 0 and "up to date" in output, output
        assert not postgres.is_ready() and not redis.is_ready()
    finally:
        if up.process is not None and up.process.returncode is None:
            os.killpg(up.process.pid, signal.SIGKILL)
        for server in (redis, postgres):
            if server.is_ready():
                server.stop()
        if up.log.exists() and sys.exc_info()[0] is not None:
            print(up.log.read_text(errors="replace")[-6000:])
