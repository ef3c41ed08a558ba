"""The review cycle's decider, table by table: every stage on time, late, extended, withdrawn, moved between
groups, lapsed; and every request refused for the right reason. No Temporal, no database."""

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from domain.cycle_alarms import AlarmKind
from domain.cycle_decider import (
    AcceptHeldFindings,
    BeginFollowUp,
    Complete,
    Finished,
    Lapse,
    OpenStage,
    Readdress,
    SoundAlarm,
    StartFollowUp,
    Wait,
    next_step,
)
from domain.decisions import Record
from domain.events import DomainEvent
from domain.london_time import at_london
from domain.meeting_slots import MemberSlot
from domain.peer_group_messages import GroupExit, PeerFindings
from domain.peer_group_rules import Destination
from domain.refusals import Refusal
from domain.requests import (
    ContactsRequest,
    ExtendRequest,
    ReassignRequest,
    ReviewDayRequest,
    ReviewTeamRequest,
    WithdrawRequest,
)
from domain.stages import CycleStatus, ReviewType, Stage
from domain.submissions import ReviewFindings
from tests import factories
from tests.unit.cycles import LEAD, START, Cycle, spec

SCHEDULE = Cycle.started().state.schedule
KINDS = {
    Stage.ONBOARDING: "onboarding",
    Stage.SELF_EVALUATION: "self-evaluation",
    Stage.REVIEW: "review",
    Stage.REPORT: "report",
    Stage.ACTION_PLANNING: "action-plan",
    Stage.RE_EVALUATION: "re-evaluation",
}


def payload(stage: Stage) -> dict[str, Any]:
    return {
        Stage.ONBOARDING: factories.onboarding(),
        Stage.SELF_EVALUATION: factories.evaluation(level=2),
        Stage.REVIEW: factories.review_findings(),
        Stage.REPORT: factories.report("report"),
        Stage.ACTION_PLANNING: factories.action_plan(START + timedelta(weeks=30)),
        Stage.RE_EVALUATION: factories.evaluation(level=3),
    }[stage]


def complete_stage(cycle: Cycle, stage: Stage) -> None:
    if stage is Stage.REVIEW:
        cycle.apply(ReviewDayRequest(on=cycle.now.date(), start=time(cycle.now.hour + 1), actor=LEAD))
        cycle.run_until(cycle.now + timedelta(hours=1))
    actor = LEAD if stage in (Stage.REVIEW, Stage.REPORT) else "institution"
    cycle.submit(KINDS[stage], payload(stage), actor=actor)


def cycle_through(last: Stage) -> Cycle:
    """A cycle whose stages up to `last` were each done on their opening day."""
    cycle = Cycle.started()
    for stage in Stage:
        cycle.on(SCHEDULE.milestone(stage).opens)
        complete_stage(cycle, stage)
        if stage is last:
            break
    return cycle


def of_type(events: list[DomainEvent], name: str) -> list[Any]:
    return [e for e in events if e.type == name]


def listed(events: list[DomainEvent]) -> list[Any]:
    """Events as the tests read them: any field of any event type."""
    return list(events)


# ----- on time -------------------------------------------------------------------------------------------


def test_a_started_cycle_records_its_whole_timeline_up_front() -> None:
    cycle = Cycle.started()
    started = cycle.events[0]
    assert started.type == "CycleStarted"
    assert [m.stage for m in started.milestones] == list(Stage)
    assert started.closing_date == SCHEDULE.closing_date


@pytest.mark.parametrize("stage", list(Stage))
def test_each_stage_opens_on_its_day_and_closes_on_time_when_submitted(stage: Stage) -> None:
    cycle = cycle_through(stage)
    opened = [e for e in of_type(cycle.events, "StageOpened") if e.stage is stage]
    closed = [e for e in of_type(cycle.events, "StageClosed") if e.stage is stage]
    assert [e.at.date() for e in opened] == [SCHEDULE.milestone(stage).opens]
    assert len(closed) == 1 and closed[0].on_time and closed[0].due == SCHEDULE.milestone(stage).due
    assert f"submit:{KINDS[stage]}" in [r.causation for r in cycle.records]
    assert cycle.state.accepted_on[stage] == SCHEDULE.milestone(stage).opens
    assert "StageOverdue" not in cycle.types() and "Escalated" not in cycle.types()


