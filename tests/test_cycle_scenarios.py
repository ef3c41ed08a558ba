"""Whole cycles on the time-skipping server and a real PostgreSQL: on time, late, never, extended."""

from datetime import date, datetime, time, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.london_time import LONDON, at_london, in_london
from domain.requests import ExtendRequest, ReassignRequest
from domain.schedule import build_schedule
from domain.stages import CycleStatus, Stage
from operations import cycles
from operations.cycles import Refused
from store.read_models import get_cycle_status, list_events, list_prompts
from tests import factories
from tests.engine import LEAD, Engine, running_worker, save_history

STAGE_KINDS = [
    (Stage.ONBOARDING, "onboarding"),
    (Stage.SELF_EVALUATION, "self-evaluation"),
    (Stage.REVIEW, "review"),
    (Stage.REPORT, "report"),
    (Stage.ACTION_PLANNING, "action-plan"),
    (Stage.RE_EVALUATION, "re-evaluation"),
]


def payload_for(kind: str, start: date) -> dict[str, object]:
    return {
        "onboarding": factories.onboarding(),
        "self-evaluation": factories.evaluation(level=2),
        "review": factories.review_findings(),
        "report": factories.report("report"),
        "action-plan": factories.action_plan(due=start + timedelta(weeks=30)),
        "re-evaluation": factories.evaluation(level=3),
    }[kind]


@pytest.fixture
def engine(env: WorkflowEnvironment, pool: asyncpg.Pool) -> Engine:
    return Engine(env, pool)


async def test_happy_cycle_runs_to_completed_on_the_schedule_dates(engine: Engine) -> None:
    spec = factories.cycle_spec()
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.start(spec)
        for stage, kind in STAGE_KINDS:
            opens = schedule.milestone(stage).opens
            view = await engine.advance_to(spec.cycle_id, at_london(opens, time(10, 0)))
            assert view.stage is stage and view.today == opens
            if kind == "review":
                receipt = await engine.hold_expert_review(
                    spec.cycle_id, payload_for(kind, spec.start_date), at_london(opens, time(10, 0))
                )
            else:
                actor = LEAD if kind == "report" else "tester"
                receipt = await engine.submit(spec.cycle_id, kind, payload_for(kind, spec.start_date), actor=actor)
            assert receipt.stage is stage
        outcome = await handle.result()
        await save_history(handle, "happy_cycle")

    assert outcome.status is CycleStatus.COMPLETED
    events = await list_events(engine.pool, spec.cycle_id)
    cycle_events = [e for e in events if e.stream_id.startswith("cycle-")]
    assert [e.version for e in cycle_events] == list(range(1, len(cycle_events) + 1))
    story = [(e.type, e.data.get("stage")) for e in cycle_events if e.type != "PromptIssued"]
    expected: list[tuple[str, str | None]] = [("CycleStarted", None)]
    submitted = {
        Stage.ONBOARDING: "OnboardingCompleted",
        Stage.SELF_EVALUATION: "SelfEvaluationSubmitted",
        Stage.REVIEW: "ReviewFindingsRecorded",
        Stage.REPORT: "ReportPublished",
        Stage.ACTION_PLANNING: "ActionPlanAgreed",
        Stage.RE_EVALUATION: "ReEvaluationSubmitted",
    }
    for stage, _ in STAGE_KINDS:
        expected.append(("StageOpened", stage.value))
        if stage is Stage.REVIEW:
            expected.append(("ReviewDayScheduled", None))
        expected += [(submitted[stage], None), ("StageClosed", stage.value)]
    expected.append(("CycleCompleted", None))
    assert [(t, s) for t, s in story if t not in ("Escalated", "StageOverdue")] == expected
    assert not [t for t, _ in story if t in ("Escalated", "StageOverdue")]

    for event in cycle_events:
        if event.type in ("StageOpened", "StageClosed"):
            stage = Stage(event.data["stage"])
            on = date.fromisoformat(event.data["at"][:10])
            assert on == schedule.milestone(stage).opens, f"{event.type} {stage} on {on}"
            assert event.data["due"] == schedule.milestone(stage).due.isoformat()

    re_evaluation = next(e for e in cycle_events if e.type == "ReEvaluationSubmitted")
    assert all(change["change"] == 1 for change in re_evaluation.data["indicator_changes"])

    row = await get_cycle_status(engine.pool, spec.cycle_id)
    assert row is not None
    assert row.status == "completed" and row.stage == "re_evaluation" and not row.overdue
    assert any(e.type == "FollowUpStarted" for e in events)


