"""Launch a cohort: one cycle per institution, started concurrently but bounded.

No parent workflow holds the cohort: each cycle is its own top-level workflow whose id comes
from the business key, so a second launch (after a crash halfway, say) starts only what is missing.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
from pydantic import BaseModel, Field
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from domain.cycle_spec import CycleSpec
from domain.london_time import at_london
from domain.peer_group_spec import PeerGroupSpec
from domain.roster_launch import LAUNCH_BATCH, LaunchProgress, RosterLaunch, launch_workflow_id
from operations.cycles import start_cycle
from operations.peer_groups import group_specs, start_group
from store.roster_launches import save_launch
from workflows.roster_launch import RosterLaunchWorkflow


class LaunchOutcome(BaseModel):
    cycle_id: str
    started: bool
    error: str | None = None


class LaunchReport(BaseModel):
    started: list[str]
    existing: list[str]
    failed: dict[str, str]
    groups_started: list[str] = Field(default_factory=list)
    groups_existing: list[str] = Field(default_factory=list)


def on_one_clock(specs: list[CycleSpec], real_now: datetime) -> list[CycleSpec]:
    """A time-scaled cohort shares one clock: its groups and cycles agree on the date however long the launch takes."""
    return [
        spec.model_copy(
            update={"clock": spec.clock.anchored(at_london(spec.start_date, spec.policy.working_hours[0]), real_now)}
        )
        for spec in specs
    ]


async def start_groups(
    client: Client, specs: list[CycleSpec], task_queue: str, concurrency: int = 32
) -> tuple[list[str], list[str]]:
    """Start the peer groups of these cycles not yet started: (started, already running) group ids."""
    gate = asyncio.Semaphore(concurrency)
    groups = group_specs(specs)

    async def launch_group(group: PeerGroupSpec) -> bool:
        async with gate:
            return await start_group(client, group, task_queue)

    started = await asyncio.gather(*(launch_group(g) for g in groups))
    return (
        [g.group for g, new in zip(groups, started, strict=True) if new],
        [g.group for g, new in zip(groups, started, strict=True) if not new],
    )


async def start_cycles(
    client: Client,
    specs: list[CycleSpec],
    task_queue: str,
    concurrency: int = 32,
    on_outcome: Callable[[LaunchOutcome], None] | None = None,
) -> list[LaunchOutcome]:
    """Start every cycle not yet started; one cycle's failure does not stop the others."""
    gate = asyncio.Semaphore(concurrency)

    async def launch(spec: CycleSpec) -> LaunchOutcome:
        async with gate:
            try:
                result = await start_cycle(client, spec, task_queue)
            except Exception as error:  # reported per row; a rerun retries exactly these
                outcome = LaunchOutcome(cycle_id=spec.cycle_id, started=False, error=f"{type(error).__name__}: {error}")
            else:
                outcome = LaunchOutcome(cycle_id=result.cycle_id, started=result.started)
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    return await asyncio.gather(*(launch(spec) for spec in specs))


async def launch_cohort(
    client: Client,
    specs: list[CycleSpec],
    task_queue: str,
    concurrency: int = 32,
    on_outcome: Callable[[LaunchOutcome], None] | None = None,
) -> LaunchReport:
    """Start every peer group, then every cycle, not yet started; one cycle's failure does not stop the others."""
    specs = on_one_clock(specs, datetime.now(UTC))
    # Groups first: a member cycle tells its group when its self-evaluation is accepted.
    groups_started, groups_existing = await start_groups(client, specs, task_queue, concurrency)
    outcomes = await start_cycles(client, specs, task_queue, concurrency, on_outcome)
    return LaunchReport(
        started=[o.cycle_id for o in outcomes if o.started],
        existing=[o.cycle_id for o in outcomes if not o.started and o.error is None],
        failed={o.cycle_id: o.error for o in outcomes if o.error is not None},
        groups_started=groups_started,
        groups_existing=groups_existing,
    )


async def launch_in_background(
    client: Client, pool: asyncpg.Pool, launch: RosterLaunch, task_queue: str, batch_size: int = LAUNCH_BATCH
) -> LaunchProgress:
    """Keep the roster and start (or find, if the same launch is running) the workflow that launches it."""
    await save_launch(pool, launch)
    total = len(launch.rows)
    progress = LaunchProgress(launch_id=launch.launch_id, cohort=launch.cohort, total=total, batch_size=batch_size)
    await client.start_workflow(
        RosterLaunchWorkflow.run,
        progress,
        id=launch_workflow_id(launch.launch_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return progress


async def launch_progress(client: Client, launch_id: str) -> LaunchProgress | None:
    """How far a launch has got: its result once done, its progress while running; None for no such launch."""
    handle = client.get_workflow_handle_for(RosterLaunchWorkflow.run, launch_workflow_id(launch_id))
    try:
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            return await handle.result()
        return await handle.query(RosterLaunchWorkflow.progress)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