def test_a_cycle_done_on_time_completes_after_re_evaluation() -> None:
    cycle = cycle_through(Stage.RE_EVALUATION)
    cycle.run_until(cycle.now + timedelta(minutes=1))
    assert cycle.state.status is CycleStatus.COMPLETED and cycle.types()[-1] == "CycleCompleted"
    assert next_step(cycle.state, cycle.now) == Finished()
    changes = of_type(cycle.events, "ReEvaluationSubmitted")[0].indicator_changes
    assert changes and all(c.change == 1 for c in changes)


def test_the_follow_up_begins_once_the_action_plan_is_agreed() -> None:
    cycle = cycle_through(Stage.ACTION_PLANNING)
    assert next_step(cycle.state, cycle.now) == BeginFollowUp()
    cycle.apply(BeginFollowUp())
    started = [m for m in cycle.messages if isinstance(m, StartFollowUp)]
    assert len(started) == 1 and [a.action_id for a in started[0].input.actions] == ["A1", "A2"]
    assert started[0].input.start_date == SCHEDULE.milestone(Stage.ACTION_PLANNING).opens
    assert isinstance(next_step(cycle.state, cycle.now), Wait)


@pytest.mark.parametrize(
    ("stage", "kinds"),
    [
        (Stage.ONBOARDING, {"timeline", "stage_opened"}),
        (Stage.SELF_EVALUATION, {"stage_opened"}),
        (Stage.REVIEW, {"stage_opened"}),
        (Stage.REPORT, {"stage_opened"}),
        (Stage.ACTION_PLANNING, {"stage_opened"}),
        (Stage.RE_EVALUATION, {"stage_opened"}),
    ],
)
def test_opening_a_stage_records_it_and_prompts_its_owners(stage: Stage, kinds: set[str]) -> None:
    cycle = Cycle.started()
    decision = cycle.decide(OpenStage(stage))
    events = listed(listed(decision.events))
    assert events[0].type == "StageOpened" and events[0].due == SCHEDULE.milestone(stage).due
    assert {e.kind for e in events[1:]} == kinds
    assert [r.causation for r in decision.steps if isinstance(r, Record)] == [f"{stage}:open"]


def test_an_expert_review_without_a_team_asks_cec_for_one_when_it_opens() -> None:
    cycle = Cycle.started(spec(review_lead_email=None, cec_email="cec@cec.example"))
    for stage in (Stage.ONBOARDING, Stage.SELF_EVALUATION):
        cycle.on(SCHEDULE.milestone(stage).opens)
        complete_stage(cycle, stage)
    cycle.on(SCHEDULE.milestone(Stage.REVIEW).opens)
    needed = [e for e in cycle.events if e.type == "PromptIssued" and e.kind == "review_team_needed"]
    assert [(p.recipient_role, p.recipient_email) for p in needed] == [("cec", "cec@cec.example")]


