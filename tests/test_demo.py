"""The demo `make run` shows: its six institutions, launched and acted on by the same simulated people, day by
day on the time-skipping server. Schools that act on time complete their cycle, the peer group meets and its
members get their findings and go on to their action plans, the late school is late, and the one that never acts
never moves past onboarding."""

from datetime import time, timedelta
from pathlib import Path

import asyncpg
from temporalio.testing import WorkflowEnvironment

from demo.cohort import DEMO_COHORT, Persona, demo_specs
from demo.simulation import Simulator
from domain.cycle_clock import SECONDS_PER_WEEK
from domain.london_time import at_london
from domain.stages import ReviewType
from operations.cohorts import launch_cohort
from operations.spec_builder import SpecContext
from settings import Settings
from store.read_models import list_cycle_status, list_events
from tests.engine import Engine, running_worker

COHORT = "demo-test"
DAYS = 24 * 7  # long enough for every cycle to close: about 18 weeks of cycle, then the lapse of the silent one
STEP = timedelta(days=2)  # the simulated people look in every other day: they act on days, not hours


async def test_the_demo_cohort_completes_meets_and_lapses_as_the_readme_says(
    env: WorkflowEnvironment, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    engine = Engine(env, pool)
    settings = Settings(task_queue=engine.task_queue, search_attributes=False, data_dir=tmp_path)
    context = SpecContext(settings)
    # One cycle week per real week: the time-skipping server's clock is the cycle's.
    # Mail delivery has its own tests (tests/test_mail_delivery.py).
    specs = [s.model_copy(update={"deliver_mail": False}) for s in demo_specs(context, COHORT, float(SECONDS_PER_WEEK))]
    start = specs[0].start_date
    async with running_worker(engine.client, pool, engine.task_queue):
        await launch_cohort(engine.client, specs, engine.task_queue)
        simulator = Simulator(engine.client, COHORT, DEMO_COHORT, context.calendar, clock=env.get_current_time)
        now = await env.get_current_time()
        await env.sleep(at_london(start, time(9)) - now if at_london(start, time(9)) > now else timedelta(0))
        for _ in range(DAYS // STEP.days):
            await simulator.step()
            rows = await list_cycle_status(pool, cohort=COHORT)
            if rows and all(r.status != "active" for r in rows):
                break
            await env.sleep(STEP)

    final = {r.urn: r for r in await list_cycle_status(pool, cohort=COHORT)}
    personas = {i.urn: i.persona for i in DEMO_COHORT}
    completed = [urn for urn, row in final.items() if row.status == "completed"]
    assert len(completed) >= 3, (
        f"{len(completed)} of 6 completed: {[(r.name, r.status, r.stage) for r in final.values()]}"
    )
    assert all(personas[urn] is not Persona.NEVER for urn in completed)
    never = next(urn for urn, persona in personas.items() if persona is Persona.NEVER)
    assert final[never].status == "lapsed" and final[never].stage == "onboarding", "the school that never acts"
    for institution in DEMO_COHORT:
        if institution.review_type is not ReviewType.PEER:
            continue
        types = [e.type for e in await list_events(pool, final[institution.urn].cycle_id)]
        assert "PeerFindingsRecorded" in types, f"{institution.name} got no findings"
        assert "ActionPlanAgreed" in types or final[institution.urn].stage in ("action_planning", "re_evaluation"), (
            f"{institution.name} never reached its action plan"
        )
