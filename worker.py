"""The Temporal worker: every workflow and activity of the engine on one task queue.

More worker processes on the same task queue share the load; nothing here assumes one machine.
"""

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.content_resolving import ContentResolver
from activities.event_recording import EventRecorder
from activities.facilitator_digest import WeeklyDigests
from activities.mail_delivery import MailDelivery, SmtpSettings
from activities.mail_message import MailSettings
from activities.peer_group_joining import PeerGroupJoiner
from activities.roster_launching import RosterLauncher
from domain.mail import mail_task_queue
from operations.content_registration import register_known_content
from operations.spec_builder import SpecContext
from settings import WORKFLOW_TASKS_AT_ONCE, SecretRequired, Settings
from stack.addresses import StackAddresses
from stack.stop_signal import wait_for_stop
from stack.temporal_connection import connect_temporal
from store.event_store import EventStore
from workflows.digest_week import DigestWeekWorkflow
from workflows.follow_up import FollowUpWorkflow
from workflows.mailbox import MailboxWorkflow
from workflows.peer_group import PeerGroupWorkflow
from workflows.review_cycle import ReviewCycleWorkflow
from workflows.roster_launch import RosterLaunchWorkflow
from workflows.weekly_digest import WeeklyDigestWorkflow

WORKFLOWS: Sequence[type] = (
    ReviewCycleWorkflow,
    FollowUpWorkflow,
    PeerGroupWorkflow,
    MailboxWorkflow,
    WeeklyDigestWorkflow,
    DigestWeekWorkflow,
    RosterLaunchWorkflow,
)

# Pure, deterministic modules shared with the sandbox rather than re-imported for every workflow run. The workflow
# modules themselves too: they hold no state and do nothing at import (house rules), and re-importing them for each
# new workflow instance (every cycle's first task, and again whenever one drops out of the cache) was most of the
# worker's CPU in a launch or an 08:00 burst (bench/burst.py under py-spy: 45 %, compiling review_cycle.py and
# follow_up.py from source and rebuilding their pydantic models each time). On a busy machine those first tasks
# ran past the 2 s deadlock detector and were retried from scratch. What the sandbox no longer checks in them at
# run time, the replay tests (tests/test_replay.py) and the pure deciders in domain/ (passed through already) cover.
PASSTHROUGH = ("pydantic", "pydantic_core", "annotated_types", "email_validator", "domain", "workflows")


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


def mail_settings(settings: Settings, dev_stack: bool) -> MailSettings:
    """`dev_stack`: running on (or joining) a `cis dev` stack, whose data folder may hold the secret."""
    return MailSettings(
        mail_from=settings.mail_from,
        public_url=settings.public_url,
        secret=settings.secret(dev_stack),
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


class EngineWorkers:
    """One process's workers: every workflow and the event recording on the task queue, and the mail senders on
    the mail queue (domain.mail.mail_task_queue), where Temporal holds every worker of every machine together to
    the SMTP provider's rate (`mail_sends_per_second`, enforced by the server for the whole queue)."""

    def __init__(self, workers: list[Worker], prepare: Callable[[], Awaitable[object]] | None = None) -> None:
        self.workers = workers
        self._prepare = prepare
        self._running = AsyncExitStack()

    async def __aenter__(self) -> "EngineWorkers":
        if self._prepare is not None:
            await self._prepare()
        async with AsyncExitStack() as starting:
            for worker in self.workers:
                await starting.enter_async_context(worker)
            self._running = starting.pop_all()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._running.aclose()


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    task_queue: str,
    sticky_timeout: timedelta = timedelta(seconds=10),
    max_cached_workflows: int = 1000,
    smtp: SmtpSettings | None = None,
    mail: MailSettings | None = None,
    mail_sends_per_second: float | None = None,
    specs: SpecContext | None = None,
    workflows: Sequence[type] = WORKFLOWS,
    workflow_tasks: int = WORKFLOW_TASKS_AT_ONCE,
) -> EngineWorkers:
    """`workflows`: the workflow classes to run (a test swaps one for a changed version of it).
    `workflow_tasks`: how many workflow tasks this process takes at once (settings.WORKFLOW_TASKS_AT_ONCE).
    `sticky_timeout`: how long a cached workflow's task waits for this worker before any worker may take it.
    Without `smtp` and `mail`, mail deliveries wait in their retries until a worker that has them takes them.
    `specs`: the models, calendar and settings rosters launched from the web are built with (the environment's)."""
    recorder = EventRecorder(EventStore(pool))
    context = specs or SpecContext(Settings())
    launcher = RosterLauncher(client, pool, context, task_queue)
    resolver = ContentResolver(pool)
    activities: list[Callable[..., Any]] = [
        recorder.record_events,
        resolver.resolve_model,
        resolver.resolve_calendar,
        PeerGroupJoiner(client).join_peer_group,
        launcher.start_roster_groups,
        launcher.start_roster_cycles,
    ]
    mail_activities: list[Callable[..., Any]] = []
    if smtp is not None and mail is not None:
        digests = WeeklyDigests(pool, smtp, mail)
        mail_activities = [
            MailDelivery(pool, smtp, mail).deliver_mail,
            digests.send_weekly_digests,
            digests.digest_recipients,
            digests.send_facilitator_digest,
        ]
    workers = [
        Worker(
            client,
            task_queue=task_queue,
            sticky_queue_schedule_to_start_timeout=sticky_timeout,
            max_cached_workflows=max_cached_workflows,
            max_concurrent_workflow_tasks=workflow_tasks,
            workflows=list(workflows),
            # The senders stay here too for deliveries scheduled on this queue before mail had its own.
            activities=activities + mail_activities,
            workflow_runner=sandboxed_runner(),
        )
    ]
    if mail_activities:
        workers.append(
            Worker(
                client,
                task_queue=mail_task_queue(task_queue),
                activities=mail_activities,
                max_task_queue_activities_per_second=mail_sends_per_second,
            )
        )
    # Before the first task: every model and calendar a new cycle may reference is in the registry.
    return EngineWorkers(workers, prepare=lambda: register_known_content(pool, context))