# ----- late --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(Stage))
def test_a_late_stage_is_reminded_marked_overdue_nudged_and_escalated(stage: Stage) -> None:
    cycle = Cycle.started()
    for earlier in Stage:
        if earlier is stage:
            break
        cycle.on(SCHEDULE.milestone(earlier).opens)
        complete_stage(cycle, earlier)
    milestone = SCHEDULE.milestone(stage)
    cycle.run_until(milestone.escalation + timedelta(hours=1))
    mine = [e for e in cycle.events if getattr(e, "stage", None) is stage]
    nudges = {
        (e.scheduled_for, e.kind): e.kind
        for e in mine
        if e.type == "PromptIssued" and e.kind not in ("stage_opened", "meeting_invite")
    }
    kinds = list(nudges.values())  # one per moment, however many people each went to
    reminders = len(milestone.reminders) - 1
    assert kinds[: reminders + 1] == ["reminder"] * reminders + ["due_today"]
    assert "overdue" in kinds and "escalation" in kinds
    overdue = [e for e in mine if e.type == "StageOverdue"]
    assert len(overdue) == 1 and overdue[0].at == milestone.overdue_at
    escalated = [e for e in mine if e.type == "Escalated"]
    assert len(escalated) == 1 and escalated[0].recipient_role == "facilitator"
    assert escalated[0].school_days_overdue == 3
    assert cycle.state.overdue == {stage} and cycle.state.escalations == 1


def test_a_late_submission_closes_the_stage_not_on_time_and_clears_overdue() -> None:
    cycle = Cycle.started()
    cycle.run_until(SCHEDULE.milestone(Stage.ONBOARDING).overdue_at + timedelta(hours=1))
    cycle.submit("onboarding", factories.onboarding())
    closed = of_type(cycle.events, "StageClosed")[-1]
    assert closed.on_time is False and not cycle.state.overdue


def test_each_alarm_sounds_once_whatever_the_clock_does() -> None:
    cycle = Cycle.started()
    cycle.run_until(SCHEDULE.milestone(Stage.ONBOARDING).escalation + timedelta(days=2))
    again = list(cycle.events)
    cycle.run_until(cycle.now + timedelta(minutes=5))
    assert cycle.events == again
    causes = [r.causation for r in cycle.records if r.causation and ":" in r.causation and "open" not in r.causation]
    assert len(causes) == len(set(causes))


def test_a_late_overdue_wakeup_skips_stale_nudges_but_never_the_overdue_mark() -> None:
    cycle = Cycle.started()
    # The stage opens only after its due date (a worker down for days): no late nudges, but the facts stand.
    cycle.now = SCHEDULE.milestone(Stage.ONBOARDING).escalation + timedelta(hours=2)
    cycle.run_until(cycle.now)
    assert set(cycle.prompt_kinds()) == {"timeline", "stage_opened", "escalation"}
    assert "StageOverdue" in cycle.types() and "Escalated" in cycle.types()


# ----- extended ----------------------------------------------------------------------------------------------


def test_an_extension_moves_the_due_date_later_stages_and_closing_date() -> None:
    cycle = Cycle.started().on(START, time(12))
    new_due = SCHEDULE.milestone(Stage.ONBOARDING).due + timedelta(weeks=2)
    decision = cycle.apply(ExtendRequest(stage="onboarding", to=new_due, reason="new leader", actor="cec"))
    extended = of_type(cycle.events, "DeadlineExtended")[0]
    assert extended.previous_due == SCHEDULE.milestone(Stage.ONBOARDING).due and extended.new_due == new_due
    assert extended.closing_date == SCHEDULE.closing_date + timedelta(weeks=2)
    assert cycle.state.schedule.closing_date == extended.closing_date
    assert [e.kind for e in listed(decision.events) if e.type == "PromptIssued"] == ["deadline_changed"]
    assert decision.receipt is not None and new_due.isoformat() in decision.receipt.message


def test_an_extension_wakes_a_waiting_stage_and_its_reminders_follow_the_new_date() -> None:
    cycle = Cycle.started().on(START, time(12))
    wait = next_step(cycle.state, cycle.now)
    new_due = SCHEDULE.milestone(Stage.ONBOARDING).due + timedelta(weeks=2)
    cycle.apply(ExtendRequest(stage="onboarding", to=new_due, reason="new leader", actor="cec"))
    assert isinstance(wait, Wait) and wait.interrupted_by(cycle.state)
    cycle.run_until(at_london(new_due, time(12)))
    due_today = [e for e in cycle.events if e.type == "PromptIssued" and e.kind == "due_today"]
    assert [p.scheduled_for.date() for p in due_today] == [new_due]


