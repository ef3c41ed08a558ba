"""Launch N cycles on the embedded stack (Temporal dev server on SQLite, embedded PostgreSQL, the worker
running) and compare with N bare workflow starts of a minimal workflow, measured in the same run.

    make bench                                # N = 1,000 (CIS_BENCH_FULL=1: N = 5,000)
    .venv/bin/python bench/launch.py 500      # the size given

The ratio is the launch's throughput over the bare starts' (issue 16 asks for at least 0.8x). The launch is
`cis cohort launch`'s (operations.cohorts.launch_cohort: the peer groups, then the cycles, 32 starts at a time);
the worker of the same process meanwhile runs each started cycle's first steps, as it would in `cis dev`.
"""

import asyncio
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._sizes import bench_sizes
from domain.stages import Phase, ReviewType
from operations.cohorts import launch_cohort
from operations.spec_builder import SpecContext, build_spec
from settings import Settings
from stack.dev_stack import running_stack


@workflow.defn(sandboxed=False)
class BareWorkflow:
    """The baseline: a workflow that starts and waits, as a cycle does, and nothing else."""

    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(timedelta(weeks=18))
        return name


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "stack", database_url=None, temporal_address=None)
        async with running_stack(settings, time_scale=None, with_web=False) as stack:
            context = SpecContext(settings)
            specs = [
                build_spec(
                    context,
                    urn=f"{700000 + n}",
                    name=f"Bench School {n}",
                    phase=Phase.SECONDARY if n % 5 else Phase.COLLEGE,
                    review_type=ReviewType.EXPERT if n % 3 else ReviewType.PEER,
                    cohort="bench",
                    careers_leader_email=f"leader{n}@school.example",
                    facilitator_email="hub@hub.example",
                    careers_hub=f"Hub {n % 40}",
                    # Peer cycles in groups of five, so the launch also starts their peer groups.
                    peer_group=None if n % 3 else f"g{n // 15}",
                )
                for n in range(count)
            ]
            # The baseline first: the cycles, once started, keep the worker busy recording their first events.
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

            started = time.perf_counter()
            report = await launch_cohort(stack.client, specs, settings.task_queue, concurrency=32)
            cycle_seconds = time.perf_counter() - started
            assert len(report.started) == count, report.failed

    print(f"cycles launched       : {count} (and {len(report.groups_started)} peer groups)")
    print(f"cis cohort launch     : {count / cycle_seconds:8.1f} cycles/s ({cycle_seconds:.1f} s)")
    print(f"bare workflow starts  : {count / bare_seconds:8.1f} starts/s ({bare_seconds:.1f} s, baseline, same run)")
    print(f"ratio                 : {bare_seconds / cycle_seconds:8.2f}x the bare starts' throughput")


if __name__ == "__main__":
    (size,) = bench_sizes(quick=[1000], full=[5000])
    asyncio.run(main(size))
