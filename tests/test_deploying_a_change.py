"""Deploying a change to workflow code safely (README: Deploying a change): the replay test catches a change to
the review cycle's command sequence made without `workflow.patched`; behind `workflow.patched` the same change
replays every recorded history, cycles already running go on the old way and new cycles run the new way."""

import json
from collections.abc import Sequence
from datetime import time
from pathlib import Path

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.workflow import NondeterminismError

from domain.cycle_spec import cycle_workflow_id
from domain.london_time import at_london
from store.read_models import list_events
from tests import factories
from tests.changed_review_cycle import GuardedChange, UnguardedChange
from tests.engine import Engine, running_worker
from worker import WORKFLOWS, replayer
from workflows.review_cycle import ReviewCycleWorkflow

HISTORIES = Path(__file__).parent / "histories"


def _cycle_histories() -> list[WorkflowHistory]:
    """Every review cycle's history recorded in any release (what tests/test_replay.py replays)."""
    histories = []
    for path in sorted(HISTORIES.glob("*/*.json")):
        recorded = json.loads(path.read_text())
        started = recorded["history"]["events"][0]["workflowExecutionStartedEventAttributes"]
        if started["workflowType"]["name"] == "ReviewCycleWorkflow":
            histories.append(WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"]))
    return histories


def _with(changed: type) -> Sequence[type]:
    return [changed if workflow is ReviewCycleWorkflow else workflow for workflow in WORKFLOWS]


async def _replay_failures(changed: type) -> list[Exception]:
    failures = []
    changed_code = replayer(_with(changed))
    for history in _cycle_histories():
        result = await changed_code.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(result.replay_failure)
    return failures


async def test_an_unguarded_change_to_the_command_sequence_fails_the_replay_test() -> None:
    histories = _cycle_histories()
    assert len(histories) >= 5
    failures = await _replay_failures(UnguardedChange)
    # Every running cycle would have failed its next workflow task after the deploy.
    assert len(failures) == len(histories)
    assert all(isinstance(failure, NondeterminismError) for failure in failures), failures


async def test_the_same_change_behind_workflow_patched_replays_every_recorded_history() -> None:
    assert await _replay_failures(GuardedChange) == []


async def _first_commands(engine: Engine, cycle_id: str) -> list[EventType.ValueType]:
    history = await engine.client.get_workflow_handle(cycle_workflow_id(cycle_id)).fetch_history()
    commands = {
        EventType.EVENT_TYPE_MARKER_RECORDED,
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    }
    return [event.event_type for event in history.events if event.event_type in commands][:2]


async def test_behind_workflow_patched_a_running_cycle_goes_on_the_old_way_and_a_new_one_runs_the_new_way(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    running = factories.cycle_spec(urn="100051")
    new = factories.cycle_spec(urn="100052")
    async with running_worker(engine.client, pool, engine.task_queue, cache=False):
        await engine.start(running)
        await engine.advance_to(running.cycle_id, at_london(running.start_date, time(10)))

    # The deploy: the old worker is gone, the new code takes over the running cycle and starts the next one.
    async with running_worker(engine.client, pool, engine.task_queue, cache=False, workflows=_with(GuardedChange)):
        receipt = await engine.submit(running.cycle_id, "onboarding", factories.onboarding())
        assert receipt.accepted, receipt
        await engine.start(new)
        view = await engine.advance_to(new.cycle_id, at_london(new.start_date, time(10)))
        assert view.status.value == "active"

    running_events = [e.type for e in await list_events(pool, cycle_workflow_id(running.cycle_id))]
    assert running_events[0] == "CycleStarted" and "OnboardingCompleted" in running_events
    assert (await list_events(pool, cycle_workflow_id(new.cycle_id)))[0].type == "CycleStarted"
    # The running cycle's history has no marker and starts with its first activity, as before the deploy; the new
    # cycle first marks the patch, then waits out the new timer.
    running_history = await engine.client.get_workflow_handle(cycle_workflow_id(running.cycle_id)).fetch_history()
    assert EventType.EVENT_TYPE_MARKER_RECORDED not in [event.event_type for event in running_history.events]
    assert (await _first_commands(engine, running.cycle_id))[0] == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    assert await _first_commands(engine, new.cycle_id) == [
        EventType.EVENT_TYPE_MARKER_RECORDED,
        EventType.EVENT_TYPE_TIMER_STARTED,
    ]
