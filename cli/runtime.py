"""How every command connects, and how it fails: one line on stderr, a non-zero exit."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
import typer
from pydantic import ValidationError
from temporalio.client import Client, RPCError

from content.calendar_catalog import CalendarFileError
from content.model_catalog import ModelFileError
from domain.boundary_types import shallow, storable_line
from domain.refusals import Refusal, refusal_from
from operations.cycles import CycleUnavailable, Refused, UnknownCycle
from settings import SecretRequired, Settings
from stack.addresses import NoStack, StackAddresses, resolve
from stack.data_folder_lock import FolderInUse
from stack.temporal_connection import TemporalConfigError, connect_temporal
from store.database import create_pool


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _leave(code: int) -> NoReturn:
    """End the process without interpreter teardown: the Temporal client's Rust threads can crash a
    finalising interpreter (temporalio/sdk-python#300). Everything the command owns is closed by now."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(action: Callable[[], Awaitable[object]]) -> NoReturn:
    """Run an async command body, then exit; known failures become one line on stderr."""
    try:
        _run(action)
    except typer.Exit as exit_:
        _leave(exit_.exit_code)
    _leave(0)


def _run(action: Callable[[], Awaitable[object]]) -> None:
    try:
        asyncio.run(_as_coroutine(action))
    except Refused as refused:
        fail(f"refused: {refused}", 2)
    except Refusal as refusal:
        fail(f"refused: {refusal}", 2)
    except ValidationError as error:
        # Bad input built into a request or a spec: the field and the rule, like every other refusal.
        fail(f"refused: {refusal_from(error)}", 2)
    except (
        NoStack,
        FolderInUse,
        SecretRequired,
        TemporalConfigError,
        UnknownCycle,
        CycleUnavailable,
        ModelFileError,
        CalendarFileError,
    ) as error:
        fail(one_line(str(error)))
    except RPCError as error:
        fail(f"Temporal: {one_line(error.message)}")
    except (OSError, asyncpg.PostgresError) as error:
        fail(f"{type(error).__name__}: {one_line(str(error))}")


def one_line(text: str) -> str:
    """A message for stderr: one line, whatever it quotes."""
    return storable_line(text, 1000)


async def _as_coroutine(action: Callable[[], Awaitable[object]]) -> None:
    await action()  # asyncio.run takes a coroutine; a command body may return any awaitable


@dataclass
class Connection:
    """What a command asked `connected` for; asking for what it did not request is a programming error."""

    settings: Settings
    stack: StackAddresses
    temporal: Client | None
    database: asyncpg.Pool | None

    @property
    def client(self) -> Client:
        assert self.temporal is not None, "connected(need_temporal=False) has no Temporal client"
        return self.temporal

    @property
    def pool(self) -> asyncpg.Pool:
        assert self.database is not None, "connected(need_database=False) has no database pool"
        return self.database


def settings_for(data_dir: Path | None = None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    return settings


async def temporal_client(stack: StackAddresses) -> Client:
    try:
        return await connect_temporal(stack.temporal_address, stack.namespace, local=stack.temporal_local)
    except RuntimeError as error:
        raise NoStack(f"cannot reach Temporal at {stack.temporal_address}: {error}") from None


@asynccontextmanager
async def connected(need_temporal: bool = True, need_database: bool = True) -> AsyncIterator[Connection]:
    settings = settings_for()
    stack = resolve(settings)
    client = await temporal_client(stack) if need_temporal else None
    pool = await create_pool(stack.database_url) if need_database else None
    try:
        yield Connection(settings=settings, stack=stack, temporal=client, database=pool)
    finally:
        if pool is not None:
            await pool.close()


# What the web app takes in one request is what a file may hold: a submission is a few kilobytes.
MAX_FILE_BYTES = 256 * 1024


def read_json_file(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or exit 2 with one line saying what is wrong with it."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            fail(f"{path}: larger than {MAX_FILE_BYTES // 1024} KB; a submission is a few kilobytes", 2)
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path}: no such file", 2)
    except IsADirectoryError:
        fail(f"{path}: is a folder, not a JSON file", 2)
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text; save it as a JSON text file", 2)
    except json.JSONDecodeError as error:
        fail(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})", 2)
    except RecursionError:
        fail(f"{path}: not valid JSON here (nested far too deep)", 2)
    except OSError as error:
        fail(f"{path}: cannot be read ({one_line(error.strerror or str(error))})", 2)
    if not isinstance(data, dict):
        fail(f"{path}: expected a JSON object at the top level", 2)
    try:
        return shallow(data)
    except ValueError as error:
        fail(f"{path}: {error}", 2)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
