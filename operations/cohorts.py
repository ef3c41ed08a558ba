"""Launch a cohort: one cycle per institution, started concurrently but bounded.

No parent workflow holds the cohort: each cycle is its own top-level workflow whose id comes
from the business key, so a second launch (after a crash halfway, say) starts only what is missing.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from temporalio.client import Client

from domain.cycle_spec import CycleSpec
from domain.london_time import at_london
from domain.peer_group_spec import PeerGroupSpec
from operations.cycles import start_cycle
from operations.peer_groups import group_specs, start_group


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


async def launch_cohort(
    client: Client,
    specs: list[CycleSpec],
    task_queue: str,
    concurrency: int = 32,
    on_outcome: Callable[[LaunchOutcome], None] | None = None,
) -> LaunchReport:
    """Start every peer group, then every cycle, not yet started; one cycle's failure does not stop the others."""
    specs = on_one_clock(specs, datetime.now(UTC))
    gate = asyncio.Semaphore(concurrency)
    groups = group_specs(specs)
    # Groups first: a member cycle tells its group when its self-evaluation is accepted.

    async def launch_group(group: PeerGroupSpec) -> bool:
        async with gate:
            return await start_group(client, group, task_queue)

    group_started = await asyncio.gather(*(launch_group(g) for g in groups))

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

    outcomes = await asyncio.gather(*(launch(spec) for spec in specs))
    return LaunchReport(
        started=[o.cycle_id for o in outcomes if o.started],
        existing=[o.cycle_id for o in outcomes if not o.started and o.error is None],
        failed={o.cycle_id: o.error for o in outcomes if o.error is not None},
        groups_started=[g.group for g, started in zip(groups, group_started, strict=True) if started],
        groups_existing=[g.group for g, started in zip(groups, group_started, strict=True) if not started],
    )
