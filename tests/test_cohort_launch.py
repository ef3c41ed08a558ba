"""Launching a cohort: one cycle per institution, never two, even when a launch is cut off halfway."""

import asyncio

import asyncpg
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.cycle_spec import CycleSpec, cycle_workflow_id
from domain.stages import ReviewType
from operations.cohorts import LaunchOutcome, launch_cohort
from store.cohort_summary import cohort_summary
from tests import factories
from tests.engine import Engine, running_worker


def pilot_specs() -> list[CycleSpec]:
    """The pilot's shape: 82 institutions, 27 expert reviews and 55 in peer groups."""
    specs = []
    for n in range(82):
        peer = n >= 27
        specs.append(
            factories.cycle_spec(
                urn=f"{200000 + n}",
                review_type=ReviewType.PEER if peer else ReviewType.EXPERT,
                cohort="pilot",
                careers_hub=f"Hub {n % 5}",
                trust=f"Trust {n % 3}" if n % 2 else None,
                peer_group=f"g{(n - 27) // 5}" if peer else None,
            )
        )
    return specs


async def test_a_second_launch_starts_nothing_new(env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
    engine = Engine(env, pool)
    specs = pilot_specs()
    async with running_worker(engine.client, pool, engine.task_queue):
        first = await launch_cohort(engine.client, specs, engine.task_queue, concurrency=16)
        assert len(first.started) == 82 and not first.existing and not first.failed
        again = await launch_cohort(engine.client, specs, engine.task_queue, concurrency=16)
        assert not again.started and len(again.existing) == 82 and not again.failed

        for _ in range(200):
            summary = await cohort_summary(pool, "pilot")
            if summary.cycles == 82 and all(g.key != "starting" for g in summary.by_stage):
                break
            await asyncio.sleep(0.05)
    assert summary.cycles == 82
    assert {g.key: g.cycles for g in summary.by_stage} == {"onboarding": 82}
    assert sum(g.cycles for g in summary.by_hub) == 82 and len(summary.by_hub) == 5
    assert {g.key for g in summary.by_trust} == {"Trust 0", "Trust 1", "Trust 2", "(none)"}


async def test_a_launch_cut_off_halfway_and_run_again_ends_with_one_cycle_per_urn(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    specs = pilot_specs()
    seen: list[LaunchOutcome] = []
    halfway = asyncio.Event()

    def note(outcome: LaunchOutcome) -> None:
        seen.append(outcome)
        if len(seen) >= 40:
            halfway.set()

    launch = asyncio.create_task(launch_cohort(engine.client, specs, engine.task_queue, concurrency=4, on_outcome=note))
    await halfway.wait()
    launch.cancel()  # the operator's laptop dies mid-launch
    await asyncio.gather(launch, return_exceptions=True)
    started_before = {o.cycle_id for o in seen if o.started}
    assert 40 <= len(started_before) < 82

    report = await launch_cohort(engine.client, specs, engine.task_queue, concurrency=16)
    assert not report.failed
    assert set(report.existing) >= started_before
    assert len(report.started) + len(report.existing) == 82
    for spec in specs:
        description = await engine.client.get_workflow_handle(cycle_workflow_id(spec.cycle_id)).describe()
        assert description.status is WorkflowExecutionStatus.RUNNING
    third = await launch_cohort(engine.client, specs, engine.task_queue, concurrency=16)
    assert not third.started and len(third.existing) == 82