def test_an_overdue_stage_extended_is_no_longer_overdue_and_lapses_on_the_moved_date() -> None:
    cycle = Cycle.started()
    cycle.run_until(SCHEDULE.milestone(Stage.ONBOARDING).overdue_at + timedelta(hours=1))
    assert cycle.state.overdue
    to = SCHEDULE.milestone(Stage.ONBOARDING).due + timedelta(weeks=3)
    cycle.apply(ExtendRequest(stage="onboarding", to=to, reason="illness", actor="cec"))
    assert not cycle.state.overdue
    cycle.run_until(cycle.state.schedule.closes_at + timedelta(days=1))
    lapsed = of_type(cycle.events, "CycleLapsed")[0]
    assert lapsed.at.date() == cycle.state.schedule.closing_date > SCHEDULE.closing_date


@pytest.mark.parametrize(
    ("stage", "to", "reason", "rule"),
    [
        ("nonsense", date(2027, 2, 1), "r", "stage: 'nonsense' is not a stage"),
        ("onboarding", date(2027, 1, 11), "r", "to: must be after the current due date 2027-01-11"),
        ("onboarding", date(2027, 1, 20), "  ", "reason: must not be empty"),
    ],
)
def test_a_bad_extension_is_refused_with_its_field_and_rule(stage: str, to: date, reason: str, rule: str) -> None:
    cycle = Cycle.started().on(START, time(12))
    with pytest.raises(Refusal, match=rule):
        cycle.decide(ExtendRequest(stage=stage, to=to, reason=reason))


def test_a_completed_stage_cannot_be_extended() -> None:
    cycle = cycle_through(Stage.ONBOARDING)
    with pytest.raises(Refusal, match="onboarding was completed on 2027-01-04; nothing to extend"):
        cycle.decide(ExtendRequest(stage="onboarding", to=date(2027, 3, 1), reason="r"))


# ----- withdrawn ---------------------------------------------------------------------------------------------


def test_a_withdrawn_cycle_records_it_tells_its_group_and_stops() -> None:
    cycle = Cycle.started(spec(ReviewType.PEER)).on(START, time(12))
    decision = cycle.apply(WithdrawRequest(reason="school merging", actor="cec"))
    assert cycle.types()[-1] == "CycleWithdrawn" and cycle.state.status is CycleStatus.WITHDRAWN
    assert [(s.workflow_id, s.name, s.payload.reason) for s in cycle.signals] == [
        ("peergroup-test-2027.g1", "member_left", "withdrawn: school merging")
    ]
    assert decision.receipt is not None and decision.receipt.message == "withdrawn: school merging"
    assert next_step(cycle.state, cycle.now) == Finished()


def test_withdrawing_after_the_follow_up_began_stops_it_too() -> None:
    cycle = cycle_through(Stage.ACTION_PLANNING)
    cycle.apply(BeginFollowUp())
    cycle.apply(WithdrawRequest(reason="closing", actor="cec"))
    assert [(s.workflow_id, s.name) for s in cycle.signals] == [("followup-100001-test-2027", "stop")]


@pytest.mark.parametrize(
    "request_",
    [
        WithdrawRequest(reason="again"),
        ExtendRequest(stage="onboarding", to=date(2027, 3, 1), reason="r"),
        ReassignRequest(role="facilitator", email="new@hub.example"),
        ContactsRequest(contacts=factories.onboarding()["contacts"]),
        ReviewTeamRequest(lead="lead@cec.example"),
    ],
)
def test_nothing_changes_a_cycle_that_has_ended(request_: Any) -> None:
    cycle = Cycle.started().on(START, time(12))
    cycle.apply(WithdrawRequest(reason="gone", actor="cec"))
    with pytest.raises(Refusal, match="cycle: is withdrawn; nothing more can be changed"):
        cycle.decide(request_)


