"""`cis dev`, `cis worker`, `cis setup`: run the engine locally or against external services."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest

from cli.runtime import run, settings_for, temporal_client
from domain.access import Principal, Role
from operations.spec_builder import calendar_from
from operations.weekly_digests import WEEKLY_DIGEST_SCHEDULE_ID, ensure_weekly_digest
from settings import Settings
from stack.addresses import StackAddresses, resolve
from stack.dev_stack import RunningStack, running_stack
from stack.stop_signal import wait_for_stop
from stack.web_server import serving_web
from store.access_tokens import issue_token
from store.migrations_runner import apply_migrations
from worker import configure_logging, run_worker
from workflows.search_attributes import ALL_KEYS

console = Console()

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the stack keeps its data (default CIS_DATA_DIR or ./.cis)")
]
TimeScale = Annotated[
    float | None,
    typer.Option("--time-scale", help="Seconds of real time per week of cycle time, for cycles started on this stack"),
]


def print_addresses(addresses: StackAddresses, data_dir: Path, with_worker: bool = True) -> None:
    console.print("[bold green]cis dev stack is up[/]")
    console.print(f"  Temporal      {addresses.temporal_address} (namespace {addresses.namespace})")
    if addresses.temporal_ui_url:
        console.print(f"  Temporal UI   {addresses.temporal_ui_url}")
    console.print(f"  PostgreSQL    {addresses.database_url}")
    if addresses.web_url:
        console.print(f"  Web app       {addresses.web_url}")
    if addresses.mail_dir:
        console.print(f"  Mail catcher  smtp://{addresses.smtp_address} (`cis mail` lists what it caught)")
    elif addresses.smtp_address:
        console.print(f"  SMTP          {addresses.smtp_address}")
    scale = f"{addresses.time_scale:g} s per cycle week" if addresses.time_scale else "real time"
    console.print(f"  Time scale    {scale}")
    console.print(f"  Data          {data_dir}")
    if not with_worker:
        console.print("  Worker        none in this process: start `cis worker` in another terminal")
    console.print("Other `cis` commands in another terminal find this stack. Ctrl-C stops everything.")


async def print_admin_link(stack: RunningStack) -> None:
    """A CEC admin's sign-in link to the running web app, for the person who started the stack."""
    if stack.addresses.web_url:
        admin = Principal(role=Role.ADMIN, expires_at=datetime.now(UTC) + timedelta(days=7))
        token = await issue_token(stack.pool, admin)
        console.print(f"  Sign in (CEC admin, 7 days): {stack.addresses.web_url}/signin?token={token}", soft_wrap=True)


def dev(
    data_dir: DataDir = None,
    time_scale: TimeScale = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Run no worker in this process: `cis worker` processes join the stack")
    ] = False,
) -> None:
    """Run the embedded stack in the foreground: Temporal dev server, PostgreSQL, the web app, the worker."""
    settings = settings_for(data_dir)
    configure_logging("WARNING")

    async def body() -> None:
        async with running_stack(settings, time_scale or settings.time_scale, with_worker=not no_worker) as stack:
            print_addresses(stack.addresses, stack.data_dir, with_worker=not no_worker)
            await print_admin_link(stack)
            await wait_for_stop()
        console.print("stopped")

    run(body)


def web(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Serve the web app against CIS_TEMPORAL_ADDRESS and CIS_DATABASE_URL (or the dev stack's)."""
    settings = Settings()
    configure_logging(settings.log_level)

    async def body() -> None:
        stack = resolve(settings)
        secret = settings.secret(stack.from_dev_stack)
        secure = settings.public_url.startswith("https:")
        proxies = settings.forwarded_allow_ips
        async with serving_web(stack, secret, host, port, secure, forwarded_allow_ips=proxies) as url:
            typer.echo(f"web app on {url}")
            await wait_for_stop()

    run(body)


def worker() -> None:
    """Run a worker against CIS_TEMPORAL_ADDRESS and CIS_DATABASE_URL (or the dev stack's)."""
    settings = Settings()
    configure_logging(settings.log_level)
    stack = resolve(settings)
    run(lambda: run_worker(settings, stack))


def setup() -> None:
    """Prepare external services: apply migrations, register the Cis* search attributes."""
    settings = Settings()

    async def body() -> None:
        stack = resolve(settings)
        applied = await apply_migrations(stack.database_url)
        typer.echo(f"migrations applied: {', '.join(applied) or 'none needed'}")
        client = await temporal_client(stack)
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=settings.namespace)
        )
        missing = {
            key.name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}")
            for key in ALL_KEYS
            if key.name not in existing.custom_attributes
        }
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=settings.namespace, search_attributes=missing)
            )
        typer.echo(f"search attributes registered: {', '.join(missing) or 'all present'}")
        digest = await ensure_weekly_digest(client, settings.task_queue, calendar_from(settings), settings.time_scale)
        typer.echo(f"facilitators' weekly digest: Temporal Schedule {WEEKLY_DIGEST_SCHEDULE_ID} {digest}")

    run(body)
