"""Running the real engine in tests: the worker on the time-skipping server, a real PostgreSQL."""

import json
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.mail_delivery import SmtpSettings
from activities.mail_message import MailSettings
from domain.cycle_spec import CycleSpec, cycle_workflow_id
from domain.london_time import at_london, in_london
from domain.requests import Receipt, ReviewDayRequest
from domain.timeline import CycleView
from operations import cycles
from operations.spec_builder import SpecContext
from settings import Settings
from worker import WORKFLOWS, EngineWorkers, build_worker
from workflows.review_cycle import CycleOutcome, ReviewCycleWorkflow

# tests/factories.py assigns this lead to every expert cycle.
LEAD = "reviewer@cec.example"


# Rosters launched from the web are built by the worker; the time-skipping server has no custom search attributes.
SPECS = SpecContext(Settings(search_attributes=False))
MAIL = MailSettings(mail_from="CIS <cis@cec.example>", public_url="https://cis.example", secret="test-secret")


@asynccontextmanager
async def running_worker(
    client: Client,
    pool: asyncpg.Pool,
    task_queue: str,
    cache: bool = True,
    smtp_port: int | None = None,
    workflows: Sequence[type] = WORKFLOWS,
) -> AsyncIterator[EngineWorkers]:
    """`workflows`: in place of the current ones (a changed version of one, as a deploy brings it).
    `cache=False` for workers that will be stopped mid-cycle: the time-skipping test server never hands a
    stopped worker's sticky tasks to another worker (a real server does, after the sticky timeout).
    `smtp_port`: deliver mail to the test's SMTP server there."""
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_port, timeout_seconds=5) if smtp_port else None
    async with build_worker(
        client,
        pool,
        task_queue,
        sticky_timeout=timedelta(seconds=1),
        max_cached_workflows=1000 if cache else 0,
        smtp=smtp,
        mail=MAIL,
        specs=SPECS,
        workflows=workflows,
    ) as worker:
        yield worker


class Engine:
    """One test's engine: a task queue, a worker, helpers to act in cycle time."""

    def __init__(self, env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
        self.env = env
        self.pool = pool
        self.task_queue = f"test-{uuid.uuid4().hex[:8]}"

    @property
    def client(self) -> Client:
        return self.env.client

    async def start(self, spec: CycleSpec) -> WorkflowHandle[ReviewCycleWorkflow, CycleOutcome]:
        # The handle from start_workflow is the time-skipping environment's own: awaiting its result
        # lets the test server skip time (a handle fetched by id would wait in real time).
        handle = await self.client.start_workflow(
            ReviewCycleWorkflow.run, spec, id=cycle_workflow_id(spec.cycle_id), task_queue=self.task_queue
        )
        again = await cycles.start_cycle(self.client, spec, self.task_queue)
        assert not again.started, "the business key must not start a second cycle"
        return handle

    async def view(self, cycle_id: str) -> CycleView:
        # A worker without a cache replays the whole history to answer; on a loaded machine that can outlast
        # the query's deadline (CANCELLED), which says nothing about the cycle: ask again.
        for _ in range(2):
            try:
                return await cycles.cycle_view(self.client, cycle_id)
            except cycles.CycleUnavailable:
                continue
        return await cycles.cycle_view(self.client, cycle_id)

    async def advance_to(self, cycle_id: str, moment: datetime) -> CycleView:
        """Skip time until the cycle's clock reads `moment` (cycle time)."""
        view = await self.view(cycle_id)
        if moment > view.now:
            await self.env.sleep(moment - view.now)
        return await self.view(cycle_id)

    async def submit(self, cycle_id: str, kind: str, data: dict[str, Any], actor: str = "institution") -> Receipt:
        return await cycles.submit(self.client, cycle_id, kind, data, actor)

    async def schedule_review_day(self, cycle_id: str, on: date, start: time, lead: str = LEAD) -> Receipt:
        return await cycles.schedule_review_day(self.client, cycle_id, ReviewDayRequest(on=on, start=start, actor=lead))

    async def hold_expert_review(
        self, cycle_id: str, findings: dict[str, Any], now: datetime, lead: str = LEAD
    ) -> Receipt:
        """At cycle moment `now` (a query's clock lags: it reads the last workflow task's time), the lead
        schedules the review day for the next hour and records the findings when it comes."""
        now = in_london(now)
        start = time(now.hour + 1, 0)
        await self.schedule_review_day(cycle_id, now.date(), start, lead)
        await self.advance_to(cycle_id, at_london(now.date(), start))
        return await self.submit(cycle_id, "review", findings, actor=lead)


# The time-skipping test server persists the workflow task that ran a rejected update's validator
# (the real server discards it: tests/test_rejections_on_dev_server.py proves that); those three
# bookkeeping events say nothing about the workflow's state.
_TASK_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
}


async def history_length(handle: WorkflowHandle[Any, Any], strict: bool = False) -> int:
    """Events in the workflow's history; unless strict, without workflow-task bookkeeping."""
    history = await handle.fetch_history()
    return sum(1 for event in history.events if strict or event.event_type not in _TASK_EVENTS)


async def save_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Record a scenario's history for the replay test into the release folder `make histories` names in
    CIS_RECORD_HISTORIES (tests/histories/<version>/); a history already there is never overwritten."""
    folder = os.environ.get("CIS_RECORD_HISTORIES")
    if not folder:
        return
    path = Path(folder) / f"{name}.json"
    assert not path.exists(), f"{path} is recorded already: histories are never overwritten"
    history = await handle.fetch_history()
    payload = {"workflow_id": history.workflow_id, "history": json.loads(history.to_json())}
    path.write_text(json.dumps(payload, indent=1))
