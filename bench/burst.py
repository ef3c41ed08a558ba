"""The 08:00 burst: N cycles whose first stage opens at the same moment (no daily spread, the worst case), on the
embedded stack (Temporal dev server, embedded PostgreSQL, one worker): how long from that moment until every
cycle's stage is open and its prompt recorded in the read models, against the time the same stack took to start N
bare workflows in the same run. Each size runs on a fresh stack.

    make bench                                          # N = 500 (CIS_BENCH_FULL=1: 500, 5,000 and 25,000)
    .venv/bin/python bench/burst.py 500 5000            # the sizes given

The cohort's clock runs at real speed and puts its first day's 08:00 a while after the launch (long enough for
every start: four times the bare starts plus a minute and a half), so every cycle starts, sleeps, and wakes at that
one moment; the figure is the real seconds after it. With the daily spread (CIS_DAILY_SPREAD_MINUTES, the default
60) the same work comes over an hour instead.
"""

import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from temporalio import workflow
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._sizes import bench_sizes
from domain.cycle_clock import SECONDS_PER_WEEK, CycleClock
from domain.stages import Phase, ReviewType
from operations.cohorts import launch_cohort, on_one_clock
from operations.spec_builder import SpecContext, build_spec
from settings import Settings
from stack.dev_stack import running_stack

COHORT = "burst"


@workflow.defn(sandboxed=False)
class BareWorkflow:
    """The baseline: a workflow that starts and waits, and nothing else."""

    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(timedelta(weeks=18))
        return name


async def opened_and_prompted(pool: asyncpg.Pool) -> tuple[int, int]:
    """Cycles whose onboarding is open, and cycles with their onboarding prompt recorded (the read models)."""
    opened = await pool.fetchval(
        "SELECT count(*) FROM cycle_status WHERE cohort = $1 AND stage = 'onboarding' AND stage_open", COHORT
    )
    prompted = await pool.fetchval(
        "SELECT count(DISTINCT cycle_id) FROM prompts WHERE stage = 'onboarding' AND cycle_id LIKE $1", f"%-{COHORT}"
    )
    return int(opened), int(prompted)


async def until_all(pool: asyncpg.Pool, count: int, moment: datetime) -> tuple[float, float]:
    """Real seconds from `moment` until the first and until all `count` cycles have the stage open and its prompt
    recorded."""
    give_up = time.monotonic() + 600 + count * 0.5
    first: float | None = None
    while time.monotonic() < give_up:
        done = await opened_and_prompted(pool)
        since = (datetime.now(UTC) - moment).total_seconds()
        if first is None and min(done) > 0:
            first = since
        if done == (count, count):
            return first if first is not None else since, since
        await asyncio.sleep(0.25)
    raise AssertionError(f"not every cycle opened its stage in time: {await opened_and_prompted(pool)} of {count}")


async def burst(count: int) -> tuple[tuple[float, float], float, float]:
    """((seconds until the first, until the last), seconds of the launch, seconds of as many bare starts) on a fresh
    stack."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "stack", database_url=None, temporal_address=None, daily_spread_minutes=0
        )
        async with running_stack(settings, time_scale=None, with_web=False) as stack:
            context = SpecContext(settings)
            # At real speed, but pinned to a real moment: nothing else of the cycles' first day comes for hours.
            clock = CycleClock(seconds_per_week=SECONDS_PER_WEEK)
            specs = [
                build_spec(
                    context,
                    urn=f"{800000 + n}",
                    name=f"Burst School {n}",
                    phase=Phase.SECONDARY,
                    review_type=ReviewType.EXPERT,
                    cohort=COHORT,
                    careers_leader_email=f"leader{n}@school.example",
                ).model_copy(update={"clock": clock, "deliver_mail": False})
                for n in range(count)
            ]
            bare_queue = f"bare-{uuid.uuid4().hex[:6]}"
            async with Worker(stack.client, task_queue=bare_queue, workflows=[BareWorkflow]):
                gate = asyncio.Semaphore(32)

                async def bare(n: int) -> None:
                    async with gate:
                        await stack.client.start_workflow(
                            BareWorkflow.run, f"b{n}", id=f"bare-{n}", task_queue=bare_queue
                        )

                started = time.perf_counter()
                await asyncio.gather(*(bare(n) for n in range(count)))
                bare_seconds = time.perf_counter() - started

            # Every start fits before the moment (the launch takes a few times as long as the bare starts), and the
            # cycles start well over the decider's minute of tolerance before it, so none opens its stage early.
            moment = datetime.now(UTC) + timedelta(seconds=90 + 4 * bare_seconds)
            # The prompts' emails go at 09:00, another burst an hour later, left out of this one.
            started = time.perf_counter()
            report = await launch_cohort(stack.client, on_one_clock(specs, moment), settings.task_queue)
            launch_seconds = time.perf_counter() - started
            assert len(report.started) == count, report.failed
            late = datetime.now(UTC) - moment
            if late > timedelta(0):
                sys.exit(f"the launch took past the moment ({late} late): the lead is too short")
            return await until_all(stack.pool, count, moment), launch_seconds, bare_seconds


async def main(sizes: list[int]) -> None:
    results: dict[int, float] = {}
    for count in sizes:
        (first_seconds, burst_seconds), launch_seconds, bare_seconds = await burst(count)
        results[count] = burst_seconds
        print(f"cycles in the burst   : {count}")
        print(f"08:00 burst           : {burst_seconds:8.1f} s until every stage open and prompt recorded")
        print(f"                        {first_seconds:8.1f} s until the first")
        print(f"                        {count / burst_seconds:8.1f} cycles/s")
        print(f"launch beforehand     : {launch_seconds:8.1f} s")
        print(f"bare workflow starts  : {bare_seconds:8.1f} s for {count} (baseline, same run)")
        print(f"ratio                 : {burst_seconds / bare_seconds:8.2f}x the time of bare starts")
    smallest, largest = min(results), max(results)
    if smallest != largest:
        growth = results[largest] / results[smallest]
        times = largest / smallest
        print(f"growth from {smallest} to {largest} cycles: {growth:.1f}x the time for {times:.0f}x the cycles")


if __name__ == "__main__":
    asyncio.run(main(bench_sizes(quick=[500], full=[500, 5000, 25000])))
