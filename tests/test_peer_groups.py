"""Peer groups on the time-skipping server: readiness, the cut-off, moving members out, the meeting, findings."""

import functools
import json
from datetime import date, time
from typing import Any

import asyncpg
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.cycle_spec import CycleSpec, cycle_workflow_id
from domain.peer_group_ids import peer_group_workflow_id
from domain.peer_group_rules import GroupPhase
from domain.requests import GroupFindingsRequest, MoveMemberRequest, ScheduleMeetingRequest, WithdrawRequest
from domain.stages import CycleStatus, ReviewType, Stage
from operations import cycles, peer_groups
from operations.cohorts import launch_cohort
from operations.cycles import Refused
from store.read_models import get_cycle_status, list_events, list_prompts
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import Engine, running_worker, save_history
from tests.eventually import eventually

START = date(2027, 1, 4)
FACILITATOR = "hub-lead@hub.example"
SELF_EVALUATION_OPENS = date(2027, 1, 11)
SELF_EVALUATION_DUE = date(2027, 2, 1)
CUT_OFF = date(2027, 2, 8)  # five school days after the self-evaluation is due
REVIEW_DUE = date(2027, 2, 22)


def group_of(size: int, group: str = "g1", first_urn: int = 300000) -> list[CycleSpec]:
    return [
        factories.cycle_spec(
            urn=str(first_urn + n), review_type=ReviewType.PEER, start=START, peer_group=group, review_lead_email=None
        )
        for n in range(size)
    ]


@pytest.fixture
def engine(env: WorkflowEnvironment, pool: asyncpg.Pool) -> Engine:
    return Engine(env, pool)


async def onboard_and_evaluate(
    engine: Engine, clock: CohortTime, specs: list[CycleSpec], ready: list[CycleSpec]
) -> None:
    await clock.on(START)
    for spec in specs:
        await engine.submit(spec.cycle_id, "onboarding", factories.onboarding(spec.careers_leader_email or ""))
    await clock.on(SELF_EVALUATION_OPENS)
    for spec in ready:
        await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())


def schedule(on: date, start: time = time(9, 30), slot: int = 60) -> ScheduleMeetingRequest:
    return ScheduleMeetingRequest(
        plan={"on": on.isoformat(), "start": start.isoformat(), "slot_minutes": slot}, actor=FACILITATOR
    )