def test_a_withdrawal_needs_a_reason() -> None:
    with pytest.raises(Refusal, match="reason: must not be empty"):
        Cycle.started().decide(WithdrawRequest(reason=" "))


# ----- lapsed ------------------------------------------------------------------------------------------------


def test_a_cycle_that_never_acts_lapses_on_its_closing_date() -> None:
    cycle = Cycle.started()
    cycle.run_until(SCHEDULE.closes_at + timedelta(days=30))
    assert cycle.types() == ["CycleStarted", "StageOpened", "StageOverdue", "Escalated", "CycleLapsed"]
    lapsed = of_type(cycle.events, "CycleLapsed")[0]
    assert lapsed.at == SCHEDULE.closes_at and lapsed.stage is Stage.ONBOARDING
    assert cycle.prompt_kinds()[-2:] == ["cycle_lapsed", "cycle_lapsed"]
    assert cycle.records[-1].causation == "closing"


def test_a_stage_that_would_open_after_the_closing_date_lapses_the_cycle_instead() -> None:
    cycle = cycle_through(Stage.ACTION_PLANNING)
    cycle.apply(BeginFollowUp())
    late = SCHEDULE.closes_at + timedelta(hours=1)
    cycle.now = late
    assert next_step(cycle.state, late) == Lapse(Stage.ACTION_PLANNING)


def test_a_lapsed_peer_member_leaves_its_group() -> None:
    cycle = Cycle.started(spec(ReviewType.PEER))
    cycle.run_until(SCHEDULE.closes_at)
    assert [(s.name, s.payload.reason) for s in cycle.signals] == [("member_left", "the cycle lapsed")]


def test_the_closing_alarm_is_a_lapse_not_a_prompt() -> None:
    cycle = Cycle.started().run_until(SCHEDULE.closes_at - timedelta(hours=1))
    step = next_step(cycle.state, SCHEDULE.closes_at)
    assert step == Lapse(Stage.ONBOARDING)


# ----- peer groups: moved, met, findings ------------------------------------------------------------------


def slot(group: str = "g1") -> MemberSlot:
    starts = at_london(date(2027, 2, 10), time(9, 30))
    return MemberSlot(
        cycle_id="100001-test-2027",
        group=group,
        meeting_starts=starts,
        meeting_ends=starts + timedelta(hours=3),
        slot_starts=starts,
        slot_ends=starts + timedelta(hours=1),
        themes_in_scope=[],
        facilitator_email="hub-lead@hub.example",
    )


def peer_findings(group: str = "g1") -> PeerFindings:
    findings = ReviewFindings.model_validate(factories.review_findings())
    return PeerFindings(group=group, findings=findings, actor="hub-lead@hub.example")


def peer_cycle_ready() -> Cycle:
    cycle = Cycle.started(spec(ReviewType.PEER))
    for stage in (Stage.ONBOARDING, Stage.SELF_EVALUATION):
        cycle.on(SCHEDULE.milestone(stage).opens)
        complete_stage(cycle, stage)
    return cycle


def test_a_peer_member_tells_its_group_when_its_self_evaluation_is_accepted() -> None:
    cycle = peer_cycle_ready()
    assert [(s.name, s.payload.on) for s in cycle.signals] == [
        ("member_ready", SCHEDULE.milestone(Stage.SELF_EVALUATION).opens)
    ]


def test_its_slot_in_the_group_meeting_is_recorded_with_invitations() -> None:
    cycle = peer_cycle_ready()
    decision = cycle.apply(slot())
    assert listed(decision.events)[0].type == "ReviewMeetingArranged"
    invites = [e for e in listed(decision.events) if e.type == "PromptIssued"]
    # The facilitator's own invitation comes from the group, once for the whole meeting.
    assert {p.recipient_role for p in invites} == {"careers_leader", "senior_leader"}
    assert cycle.state.review_starts == slot().meeting_starts


