"""A worker stopped mid-cycle and a new one started: the cycle resumes, nothing is duplicated."""

from collections import Counter
from datetime import time, timedelta

import asyncpg
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.london_time import at_london
from domain.schedule import build_schedule
from domain.stages import CycleStatus, Stage
from store.read_models import list_events, list_prompts
from tests import factories
from tests.engine import LEAD, Engine, running_worker, save_history


async def test_a_new_worker_resumes_the_cycle_without_duplicates(env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100020")
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)

    async with running_worker(engine.client, pool, engine.task_queue, cache=False):
        handle = await engine.start(spec)
        await engine.advance_to(spec.cycle_id, at_london(spec.start_date, time(10)))
        await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
        view = await engine.advance_to(
            spec.cycle_id, at_london(schedule.milestone(Stage.SELF_EVALUATION).opens, time(10))
        )
        await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    async with running_worker(engine.client, pool, engine.task_queue, cache=False):
        view = await engine.view(spec.cycle_id)
        assert view.stage is Stage.SELF_EVALUATION and view.status is CycleStatus.ACTIVE
        for stage, kind, data in [
            (Stage.REVIEW, "review", factories.review_findings()),
            (Stage.REPORT, "report", factories.report()),
            (Stage.ACTION_PLANNING, "action-plan", factories.action_plan(spec.start_date + timedelta(weeks=30))),
            (Stage.RE_EVALUATION, "re-evaluation", factories.evaluation(level=3)),
        ]:
            opens = at_london(schedule.milestone(stage).opens, time(10))
            await engine.advance_to(spec.cycle_id, opens)
            if kind == "review":
                await engine.hold_expert_review(spec.cycle_id, data, opens)
            else:
                await engine.submit(spec.cycle_id, kind, data, actor=LEAD if kind == "report" else "institution")
        outcome = await handle.result()
        await save_history(handle, "worker_restart")

    assert outcome.status is CycleStatus.COMPLETED
    events = [e for e in await list_events(pool, spec.cycle_id) if e.stream_id.startswith("cycle-")]
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert len({e.event_id for e in events}) == len(events)
    assert outcome.events_recorded == len(events)
    types = Counter(e.type for e in events)
    assert types["CycleStarted"] == 1 and types["CycleCompleted"] == 1
    assert types["StageOpened"] == 6 and types["StageClosed"] == 6
    assert types["PromptIssued"] == outcome.prompts_issued
    prompts = await list_prompts(pool, spec.cycle_id)  # the cycle's and its follow-up's
    issued = [e for e in await list_events(pool, spec.cycle_id) if e.type == "PromptIssued"]
    assert len(prompts) == len(issued) == len({p.prompt_id for p in prompts})
