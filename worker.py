"""The Temporal worker: every workflow and activity of the engine on one task queue.

More worker processes on the same task queue share the load; nothing here assumes one machine.
"""

import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.event_recording import EventRecorder
from activities.facilitator_digest import WeeklyDigests
from activities.mail_delivery import MailDelivery, SmtpSettings
from activities.mail_message import MailSettings
from activities.peer_group_joining import PeerGroupJoiner
from settings import Settings
from stack.addresses import StackAddresses
from stack.stop_signal import wait_for_stop
from store.event_store import EventStore
from workflows.follow_up import FollowUpWorkflow
from workflows.mailbox import MailboxWorkflow
from workflows.peer_group import PeerGroupWorkflow
from workflows.review_cycle import ReviewCycleWorkflow
from workflows.weekly_digest import WeeklyDigestWorkflow

WORKFLOWS: Sequence[type] = (
    ReviewCycleWorkflow,
    FollowUpWorkflow,
    PeerGroupWorkflow,
    MailboxWorkflow,
    WeeklyDigestWorkflow,
)

# Pure, deterministic modules shared with the sandbox rather than re-imported for every workflow run.
PASSTHROUGH = ("pydantic", "pydantic_core", "annotated_types", "email_validator", "domain")


def configure_logging(level: str = "INFO") -> None:
    """JSON logs on stderr; Temporal's workflow and activity context (which carries the cycle's id) included."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.configure(
        processors=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def mail_settings(settings: Settings) -> MailSettings:
    return MailSettings(
        mail_from=settings.mail_from,
        public_url=settings.public_url,
        secret=settings.secret(),
        cec_email=settings.cec_email,
        model_dir=settings.model_dir,
    )


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    if settings.smtp_host is None:
        return None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    task_queue: str,
    sticky_timeout: timedelta = timedelta(seconds=10),
    max_cached_workflows: int = 1000,
    smtp: SmtpSettings | None = None,
    mail: MailSettings | None = None,
) -> Worker:
    """`sticky_timeout`: how long a cached workflow's task waits for this worker before any worker may take it.
    Without `smtp` and `mail`, mail deliveries wait in their retries until a worker that has them takes them."""
    recorder = EventRecorder(EventStore(pool))
    activities: list[Callable[..., Any]] = [recorder.record_events, PeerGroupJoiner(client).join_peer_group]
    if smtp is not None and mail is not None:
        activities.append(MailDelivery(pool, smtp, mail).deliver_mail)
        activities.append(WeeklyDigests(pool, smtp, mail).send_weekly_digests)
    return Worker(
        client,
        task_queue=task_queue,
        sticky_queue_schedule_to_start_timeout=sticky_timeout,
        max_cached_workflows=max_cached_workflows,
        workflows=list(WORKFLOWS),
        activities=activities,
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
        ),
    )


async def connect_temporal(address: str, namespace: str) -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)


def joined_mail(settings: Settings, stack: StackAddresses) -> tuple[SmtpSettings | None, MailSettings]:
    """A worker joining `cis dev` sends through the stack's mail catcher, with links to the stack's web app,
    unless CIS_SMTP_HOST and CIS_PUBLIC_URL say otherwise."""
    smtp = smtp_settings(settings)
    if smtp is None and stack.smtp_address:
        host, _, port = stack.smtp_address.rpartition(":")
        smtp = SmtpSettings(host=host, port=int(port))
    mail = mail_settings(settings)
    if stack.web_url and "public_url" not in settings.model_fields_set:
        mail = mail.model_copy(update={"public_url": stack.web_url})
    return smtp, mail


async def run_worker(settings: Settings, stack: StackAddresses) -> None:
    from store.database import create_pool
    from store.migrations_runner import apply_migrations

    await apply_migrations(stack.database_url)
    pool = await create_pool(stack.database_url)
    client = await connect_temporal(stack.temporal_address, settings.namespace)
    smtp, mail = joined_mail(settings, stack)
    structlog.get_logger("cis.worker").info(
        "worker started", task_queue=settings.task_queue, temporal=stack.temporal_address
    )
    try:
        async with build_worker(client, pool, settings.task_queue, smtp=smtp, mail=mail):
            await wait_for_stop()
        structlog.get_logger("cis.worker").info("worker stopped")
    finally:
        await pool.close()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    if not settings.temporal_address or not settings.database_url:
        sys.exit("worker: set CIS_TEMPORAL_ADDRESS and CIS_DATABASE_URL (or run `cis dev`)")
    stack = StackAddresses(temporal_address=settings.temporal_address, database_url=settings.database_url)
    asyncio.run(run_worker(settings, stack))


if __name__ == "__main__":
    main()