async def test_a_member_who_never_submits_is_moved_out_at_the_cut_off_and_the_rest_meet_on_time(engine: Engine) -> None:
    specs = group_of(4)
    ready, never = specs[:3], specs[3]
    clock = CohortTime(engine.env, START)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        report = await launch_cohort(engine.client, specs, engine.task_queue)
        assert report.groups_started == ["g1"] and len(report.started) == 4
        await onboard_and_evaluate(engine, clock, specs, ready)

        # The group takes its members' news in its own time (on a busy machine, after this query could ask).
        await eventually(lambda: _ready_members(engine, len(ready)))
        view = await peer_groups.group_view(engine.client, "test-2027", "g1")
        assert view.phase is GroupPhase.FORMING and view.cut_off == CUT_OFF

        # Before the cut-off the group waits for its last member.
        with pytest.raises(Refused, match=r"not ready yet.*cut-off on 2027-02-08"):
            await peer_groups.schedule_meeting(engine.client, "test-2027", "g1", schedule(date(2027, 2, 3)))
        # The institution cannot short-circuit the group.
        await clock.on(SELF_EVALUATION_DUE, time(12))
        with pytest.raises(Refused, match="peer group g1's facilitator records the findings"):
            await engine.submit(ready[0].cycle_id, "review", factories.review_findings(), actor=FACILITATOR)

        await clock.on(date(2027, 2, 9), time(10))
        group_prompts = await list_prompts(engine.pool, peer_group_workflow_id("test-2027", "g1"))
        assert [(p.kind, p.recipient_email) for p in group_prompts] == [("peer_cut_off_passed", FACILITATOR)]
        with pytest.raises(Refused, match=f"cut-off has passed and {never.cycle_id} not ready"):
            await peer_groups.schedule_meeting(engine.client, "test-2027", "g1", schedule(date(2027, 2, 10)))
        with pytest.raises(Refused, match="is ready; only members not ready"):
            move = {"cycle_id": ready[0].cycle_id, "to": "expert_review"}
            await peer_groups.move_member(engine.client, "test-2027", "g1", MoveMemberRequest(move=move))

        moved = await peer_groups.move_member(
            engine.client,
            "test-2027",
            "g1",
            MoveMemberRequest(move={"cycle_id": never.cycle_id, "to": "expert_review"}, actor=FACILITATOR),
        )
        assert "moved to expert review" in moved.message
        await eventually(lambda: _review_type_is(engine, never.cycle_id, ReviewType.EXPERT))

        with pytest.raises(Refused, match="not a school day"):
            await peer_groups.schedule_meeting(engine.client, "test-2027", "g1", schedule(date(2027, 2, 15)))
        with pytest.raises(Refused, match="must fit between 08:00 and 17:00"):
            await peer_groups.schedule_meeting(engine.client, "test-2027", "g1", schedule(date(2027, 2, 10), time(15)))
        receipt = await peer_groups.schedule_meeting(engine.client, "test-2027", "g1", schedule(date(2027, 2, 10)))
        assert "meets on 2027-02-10 from 09:30 to 12:30" in receipt.message
        # The facilitator's one invitation for the whole meeting comes from the group, not one per member.
        group_prompts = await list_prompts(engine.pool, peer_group_workflow_id("test-2027", "g1"))
        assert [(p.kind, p.recipient_email) for p in group_prompts][-1] == ("meeting_invite", FACILITATOR)

        with pytest.raises(Refused, match="once the group has met"):
            await peer_groups.record_findings(
                engine.client, "test-2027", "g1", GroupFindingsRequest(cycle_id=ready[0].cycle_id, data={})
            )
        await clock.on(date(2027, 2, 10), time(13))
        with pytest.raises(Refused, match="not a member"):
            await peer_groups.record_findings(
                engine.client,
                "test-2027",
                "g1",
                GroupFindingsRequest(cycle_id=never.cycle_id, data=factories.review_findings()),
            )
        for spec in ready:
            await peer_groups.record_findings(
                engine.client,
                "test-2027",
                "g1",
                GroupFindingsRequest(cycle_id=spec.cycle_id, data=factories.review_findings(), actor=FACILITATOR),
            )
        group = engine.client.get_workflow_handle(peer_group_workflow_id("test-2027", "g1"))
        await eventually(lambda: _closed(group))
        await save_history(group, "peer_group_meets")
        for spec, name in ((ready[0], "peer_member_reviewed"), (never, "peer_member_moved_out")):
            await save_history(engine.client.get_workflow_handle(cycle_workflow_id(spec.cycle_id)), name)
        for spec in ready:
            await eventually(functools.partial(_review_done, engine, spec.cycle_id), f"{spec.cycle_id} reviewed")

    for n, spec in enumerate(ready):
        events = await list_events(engine.pool, spec.cycle_id)
        types = [e.type for e in events]
        assert types.index("PeerGroupJoined") < types.index("PeerMemberReady") < types.index("PeerMeetingScheduled")
        assert (
            types.index("ReviewMeetingArranged") < types.index("PeerMeetingHeld") < types.index("PeerFindingsRecorded")
        )
        recorded = next(e for e in events if e.type == "ReviewFindingsRecorded")
        assert recorded.data["actor"] == FACILITATOR
        closed = next(e for e in events if e.type == "StageClosed" and e.data["stage"] == "review")
        assert closed.data["on_time"] is True
        slot = next(e for e in events if e.type == "ReviewMeetingArranged")
        assert slot.data["slot_starts"].startswith(f"2027-02-10T{9 + n:02d}:30")
        invites = [p for p in await list_prompts(engine.pool, spec.cycle_id) if p.kind == "meeting_invite"]
        assert {p.recipient_role for p in invites} == {"careers_leader", "senior_leader"}
        # The meeting came only after every member still in the group had submitted.
        held = next(e for e in events if e.type == "PeerMeetingHeld")
        for other in ready:
            submitted = next(
                e for e in await list_events(engine.pool, other.cycle_id) if e.type == "SelfEvaluationSubmitted"
            )
            assert submitted.position < held.position
        assert date.fromisoformat(slot.data["meeting_starts"][:10]) <= REVIEW_DUE

    row = await get_cycle_status(engine.pool, never.cycle_id)
    assert row is not None and row.review_type == "expert" and row.peer_group is None
    moved_events = [e.type for e in await list_events(engine.pool, never.cycle_id)]
    assert "PeerMemberMoved" in moved_events and "ReviewArrangementChanged" in moved_events
    assert "PeerMeetingHeld" not in moved_events