async def test_late_institution_gets_reminders_then_escalation_on_school_days(engine: Engine) -> None:
    # Started 18 Jan 2027: self-evaluation falls due on 15 Feb, the first day of half-term,
    # so it moves to Monday 22 Feb, the next school day.
    spec = factories.cycle_spec(urn="100002", start=date(2027, 1, 18))
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    milestone = schedule.milestone(Stage.SELF_EVALUATION)
    assert milestone.due == date(2027, 2, 22)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.start(spec)
        await engine.advance_to(spec.cycle_id, at_london(spec.start_date, time(11, 0)))
        await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
        after_escalation = milestone.escalation + timedelta(hours=2)
        view = await engine.advance_to(spec.cycle_id, after_escalation)
        assert view.stage is Stage.SELF_EVALUATION and view.overdue
        await save_history(handle, "late_institution")

    events = await list_events(engine.pool, spec.cycle_id)
    opened = next(e for e in events if e.type == "StageOpened" and e.data["stage"] == "self_evaluation")
    assert opened.data["due"] == "2027-02-22"
    overdue = next(e for e in events if e.type == "StageOverdue")
    overdue_at = datetime.fromisoformat(overdue.data["at"])
    assert timedelta(0) <= overdue_at - at_london(date(2027, 2, 22), time(17, 0)) < timedelta(minutes=1)
    escalation = next(e for e in events if e.type == "Escalated")
    assert escalation.data["stage"] == "self_evaluation"
    assert escalation.data["recipient_role"] == "facilitator"

    prompts = [p for p in await list_prompts(engine.pool, spec.cycle_id) if p.stage == "self_evaluation"]
    by_kind: dict[str, list[date]] = {}
    for prompt in prompts:
        by_kind.setdefault(prompt.kind, []).append(in_london(prompt.scheduled_for).date())
    assert sorted(by_kind["reminder"]) == [date(2027, 2, 8), date(2027, 2, 12)]  # 5 and 1 school days before
    assert by_kind["due_today"] == [date(2027, 2, 22)]
    assert by_kind["overdue"] == [date(2027, 2, 23)]
    assert by_kind["escalation"] == [date(2027, 2, 25)]
    for prompt in await list_prompts(engine.pool, spec.cycle_id):
        local = prompt.scheduled_for.astimezone(LONDON)
        assert spec.calendar.is_school_day(local.date()), f"{prompt.kind} on {local.date()}"
        assert time(8, 0) <= local.time() < time(17, 0), f"{prompt.kind} at {local.time()}"
    escalation_prompt = next(p for p in prompts if p.kind == "escalation")
    assert escalation_prompt.recipient_email == "hub-lead@hub.example"


async def test_institution_that_never_acts_lapses_on_its_closing_date(engine: Engine) -> None:
    spec = factories.cycle_spec(urn="100003")
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.start(spec)
        outcome = await handle.result()
        await save_history(handle, "never_acts")
    assert outcome.status is CycleStatus.LAPSED
    # Sent just too late, work is refused as the lapsing cycle itself refuses it, not as an unknown workflow.
    with pytest.raises(Refused, match=r"^cycle: is lapsed; nothing more can be changed$"):
        await cycles.submit(engine.client, spec.cycle_id, "onboarding", factories.onboarding())
    events = await list_events(engine.pool, spec.cycle_id)
    lapsed = next(e for e in events if e.type == "CycleLapsed")
    assert lapsed.data["closing_date"] == schedule.closing_date.isoformat()
    assert date.fromisoformat(lapsed.data["at"][:10]) == schedule.closing_date
    escalations = [e for e in events if e.type == "Escalated"]
    assert [e.data["stage"] for e in escalations] == ["onboarding"]
    row = await get_cycle_status(engine.pool, spec.cycle_id)
    assert row is not None and row.status == "lapsed"


async def test_an_extension_moves_the_closing_date(engine: Engine) -> None:
    spec = factories.cycle_spec(urn="100004")
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    new_due = schedule.milestone(Stage.ONBOARDING).due + timedelta(weeks=2)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        handle = await engine.start(spec)
        await engine.advance_to(spec.cycle_id, at_london(spec.start_date, time(12, 0)))
        receipt = await cycles.extend(
            engine.client,
            spec.cycle_id,
            ExtendRequest(stage="onboarding", to=new_due, reason="new careers leader starts", actor="cec"),
        )
        assert new_due.isoformat() in receipt.message
        outcome = await handle.result()
        await save_history(handle, "extended_then_lapsed")
    assert outcome.status is CycleStatus.LAPSED
    events = await list_events(engine.pool, spec.cycle_id)
    extended = next(e for e in events if e.type == "DeadlineExtended")
    moved_closing = schedule.closing_date + timedelta(weeks=2)
    assert extended.data["closing_date"] == moved_closing.isoformat()
    lapsed = next(e for e in events if e.type == "CycleLapsed")
    assert date.fromisoformat(lapsed.data["at"][:10]) == moved_closing
    reminders = [
        p for p in await list_prompts(engine.pool, spec.cycle_id) if p.stage == "onboarding" and p.kind == "due_today"
    ]
    assert [in_london(p.scheduled_for).date() for p in reminders] == [new_due]


async def test_a_replaced_facilitator_gets_the_prompts_from_then_on(engine: Engine) -> None:
    spec = factories.cycle_spec(urn="100005")
    schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        await engine.start(spec)
        await engine.advance_to(spec.cycle_id, at_london(spec.start_date, time(12, 0)))
        with pytest.raises(Refused, match="role: 'governor' cannot be reassigned"):
            await cycles.reassign(
                engine.client, spec.cycle_id, ReassignRequest(role="governor", email="g@school.example")
            )
        receipt = await cycles.reassign(
            engine.client, spec.cycle_id, ReassignRequest(role="facilitator", email="new-lead@hub.example", actor="cec")
        )
        assert "new-lead@hub.example" in receipt.message
        escalation = schedule.milestone(Stage.ONBOARDING).escalation
        await engine.advance_to(spec.cycle_id, escalation + timedelta(hours=1))

    escalations = [p for p in await list_prompts(engine.pool, spec.cycle_id) if p.kind == "escalation"]
    assert [p.recipient_email for p in escalations] == ["new-lead@hub.example"]
    row = await get_cycle_status(engine.pool, spec.cycle_id)
    assert row is not None and row.facilitator_email == "new-lead@hub.example"