def sandboxed_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def replayer(workflows: Sequence[type] = WORKFLOWS) -> Replayer:
    """The workflows as this worker runs them, to replay recorded histories against (tests, `cis histories`)."""
    return Replayer(
        workflows=list(workflows), data_converter=pydantic_data_converter, workflow_runner=sandboxed_runner()
    )


def joined_mail(settings: Settings, stack: StackAddresses) -> tuple[SmtpSettings | None, MailSettings]:
    """A worker joining `cis dev` sends through the stack's mail catcher, with links to the stack's web app,
    unless CIS_SMTP_HOST and CIS_PUBLIC_URL say otherwise."""
    smtp = smtp_settings(settings)
    if smtp is None and stack.smtp_address:
        host, _, port = stack.smtp_address.rpartition(":")
        smtp = SmtpSettings(host=host, port=int(port))
    mail = mail_settings(settings, stack.from_dev_stack)
    if stack.web_url and "public_url" not in settings.model_fields_set:
        mail = mail.model_copy(update={"public_url": stack.web_url})
    return smtp, mail


async def run_worker(settings: Settings, stack: StackAddresses) -> None:
    from store.database import create_pool
    from store.migrations_runner import apply_migrations

    smtp, mail = joined_mail(settings, stack)
    await apply_migrations(stack.database_url)
    pool = await create_pool(stack.database_url)
    client = await connect_temporal(stack.temporal_address, stack.namespace, local=stack.temporal_local)
    structlog.get_logger("cis.worker").info(
        "worker started", task_queue=settings.task_queue, temporal=stack.temporal_address
    )
    try:
        async with build_worker(
            client,
            pool,
            settings.task_queue,
            smtp=smtp,
            mail=mail,
            mail_sends_per_second=settings.mail_sends_per_second,
            specs=SpecContext(settings),
            workflow_tasks=settings.worker_workflow_tasks,
        ):
            await wait_for_stop()
        structlog.get_logger("cis.worker").info("worker stopped")
    finally:
        await pool.close()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    if not settings.temporal_address or not settings.database_url:
        sys.exit("worker: set CIS_TEMPORAL_ADDRESS and CIS_DATABASE_URL (or run `cis dev`)")
    stack = StackAddresses(
        temporal_address=settings.temporal_address, namespace=settings.namespace, database_url=settings.database_url
    )
    try:
        asyncio.run(run_worker(settings, stack))
    except SecretRequired as missing:
        sys.exit(f"worker: {missing}")


if __name__ == "__main__":
    main()