async def test_a_withdrawn_member_leaves_without_blocking_and_a_later_group_takes_a_moved_member(
    engine: Engine,
) -> None:
    specs = group_of(4)
    staying, leaving, late = specs[:2], specs[2], specs[3]
    clock = CohortTime(engine.env, START)
    async with running_worker(engine.client, engine.pool, engine.task_queue):
        await launch_cohort(engine.client, specs, engine.task_queue)
        await onboard_and_evaluate(engine, clock, specs, staying)
        await cycles.withdraw(engine.client, leaving.cycle_id, WithdrawRequest(reason="school merging", actor="cec"))
        # The late member is moved to a later group before the cut-off: the facilitator need not wait.
        await peer_groups.move_member(
            engine.client,
            "test-2027",
            "g1",
            MoveMemberRequest(
                move={
                    "cycle_id": late.cycle_id,
                    "to": "later_group",
                    "later_group": "g9",
                    "later_cut_off": "2027-03-01",
                },
                actor=FACILITATOR,
            ),
        )

        async def both_ready() -> bool:
            prompts = await list_prompts(engine.pool, peer_group_workflow_id("test-2027", "g1"))
            return [p.kind for p in prompts] == ["peer_group_ready"]

        await eventually(both_ready)
        await peer_groups.schedule_meeting(engine.client, "test-2027", "g1", schedule(date(2027, 1, 20)))

        later = await peer_groups.group_view(engine.client, "test-2027", "g9")
        assert [m.cycle_id for m in later.members] == [late.cycle_id] and later.cut_off == date(2027, 3, 1)
        await engine.submit(late.cycle_id, "self-evaluation", factories.evaluation())

        async def late_is_ready() -> bool:
            view = await peer_groups.group_view(engine.client, "test-2027", "g9")
            return view.members[0].ready_on is not None

        await eventually(late_is_ready)
        first = await peer_groups.group_view(engine.client, "test-2027", "g1")
        # The launch started g1 by reference, and g1 started the later group g9 by reference too.
        for group in ("g1", "g9"):
            assert await _started_by_reference(peer_groups.group_handle(engine.client, "test-2027", group))
        await save_history(peer_groups.group_handle(engine.client, "test-2027", "g9"), "peer_group_later_by_reference")

    assert [m.cycle_id for m in first.members] == [s.cycle_id for s in staying]
    assert set(first.departed) == {leaving.cycle_id, late.cycle_id}
    assert "withdrawn" in first.departed[leaving.cycle_id]
    row = await get_cycle_status(engine.pool, late.cycle_id)
    assert row is not None and row.peer_group == "g9" and row.review_type == "peer"
    withdrawn = await get_cycle_status(engine.pool, leaving.cycle_id)
    assert withdrawn is not None and withdrawn.status == CycleStatus.WITHDRAWN.value


async def _started_by_reference(handle: WorkflowHandle[Any, Any]) -> bool:
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    given = json.loads(started.input.payloads[0].data)
    return "calendar_ref" in given and "model_refs" in given and "calendar" not in given and "models" not in given


async def _ready_members(engine: Engine, count: int) -> bool:
    view = await peer_groups.group_view(engine.client, "test-2027", "g1")
    return sum(1 for m in view.members if m.ready_on) >= count


async def _review_type_is(engine: Engine, cycle_id: str, review_type: ReviewType) -> bool:
    return (await engine.view(cycle_id)).review_type is review_type


async def _review_done(engine: Engine, cycle_id: str) -> bool:
    """Closed in the workflow and recorded in the store: the workflow's state changes before its activity appends."""
    view = await engine.view(cycle_id)
    if next(m for m in view.milestones if m.stage is Stage.REVIEW).closed_on is None:
        return False
    # A query sees the cycle's state as soon as it changes; its events reach the store a moment later.
    events = await list_events(engine.pool, cycle_id)
    return any(e.type == "StageClosed" and e.data["stage"] == "review" for e in events)


async def _closed(handle: WorkflowHandle[Any, Any]) -> bool:
    return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
