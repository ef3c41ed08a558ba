"""The whole local stack in one process tree: PostgreSQL, Temporal, migrations and the worker.

Services named by CIS_TEMPORAL_ADDRESS / CIS_DATABASE_URL are used instead of the embedded ones. The stack
holds its data folder's lock while it runs and its servers die with it (stack/owned_processes.py).
"""

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import asyncpg
from temporalio.client import Client

from activities.mail_delivery import SmtpSettings
from operations.spec_builder import SpecContext, calendar_from
from operations.weekly_digests import ensure_weekly_digest
from settings import Settings
from stack.addresses import StackAddresses, clear_addresses, write_addresses
from stack.data_folder_lock import holding_data_folder
from stack.embedded import EmbeddedPostgres, TemporalDevServer, free_port
from stack.mail_catcher import MailCatcher
from stack.temporal_connection import connect_temporal
from stack.web_server import serving_web
from store.database import create_pool
from store.migrations_runner import apply_migrations
from worker import build_worker, joined_mail, smtp_settings


def _web_port(data_dir: Path, preferred: int) -> int:
    """The port this data folder's web app had last time (served again while it is free): the links in mail
    already sent (and in the people's inboxes) still work after `cis dev` restarts."""
    try:
        return int((data_dir / "web_port").read_text())
    except (FileNotFoundError, ValueError):
        return preferred


def _remember_web_port(data_dir: Path, web_url: str) -> None:
    (data_dir / "web_port").write_text(web_url.rsplit(":", 1)[1])


class RunningStack:
    def __init__(self, addresses: StackAddresses, client: Client, pool: asyncpg.Pool, data_dir: Path) -> None:
        self.addresses = addresses
        self.client = client
        self.pool = pool
        self.data_dir = data_dir


@asynccontextmanager
async def running_stack(
    settings: Settings,
    time_scale: float | None,
    with_worker: bool = True,
    with_web: bool = True,
    web_port: int = 8000,
) -> AsyncIterator[RunningStack]:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        stack.enter_context(holding_data_folder(data_dir))
        database_url = settings.database_url
        if database_url is None:
            postgres = EmbeddedPostgres(data_dir)
            database_url = await postgres.start()
            stack.callback(postgres.stop)
        await apply_migrations(database_url)

        temporal_address = settings.temporal_address
        ui_url = None
        if temporal_address is None:
            temporal = TemporalDevServer(data_dir)
            stack.callback(temporal.stop)
            await temporal.start()
            temporal_address, ui_url = temporal.address, temporal.ui_url

        local = settings.temporal_address is None
        client = await connect_temporal(temporal_address, settings.namespace, local=local)
        pool = await create_pool(database_url)
        stack.push_async_callback(pool.close)
        smtp = smtp_settings(settings)
        mail_dir = None
        if smtp is None:
            # No SMTP server named: catch the mail locally, for `cis mail` to show.
            catcher = MailCatcher(data_dir / "mail", free_port(1025))
            catcher.start()
            stack.callback(catcher.stop)
            smtp = SmtpSettings(host="127.0.0.1", port=catcher.port)
            mail_dir = str(catcher.folder)
        addresses = StackAddresses(
            temporal_address=temporal_address,
            namespace=settings.namespace,
            temporal_local=local,
            database_url=database_url,
            temporal_ui_url=ui_url,
            time_scale=time_scale,
            pid=os.getpid(),
            smtp_address=f"{smtp.host}:{smtp.port}",
            mail_dir=mail_dir,
        )
        if with_web:
            secret = settings.secret(dev_stack=True)
            port = _web_port(data_dir, web_port)
            web_url = await stack.enter_async_context(
                serving_web(addresses, secret, "127.0.0.1", port, settings=settings, any_port_if_taken=True)
            )
            _remember_web_port(data_dir, web_url)
            addresses = addresses.model_copy(update={"web_url": web_url})
        write_addresses(data_dir, addresses)
        stack.callback(clear_addresses, data_dir)
        if with_worker:
            # Links in the mail point at the web app this stack serves, whichever port it found free.
            _, mail = joined_mail(settings, addresses)
            worker = build_worker(
                client,
                pool,
                settings.task_queue,
                smtp=smtp,
                mail=mail,
                mail_sends_per_second=settings.mail_sends_per_second,
                specs=SpecContext(settings),
                workflow_tasks=settings.worker_workflow_tasks,
            )
            await stack.enter_async_context(worker)
        # The digest's Schedule, one run per cycle week; without a worker of its own (`cis dev --no-worker`), the
        # runs wait for a `cis worker` to join.
        await ensure_weekly_digest(client, settings.task_queue, calendar_from(settings), time_scale)
        yield RunningStack(addresses, client, pool, data_dir)
