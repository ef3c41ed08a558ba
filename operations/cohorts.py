"""Launch a cohort: one cycle per institution, started concurrently but bounded.

No parent workflow holds the cohort: each cycle is its own top-level workflow whose id comes
from the business key, so a second launch (after a crash halfway, say) starts only what is missing.
"""

import asyncio
from collections.abc import Callable

from pydantic import BaseModel
from temporalio.client import Client

from domain.cycle_spec import CycleSpec
from operations.cycles import start_cycle


class LaunchOutcome(BaseModel):
    cycle_id: str
    started: bool
    error: str | None = None


class LaunchReport(BaseModel):
    started: list[str]
    existing: list[str]
    failed: dict[str, str]


async def launch_cohort(
    client: Client,
    specs: list[CycleSpec],
    task_queue: str,
    concurrency: int = 32,
    on_outcome: Callable[[LaunchOutcome], None] | None = None,
) -> LaunchReport:
    """Start every cycle not yet started; one failure does not stop the others."""
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

    outcomes = await asyncio.gather(*(launch(spec) for spec in specs))
    return LaunchReport(
        started=[o.cycle_id for o in outcomes if o.started],
        existing=[o.cycle_id for o in outcomes if not o.started and o.error is None],
        failed={o.cycle_id: o.error for o in outcomes if o.error is not None},
    )