def test_a_slot_from_another_group_is_ignored() -> None:
    cycle = peer_cycle_ready()
    assert cycle.decide(slot("g7")).steps == ()


def test_findings_before_the_review_stage_opens_wait_for_it() -> None:
    cycle = Cycle.started(spec(ReviewType.PEER)).on(START, time(12))
    cycle.apply(peer_findings())
    assert cycle.state.held_findings is not None and "ReviewFindingsRecorded" not in cycle.types()
    cycle.submit("onboarding", factories.onboarding())
    cycle.on(SCHEDULE.milestone(Stage.SELF_EVALUATION).opens)
    cycle.submit("self-evaluation", factories.evaluation())
    cycle.on(SCHEDULE.milestone(Stage.REVIEW).opens)
    recorded = of_type(cycle.events, "ReviewFindingsRecorded")
    assert len(recorded) == 1 and recorded[0].actor == "hub-lead@hub.example"
    assert Stage.REVIEW in cycle.state.accepted_on and cycle.state.held_findings is None


def test_findings_arriving_with_the_review_stage_open_close_it_at_once() -> None:
    cycle = peer_cycle_ready()
    cycle.on(SCHEDULE.milestone(Stage.REVIEW).opens, time(11))
    cycle.apply(peer_findings())
    assert next_step(cycle.state, cycle.now) == AcceptHeldFindings()
    cycle.run_until(cycle.now)
    assert cycle.records[-1].causation == "findings:g1" and cycle.records[-1].actor == "hub-lead@hub.example"


def test_findings_for_a_reviewed_member_or_another_group_are_ignored() -> None:
    cycle = peer_cycle_ready()
    assert cycle.decide(peer_findings("g2")).notes == ()


@pytest.mark.parametrize(
    ("destination", "later", "review_type", "group"),
    [
        (Destination.EXPERT_REVIEW, None, ReviewType.EXPERT, None),
        (Destination.LATER_GROUP, "g9", ReviewType.PEER, "g9"),
    ],
)
def test_a_member_moved_out_changes_how_it_is_reviewed(
    destination: Destination, later: str | None, review_type: ReviewType, group: str | None
) -> None:
    cycle = Cycle.started(spec(ReviewType.PEER)).on(START, time(12))
    exit_ = GroupExit(group="g1", to=destination, later_group=later, reason="not ready", actor="hub")
    cycle.apply(exit_)
    changed = of_type(cycle.events, "ReviewArrangementChanged")[0]
    assert (changed.review_type, changed.peer_group, changed.previous_peer_group) == (review_type, group, "g1")
    assert (cycle.state.review_type, cycle.state.peer_group) == (review_type, group)
    assert cycle.records[-1].causation == "left:g1" and cycle.signals == []


def test_a_ready_member_moved_to_a_later_group_tells_that_group_it_is_ready() -> None:
    cycle = peer_cycle_ready()
    cycle.apply(GroupExit(group="g1", to=Destination.LATER_GROUP, later_group="g9", reason="r", actor="hub"))
    assert [(s.workflow_id, s.name) for s in cycle.signals][-1] == ("peergroup-test-2027.g9", "member_ready")


def test_a_member_moved_to_expert_review_with_its_review_open_asks_cec_for_a_team() -> None:
    cycle = peer_cycle_ready().on(SCHEDULE.milestone(Stage.REVIEW).opens, time(11))
    cycle.apply(GroupExit(group="g1", to=Destination.EXPERT_REVIEW, later_group=None, reason="r", actor="hub"))
    assert cycle.records[-1].causation == "moved"
    assert [e.kind for e in listed(list(cycle.records[-1].events))] == ["review_team_needed"]


def test_an_exit_from_a_group_it_is_not_in_is_ignored() -> None:
    cycle = Cycle.started(spec(ReviewType.PEER))
    assert (
        cycle.decide(GroupExit(group="g2", to=Destination.EXPERT_REVIEW, later_group=None, reason="r", actor="x")).steps
        == ()
    )


