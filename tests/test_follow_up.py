"""A year of check-ins after the action plan: momentum each round, stalled actions escalated,
one small history per round thanks to continue-as-new."""

from datetime import date, datetime, time, timedelta

import asyncpg
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.cycle_clock import CycleClock
from domain.cycle_spec import follow_up_workflow_id
from domain.events import AgreedAction
from domain.follow_up import FollowUpInput, FollowUpPolicy, check_in_dates
from domain.london_time import at_london
from domain.recipients import Directory
from domain.schedule import SchedulePolicy
from domain.stages import ReviewType
from operations import cycles
from operations.cycles import Refused
from store.read_models import list_actions, list_events, list_prompts
from tests import factories
from tests.engine import Engine, running_worker, save_history
from workflows.follow_up import FollowUpOutcome, FollowUpWorkflow

START = date(2027, 3, 15)
# A round records a handful of events and timers; a history that grew with the number of rounds would show here.
MAX_EVENTS_PER_RUN = 80


def follow_up_input(cycle_id: str, clock: CycleClock) -> FollowUpInput:
    actions = [
        AgreedAction(
            action_id=action_id,
            title=f"Action {action_id}",
            indicator_ids=[factories.SCHOOLS_MODEL.indicator_ids()[0]],
            owner_role="careers leader",
            due=START + timedelta(weeks=40),
            success_measure="Done and evidenced",
        )
        for action_id in ("A1", "A2", "A3")
    ]
    return FollowUpInput(
        cycle_id=cycle_id,
        review_type=ReviewType.PEER,
        actions=actions,
        start_date=START,
        policy=FollowUpPolicy(),
        calendar=factories.CALENDAR,
        schedule_policy=SchedulePolicy(),
        clock=clock,
        directory=Directory(careers_leader_email="leader@school.example", facilitator_email="hub@hub.example"),
        deliver_mail=False,
    )


async def run_lengths(client: Client, handle: WorkflowHandle[FollowUpWorkflow, FollowUpOutcome]) -> list[int]:
    """History length of every run in the continue-as-new chain, newest first."""
    lengths = []
    described = await handle.describe()
    run_id: str | None = described.run_id
    while run_id:
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
    return lengths


async def test_a_year_of_check_ins_escalates_stalled_actions(env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
    engine = Engine(env, pool)
    cycle_id = "100030-test-2027"
    clock = factories.REAL_SPEED.anchored(at_london(START, time(10)), await env.get_current_time())
    dates = check_in_dates(START, FollowUpPolicy(), factories.CALENDAR)
    assert len(dates) == 8

    async def advance_to(moment: datetime) -> None:
        now = clock.to_cycle(await env.get_current_time())
        if moment > now:
            await env.sleep(moment - now)

    async def check_in(statuses: dict[str, str]) -> None:
        await cycles.submit(engine.client, cycle_id, "check-in", factories.check_in(statuses))

    async with running_worker(engine.client, pool, engine.task_queue):
        handle = await engine.client.start_workflow(
            FollowUpWorkflow.run,
            follow_up_input(cycle_id, clock),
            id=follow_up_workflow_id(cycle_id),
            task_queue=engine.task_queue,
        )
        with pytest.raises(Refused, match="opens on"):
            await check_in({"A1": "in_progress", "A2": "not_started", "A3": "in_progress"})

        await advance_to(at_london(dates[0], time(10)))
        await check_in({"A1": "in_progress", "A2": "not_started", "A3": "in_progress"})
        with pytest.raises(Refused, match="already recorded"):
            await check_in({"A1": "done", "A2": "done", "A3": "done"})

        await advance_to(at_london(dates[1], time(10)))
        with pytest.raises(Refused, match="missing A3"):
            await check_in({"A1": "done", "A2": "not_started"})
        await check_in({"A1": "done", "A2": "not_started", "A3": "in_progress"})
        # Round 3 onwards: nobody checks in.
        outcome = await handle.result()
        await save_history(handle, "follow_up_last_round")
        lengths = await run_lengths(engine.client, handle)

    assert outcome.rounds == 8 and outcome.done == 1 and outcome.total == 3
    assert len(lengths) == 8, lengths
    assert max(lengths) <= MAX_EVENTS_PER_RUN, lengths

    events = await list_events(pool, cycle_id)
    stalled = [(e.data["action_id"], e.data["round"]) for e in events if e.type == "ActionStalled"]
    assert stalled == [("A2", 2), ("A3", 3)]
    escalated = [e.data["action_id"] for e in events if e.type == "Escalated"]
    assert escalated == ["A2", "A3"]
    momentum = [(e.data["round"], e.data["moving"], e.data["total"]) for e in events if e.type == "MomentumRecorded"]
    assert momentum[:3] == [(1, 2, 3), (2, 1, 3), (3, 0, 2)]
    assert len(momentum) == 8
    assert [e.data["round"] for e in events if e.type == "CheckInMissed"] == [3, 4, 5, 6, 7, 8]
    assert sum(1 for e in events if e.type == "FollowUpCompleted") == 1

    actions = {a.action_id: a for a in await list_actions(pool, cycle_id)}
    assert actions["A1"].status == "done"
    assert actions["A2"].stalled and actions["A3"].stalled
    stalled_prompts = [p for p in await list_prompts(pool, cycle_id) if p.kind == "action_stalled"]
    assert {p.recipient_email for p in stalled_prompts} == {"hub@hub.example"}  # no senior leader known
