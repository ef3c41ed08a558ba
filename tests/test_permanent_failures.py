"""What retrying cannot fix stops and shows; what it can, retries; a change once recorded is never reported as failed.

Each test first makes the store or the mail refuse the way the field reports described (a value PostgreSQL will
not take, a stream another writer moved, a message that cannot be built, a follow-up that has ended), then checks
the workflow neither spins nor ends: a NeedsAttention fact on record, the dashboard's flag set, the timers still
running, and exactly one attempt of the activity that cannot succeed.
"""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.event_recording import PERMANENT_RECORDING_FAILURE, EventRecorder
from domain.cycle_spec import cycle_workflow_id, follow_up_workflow_id
from domain.events import AppendRequest, CycleWithdrawn, EventMetadata, NewEvent, PromptIssued
from domain.london_time import LONDON, at_london
from domain.mail import MailboxInput, mailbox_workflow_id
from domain.peer_group_ids import peer_group_workflow_id
from domain.prompts import PromptKind
from domain.requests import ReassignRequest, WithdrawRequest
from domain.schedule import build_schedule
from domain.stages import ContactRole, CycleStatus, Stage
from operations import cycles
from store.event_store import EventStore
from store.read_models import get_cycle_status, list_events, list_prompts
from tests import factories
from tests.engine import LEAD, Engine, running_worker
from tests.eventually import eventually
from tests.smtp_server import SmtpServer
from workflows.mailbox import MailboxWorkflow, outgoing_from

START = date(2027, 1, 4)


@pytest.fixture
def engine(env: WorkflowEnvironment, pool: asyncpg.Pool) -> Engine:
    return Engine(env, pool)


async def refuse_in_store(pool: asyncpg.Pool, condition: str) -> None:
    """Make PostgreSQL refuse matching events exactly as it refuses a NUL (SQLSTATE 22P05, untranslatable)."""
    await pool.execute(
        f"""
        CREATE FUNCTION refuse_some_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {condition} THEN
                RAISE EXCEPTION 'unsupported Unicode escape sequence' USING ERRCODE = 'untranslatable_character';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_some_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_some_events();
        """
    )


async def attempts(handle: WorkflowHandle[Any, Any], activity: str) -> list[int]:
    """The attempt number of every start of `activity` in the workflow's history."""
    history = await handle.fetch_history()
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    return [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and scheduled[e.activity_task_started_event_attributes.scheduled_event_id] == activity
    ]


async def task_failures(handle: WorkflowHandle[Any, Any]) -> int:
    history = await handle.fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)


async def test_a_value_the_store_refuses_fails_once_and_never_retries(pool: asyncpg.Pool) -> None:
    """A NUL reaching PostgreSQL: the append fails the same way every time, so it must not be retried."""
    event = CycleWithdrawn(
        cycle_id="100001-test-2027",
        at=at_london(START, time(10)),
        stage=Stage.ONBOARDING,
        reason="closing\x00",
        actor="cec",
    )
    metadata = EventMetadata(actor="cec", workflow_id="cycle-100001-test-2027", correlation_id=event.cycle_id)
    request = AppendRequest(
        stream_id="cycle-100001-test-2027",
        expected_version=0,
        events=[NewEvent(event_id=str(uuid.uuid4()), event=event, metadata=metadata)],
    )
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(EventRecorder(EventStore(pool)).record_events, request)
    assert raised.value.type == PERMANENT_RECORDING_FAILURE and raised.value.non_retryable
    assert "CycleWithdrawn could not be stored" in raised.value.message
    assert await pool.fetchval("SELECT count(*) FROM events") == 0


async def test_facts_the_store_refuses_are_flagged_and_the_cycle_keeps_its_timers(engine: Engine) -> None:
    await refuse_in_store(engine.pool, "NEW.type = 'StageOpened' AND NEW.data ->> 'stage' = 'self_evaluation'")
    spec = factories.cycle_spec(urn="100061")
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.start(spec)
        await engine.advance_to(spec.cycle_id, at_london(START, time(10)))
        await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
        await engine.advance_to(spec.cycle_id, at_london(schedule.milestone(Stage.SELF_EVALUATION).opens, time(10)))
        await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())
        view = await engine.advance_to(spec.cycle_id, at_london(schedule.milestone(Stage.REVIEW).opens, time(10)))

        assert (view.stage, view.status) == (Stage.REVIEW, CycleStatus.ACTIVE)
        trail = [e for e in await list_events(engine.pool, spec.cycle_id) if e.type != "PromptIssued"]
        flagged = next(e for e in trail if e.type == "NeedsAttention")
        assert flagged.data["failed_types"] == ["PromptIssued", "StageOpened"]
        assert "could not be stored" in flagged.data["reason"] and "\n" not in flagged.data["reason"]
        assert [e.data["stage"] for e in trail if e.type == "StageOpened"] == ["onboarding", "review"]
        row = await get_cycle_status(engine.pool, spec.cycle_id)
        assert row is not None and row.needs_attention and row.stage == "review"
        assert await task_failures(handle) == 0
        assert set(await attempts(handle, "record_events")) == {1}