def test_a_peer_members_review_is_recorded_by_its_facilitator_not_the_cycle() -> None:
    cycle = peer_cycle_ready().on(SCHEDULE.milestone(Stage.REVIEW).opens, time(11))
    with pytest.raises(Refusal, match="peer group g1's facilitator records the findings"):
        cycle.submit("review", factories.review_findings(), actor="hub-lead@hub.example")


# ----- contacts and the review team --------------------------------------------------------------------


def test_a_reassigned_facilitator_gets_the_escalation() -> None:
    cycle = Cycle.started().on(START, time(12))
    decision = cycle.apply(ReassignRequest(role="facilitator", email="new-lead@hub.example", actor="cec"))
    assert [type(m) for m in cycle.messages] == [Readdress]
    assert decision.receipt is not None and "new-lead@hub.example" in decision.receipt.message
    cycle.run_until(SCHEDULE.milestone(Stage.ONBOARDING).escalation + timedelta(hours=1))
    escalations = [e for e in cycle.events if e.type == "PromptIssued" and e.kind == "escalation"]
    assert [p.recipient_email for p in escalations] == ["new-lead@hub.example"]


@pytest.mark.parametrize(
    ("role", "email", "rule"),
    [
        ("governor", "g@school.example", "role: 'governor' cannot be reassigned"),
        ("mayor", "m@x.example", "role: 'mayor' cannot be reassigned"),
        ("facilitator", "not-an-email", "email: 'not-an-email' is not a valid email address"),
    ],
)
def test_a_bad_reassignment_is_refused(role: str, email: str, rule: str) -> None:
    with pytest.raises(Refusal, match=rule):
        Cycle.started().decide(ReassignRequest(role=role, email=email))


def test_onboarding_readdresses_the_prompts_still_to_send() -> None:
    cycle = Cycle.started().on(START, time(12))
    cycle.submit("onboarding", factories.onboarding("new-leader@school.example"))
    readdressed = [m for m in cycle.messages if isinstance(m, Readdress)]
    assert readdressed[0].directory.careers_leader_email == "new-leader@school.example"


def test_changed_contacts_after_the_follow_up_began_reach_it() -> None:
    cycle = cycle_through(Stage.ACTION_PLANNING)
    cycle.apply(BeginFollowUp())
    cycle.apply(ContactsRequest(contacts=factories.onboarding("other@school.example")["contacts"]))
    assert [s.name for s in cycle.signals][-1] == "contacts_changed"


def test_a_review_team_is_assigned_and_its_lead_schedules_the_day() -> None:
    cycle = Cycle.started(spec(review_lead_email=None)).on(START, time(12))
    team = cycle.apply(ReviewTeamRequest(lead="lead@cec.example", members=["a@cec.example"], actor="cec"))
    assert team.receipt is not None and "lead@cec.example leads with a@cec.example" in team.receipt.message
    with pytest.raises(Refusal, match="only the review lead"):
        cycle.decide(ReviewDayRequest(on=date(2027, 2, 3), actor="someone@cec.example"))
    day = cycle.apply(ReviewDayRequest(on=date(2027, 2, 3), actor="lead@cec.example"))
    invites = [e for e in listed(day.events) if e.type == "PromptIssued"]
    assert {p.recipient_role for p in invites} == {"careers_leader", "review_lead"}
    assert cycle.state.review_starts == at_london(date(2027, 2, 3), time(9, 30))


@pytest.mark.parametrize(
    ("on", "start", "rule"),
    [
        (date(2027, 1, 2), time(9, 30), "on: 2027-01-02 is in the past"),
        (date(2027, 2, 16), time(9, 30), "not a school day"),
        (date(2027, 2, 3), time(18), "start: 18:00 is outside 08:00 to 17:00"),
        (date(2027, 6, 8), time(9, 30), "must be before the cycle closes"),
    ],
)
def test_a_bad_review_day_is_refused(on: date, start: time, rule: str) -> None:
    cycle = Cycle.started().on(START, time(12))
    with pytest.raises(Refusal, match=rule):
        cycle.decide(ReviewDayRequest(on=on, start=start, actor=LEAD))