async def test_a_stream_moved_by_another_writer_fails_the_task_not_the_cycle(engine: Engine) -> None:
    spec = factories.cycle_spec(urn="100062")
    stream = cycle_workflow_id(spec.cycle_id)
    intruder = CycleWithdrawn(
        cycle_id=spec.cycle_id, at=at_london(START, time(8)), stage=Stage.ONBOARDING, reason="x", actor="someone"
    )
    metadata = EventMetadata(actor="someone", workflow_id="elsewhere", correlation_id=spec.cycle_id)
    await EventStore(engine.pool).append(
        AppendRequest(
            stream_id=stream,
            expected_version=0,
            events=[NewEvent(event_id=str(uuid.uuid4()), event=intruder, metadata=metadata)],
        )
    )
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.client.start_workflow(
            "ReviewCycleWorkflow", spec, id=stream, task_queue=engine.task_queue
        )

        async def task_failed() -> bool:
            return await task_failures(handle) >= 1

        await eventually(task_failed, "the workflow task failing on the stream's version")
        described = await handle.describe()
        assert described.status is not None and described.status.name == "RUNNING"
        await handle.terminate("test over")


async def test_withdraw_and_reassign_succeed_when_the_follow_up_has_ended(engine: Engine) -> None:
    spec = factories.cycle_spec(urn="100063")
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    steps = [
        (Stage.ONBOARDING, "onboarding", factories.onboarding()),
        (Stage.SELF_EVALUATION, "self-evaluation", factories.evaluation()),
        (Stage.REVIEW, "review", factories.review_findings()),
        (Stage.REPORT, "report", factories.report("report")),
        (Stage.ACTION_PLANNING, "action-plan", factories.action_plan(due=START + timedelta(weeks=20))),
    ]
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        await engine.start(spec)
        for stage, kind, data in steps:
            opens = at_london(schedule.milestone(stage).opens, time(10))
            await engine.advance_to(spec.cycle_id, opens)
            if kind == "review":
                await engine.hold_expert_review(spec.cycle_id, data, opens)
            else:
                await engine.submit(spec.cycle_id, kind, data, actor=LEAD if kind == "report" else "institution")
        follow_up = engine.client.get_workflow_handle(follow_up_workflow_id(spec.cycle_id))
        await eventually(lambda: _running(follow_up), "the follow-up to start")
        await follow_up.terminate("its rounds are over")

        moved = ReassignRequest(role="facilitator", email="new-lead@hub.example", actor="cec")
        receipt = await cycles.reassign(engine.client, spec.cycle_id, moved)
        assert "new-lead@hub.example" in receipt.message
        gone = await cycles.withdraw(
            engine.client, spec.cycle_id, WithdrawRequest(reason="school closing", actor="cec")
        )
        assert "withdrawn" in gone.message
        assert (await engine.view(spec.cycle_id)).status is CycleStatus.WITHDRAWN


async def _running(handle: WorkflowHandle[Any, Any]) -> bool:
    try:
        described = await handle.describe()
    except Exception:  # not started yet: describe answers "not found"
        return False
    return described.status is not None and described.status.name == "RUNNING"


async def test_a_message_that_cannot_be_built_is_tried_once_and_flagged(engine: Engine) -> None:
    """A header the mail library refuses (a line break) must not be re-dispatched in a loop."""
    spec = factories.cycle_spec(urn="100064")
    await engine.pool.execute(
        "INSERT INTO cycle_status (cycle_id, urn, name, phase, review_type, cohort, start_date, closing_date, "
        "model_id, model_version, updated_position) VALUES ($1, $2, $3, 'secondary', 'expert', 'test-2027', "
        "$4, $4, 'm', '1', 0)",
        spec.cycle_id,
        spec.urn,
        "Broken\r\nBcc: everyone@example.com",  # as an old release could have stored it
        START,
    )
    smtp = SmtpServer()
    smtp.start()
    try:
        prompt = PromptIssued(
            cycle_id=spec.cycle_id,
            at=at_london(START, time(9)),
            prompt_id="p-unsendable",
            kind=PromptKind.STAGE_OPENED.value,
            stage=Stage.ONBOARDING,
            recipient_role=ContactRole.CAREERS_LEADER,
            recipient_email="leader@school.example",
            due=START + timedelta(days=7),
            scheduled_for=at_london(START, time(9)),
        )
        await EventStore(engine.pool).append(
            AppendRequest(
                stream_id=cycle_workflow_id(spec.cycle_id),
                expected_version=0,
                events=[
                    NewEvent(
                        event_id=str(uuid.uuid4()),
                        event=prompt,
                        metadata=EventMetadata(actor="system", workflow_id="t", correlation_id=spec.cycle_id),
                    )
                ],
            )
        )
        async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
            mailbox = MailboxInput(
                subject_id=spec.cycle_id,
                calendar=spec.calendar,
                clock=factories.REAL_SPEED.anchored(at_london(START, time(8)), datetime.now(LONDON)),
                pending=outgoing_from([prompt]),
            )
            handle = await engine.client.start_workflow(
                MailboxWorkflow.run, mailbox, id=mailbox_workflow_id(spec.cycle_id), task_queue=engine.task_queue
            )
            await engine.env.sleep(timedelta(hours=3))

            async def flagged() -> bool:
                row = await get_cycle_status(engine.pool, spec.cycle_id)
                return row is not None and row.needs_attention

            await eventually(flagged, "the cycle flagged as needing attention")
            await engine.env.sleep(timedelta(days=2))
            assert await attempts(handle, "deliver_mail") == [1]
            (row,) = await list_prompts(engine.pool, spec.cycle_id)
            assert row.status == "failed" and "cannot be built" in (row.last_error or "")
            assert smtp.inbox.messages == []
            await handle.terminate("test over")
    finally:
        smtp.stop()


def test_a_peer_group_id_reads_one_way_only() -> None:
    """Cohort sec-a's group b-pg1 and cohort sec-a-b's group pg1 were the same workflow."""
    assert peer_group_workflow_id("sec-a", "b-pg1") != peer_group_workflow_id("sec-a-b", "pg1")
    assert peer_group_workflow_id("sec-a", "b-pg1") == "peergroup-sec-a.b-pg1"