def test_a_peer_review_has_no_review_team() -> None:
    with pytest.raises(Refusal, match="only an expert review has a review team"):
        Cycle.started(spec(ReviewType.PEER)).decide(ReviewTeamRequest(lead="lead@cec.example"))


# ----- submissions refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "rule"),
    [
        ("essay", "kind: 'essay' is not a submission kind"),
        ("check-in", "check-ins go to the cycle's follow-up"),
        ("self-evaluation", "self-evaluation: is not open yet"),
        ("report", "report: is not open yet"),
    ],
)
def test_a_submission_out_of_turn_is_refused(kind: str, rule: str) -> None:
    cycle = Cycle.started().on(START, time(12))
    with pytest.raises(Refusal, match=rule):
        cycle.submit(kind, {})


def test_a_stage_cannot_be_submitted_twice() -> None:
    cycle = cycle_through(Stage.ONBOARDING)
    with pytest.raises(Refusal, match="onboarding: was already accepted on 2027-01-04"):
        cycle.submit("onboarding", factories.onboarding())


def test_a_refused_submission_leaves_the_state_as_it_was() -> None:
    cycle = Cycle.started().on(START, time(12))
    before = cycle.state
    with pytest.raises(Refusal):
        cycle.submit("onboarding", {"contacts": {}})
    assert cycle.state is before


def test_expert_findings_wait_for_the_review_day() -> None:
    cycle = cycle_through(Stage.SELF_EVALUATION).on(SCHEDULE.milestone(Stage.REVIEW).opens, time(10))
    cycle.apply(ReviewDayRequest(on=cycle.now.date(), start=time(14), actor=LEAD))
    with pytest.raises(Refusal, match="on or after the review day"):
        cycle.submit("review", factories.review_findings(), actor=LEAD)
    with pytest.raises(Refusal, match="only the review lead"):
        cycle.run_until(at_london(cycle.now.date(), time(15))).submit("review", factories.review_findings())


def test_the_receipt_names_the_next_stage_and_its_opening_day() -> None:
    cycle = Cycle.started().on(START, time(12))
    receipt = cycle.submit("onboarding", factories.onboarding()).receipt
    assert receipt is not None and receipt.next_stage is Stage.SELF_EVALUATION
    assert receipt.message.endswith("self evaluation opens on 2027-01-11")


# ----- what the cycle does next ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at_london(START, time(7)), "wait"),
        (at_london(START, time(8)), "open"),
        (at_london(date(2027, 1, 8), time(9)), "reminder"),
        (at_london(date(2027, 1, 11), time(17)), "overdue"),
    ],
)
def test_next_step_for_a_fresh_cycle(moment: datetime, expected: str) -> None:
    cycle = Cycle.started()
    if expected not in ("wait", "open"):
        cycle.run_until(moment - timedelta(hours=1))
    step = next_step(cycle.state, moment)
    if expected == "wait":
        assert isinstance(step, Wait) and step.until == at_london(START, time(8))
    elif expected == "open":
        assert step == OpenStage(Stage.ONBOARDING)
    else:
        assert isinstance(step, SoundAlarm) and step.alarm.kind is AlarmKind(expected)


def test_a_cycle_whose_stages_are_all_accepted_completes() -> None:
    cycle = cycle_through(Stage.RE_EVALUATION)
    assert next_step(cycle.state, cycle.now) == Complete()


def test_a_published_report_is_sent_to_the_school() -> None:
    cycle = cycle_through(Stage.REPORT)
    published = [e for e in listed(list(cycle.records[-1].events)) if e.type == "PromptIssued"]
    assert {p.kind for p in published} == {"report_published"} and all(p.due is None for p in published)
    assert cycle.records[-1].causation == "submit:report"
