"""The peer group's decider: members joining, ready, leaving; the cut-off; the meeting; moves; findings."""

from datetime import date, time, timedelta
from typing import Any

import pytest

from domain.decisions import Decision, Record
from domain.london_time import at_london
from domain.peer_group_decider import (
    Close,
    Finished,
    GroupCommand,
    GroupDecision,
    HoldMeeting,
    Join,
    JoinLaterGroup,
    NoteCutOff,
    PromptReady,
    Wait,
    cut_off_at,
    decide,
    next_step,
)
from domain.peer_group_messages import MemberLeft, MemberReady
from domain.peer_group_rules import GroupPhase
from domain.peer_group_spec import PeerGroupSpec, PeerMember
from domain.peer_group_state import GroupState, evolve_all, initial_state
from domain.peer_group_view import group_view
from domain.refusals import Refusal
from domain.requests import GroupFindingsRequest, MoveMemberRequest, ScheduleMeetingRequest
from domain.stages import ModelVariant
from tests import factories
from tests.unit.driving import Driven

FACILITATOR = "hub-lead@hub.example"
CUT_OFF = date(2027, 2, 8)
IDS = [f"30000{n}-test-2027" for n in range(4)]


def member(cycle_id: str) -> PeerMember:
    return PeerMember(
        cycle_id=cycle_id, urn=cycle_id[:6], name=f"School {cycle_id[:6]}", model_variant=ModelVariant.SCHOOLS
    )


SPEC = PeerGroupSpec(
    cohort="test-2027",
    group="g1",
    facilitator_email=FACILITATOR,
    members=[member(i) for i in IDS],
    cut_off=CUT_OFF,
    models={ModelVariant.SCHOOLS: factories.SCHOOLS_MODEL},
    calendar=factories.CALENDAR,
    cec_email="cec@cec.example",
)


class Group(Driven[GroupState, GroupCommand]):
    @classmethod
    def formed(cls, ready: int = 0) -> "Group":
        group = cls(initial_state(SPEC, SPEC.workflow_id), at_london(date(2027, 1, 11), time(10)))
        for m in SPEC.members:
            group.apply(Join(m))
        for cycle_id in IDS[:ready]:
            group.apply(MemberReady(cycle_id=cycle_id, on=date(2027, 1, 11)))
        return group

    @property
    def first(self) -> list[object]:
        return [m for m in self.messages if isinstance(m, JoinLaterGroup)]

    def decide(self, command: GroupCommand) -> GroupDecision:
        return decide(self.state, command, self.now)

    def evolve(self, decision: Decision[Any, Any]) -> GroupState:
        return evolve_all(self.state, decision.facts)

    def next_step(self) -> Any:
        step = next_step(self.state, self.now, joins_waiting=False)
        return None if isinstance(step, Finished) else step


def plan(on: date = date(2027, 2, 10), start: str = "09:30", **more: Any) -> ScheduleMeetingRequest:
    return ScheduleMeetingRequest(plan={"on": on.isoformat(), "start": start, **more}, actor=FACILITATOR)


def move(cycle_id: str, **more: Any) -> MoveMemberRequest:
    return MoveMemberRequest(move={"cycle_id": cycle_id, **more}, actor=FACILITATOR)


def findings(cycle_id: str, data: dict[str, Any] | None = None) -> GroupFindingsRequest:
    return GroupFindingsRequest(cycle_id=cycle_id, data=data or factories.review_findings(), actor=FACILITATOR)


def types(group: Group) -> list[str]:
    return [e.type for e in group.events]


# ----- forming ------------------------------------------------------------------------------------------------


def test_members_at_launch_join_in_roster_order() -> None:
    group = Group.formed()
    assert [m.cycle_id for m in group.state.members] == IDS
    assert types(group) == ["PeerGroupJoined"] * 4
    assert [r.causation for r in group.records] == [f"join:{i}" for i in IDS]


def test_a_member_joining_twice_joins_once() -> None:
    group = Group.formed()
    assert group.decide(Join(member(IDS[0]))).steps == ()


def test_readiness_is_recorded_once_per_member() -> None:
    group = Group.formed(ready=1)
    assert group.decide(MemberReady(cycle_id=IDS[0], on=date(2027, 1, 12))).steps == ()
    assert group.decide(MemberReady(cycle_id="999999-test-2027", on=date(2027, 1, 12))).steps == ()
    assert group.state.ready == {IDS[0]: date(2027, 1, 11)}


def test_the_facilitator_is_told_once_when_every_member_is_ready() -> None:
    group = Group.formed(ready=4)
    assert next_step(group.state, group.now, joins_waiting=False) == PromptReady()
    group.run_until(group.now)
    kinds = [e.kind for e in group.events if e.type == "PromptIssued"]
    assert kinds == ["peer_group_ready"] and group.state.ready_prompted
    assert isinstance(next_step(group.state, group.now, joins_waiting=False), Wait)


def test_the_cut_off_prompts_the_facilitator_when_members_are_not_ready() -> None:
    group = Group.formed(ready=3)
    assert cut_off_at(SPEC) == at_london(date(2027, 2, 9), time(9))
    step = next_step(group.state, group.now, joins_waiting=False)
    assert isinstance(step, Wait) and step.until == cut_off_at(SPEC)
    group.on(date(2027, 2, 9))
    prompts = [e for e in group.events if e.type == "PromptIssued"]
    assert [(p.kind, p.recipient_email) for p in prompts] == [("peer_cut_off_passed", FACILITATOR)]
    assert next_step(group.state, group.now, joins_waiting=False) == Wait(None, group.state.revision)


def test_the_cut_off_passes_quietly_when_everyone_is_ready() -> None:
    group = Group.formed(ready=4).on(date(2027, 2, 9))
    assert group.decide(NoteCutOff()).steps == ()
    assert group.state.cut_off_prompted


def test_a_member_who_leaves_is_gone_and_named_as_departed() -> None:
    group = Group.formed(ready=2)
    group.apply(MemberLeft(cycle_id=IDS[1], reason="withdrawn: merging"))
    assert IDS[1] not in [m.cycle_id for m in group.state.members] and IDS[1] not in group.state.ready
    assert group.state.departed == {IDS[1]: "withdrawn: merging"}
    assert group.decide(MemberLeft(cycle_id=IDS[1], reason="again")).steps == ()


def test_a_group_everyone_left_closes() -> None:
    group = Group.formed()
    for cycle_id in IDS:
        group.apply(MemberLeft(cycle_id=cycle_id, reason="lapsed"))
    assert next_step(group.state, group.now, joins_waiting=True) == Wait(cut_off_at(SPEC), group.state.revision)
    assert next_step(group.state, group.now, joins_waiting=False) == Close()
    group.apply(Close())
    assert group.state.phase is GroupPhase.CLOSED
    assert next_step(group.state, group.now, joins_waiting=False) == Finished()


# ----- the meeting ------------------------------------------------------------------------------------------


def test_the_meeting_waits_for_every_member_before_the_cut_off() -> None:
    group = Group.formed(ready=3)
    with pytest.raises(Refusal, match=r"not ready yet.*cut-off on 2027-02-08"):
        group.decide(plan())


def test_after_the_cut_off_the_members_not_ready_must_be_moved_first() -> None:
    group = Group.formed(ready=3).on(date(2027, 2, 9))
    with pytest.raises(Refusal, match=f"cut-off has passed and {IDS[3]} not ready"):
        group.decide(plan())


@pytest.mark.parametrize(
    ("request_", "rule"),
    [
        (plan(on=date(2027, 1, 11)), "on: 2027-01-11 is not after today"),
        (plan(on=date(2027, 2, 15)), "not a school day"),
        (plan(start="15:00"), "must fit between 08:00 and 17:00"),
        (plan(start="07:00"), "must fit between 08:00 and 17:00"),
        (plan(slot_minutes=30), "slot_minutes: must be at least 45"),
        (plan(slot_minutes=120), "slot_minutes: must be at most 90"),
        (plan(themes_in_scope=["nope"]), r"themes_in_scope\[0\]: 'nope' is not a theme"),
        (plan(colour="red"), "colour: is not a known field"),
    ],
)
def test_a_bad_meeting_plan_is_refused(request_: ScheduleMeetingRequest, rule: str) -> None:
    with pytest.raises(Refusal, match=rule):
        Group.formed(ready=4).decide(request_)


def test_scheduling_gives_each_member_a_slot_back_to_back_and_tells_each_cycle() -> None:
    group = Group.formed(ready=4)
    decision = group.apply(plan())
    scheduled = [e for e in group.events if e.type == "PeerMeetingScheduled"]
    assert [e.slot_starts.time() for e in scheduled] == [time(9, 30), time(10, 30), time(11, 30), time(12, 30)]
    assert {e.meeting_ends for e in scheduled} == {at_london(date(2027, 2, 10), time(13, 30))}
    assert [(s.name, s.workflow_id) for s in group.signals] == [("meeting_arranged", f"cycle-{i}") for i in IDS]
    invites = [e for e in group.events if e.type == "PromptIssued"]
    assert [(p.kind, p.recipient_email, p.stage) for p in invites] == [("meeting_invite", FACILITATOR, None)]
    assert decision.receipt is not None and "meets on 2027-02-10 from 09:30 to 13:30" in decision.receipt.message
    assert group.state.phase is GroupPhase.SCHEDULED
    with pytest.raises(Refusal, match="meeting: is already scheduled; a group meets once"):
        group.decide(plan())


def test_the_meeting_is_held_when_it_starts_and_findings_follow() -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    with pytest.raises(Refusal, match="findings: can be recorded once the group has met"):
        group.decide(findings(IDS[0]))
    step = next_step(group.state, group.now, joins_waiting=False)
    assert isinstance(step, Wait) and step.until == at_london(date(2027, 2, 10), time(9, 30))
    group.on(date(2027, 2, 10), time(9, 30))
    assert types(group)[-4:] == ["PeerMeetingHeld"] * 4 and group.state.phase is GroupPhase.MET
    receipt = group.apply(findings(IDS[0])).receipt
    assert receipt is not None and "still to record" in receipt.message
    assert group.signals[-1].name == "peer_findings" and group.signals[-1].workflow_id == f"cycle-{IDS[0]}"
    with pytest.raises(Refusal, match="were already recorded"):
        group.decide(findings(IDS[0]))


def test_findings_arriving_with_the_meeting_start_hold_the_meeting_first() -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    group.now = at_london(date(2027, 2, 10), time(9, 30))
    decision = group.decide(findings(IDS[0]))
    assert [r.causation for r in decision.steps if isinstance(r, Record)] == ["meeting", f"findings:{IDS[0]}"]


def test_the_group_closes_once_every_member_has_its_findings() -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    group.on(date(2027, 2, 10), time(14))
    for cycle_id in IDS:
        group.apply(findings(cycle_id))
    assert next_step(group.state, group.now, joins_waiting=False) == Close()
    assert group_view(group.state, group.now).members[0].findings_recorded


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ({"strengths": []}, "strengths: needs at least 1 item"),
        ({"agreed_levels": [{"indicator_id": "X", "level": 2, "rationale": "r"}]}, "is not an indicator of the model"),
        ({"themes_in_scope": ["nope"]}, "is not a theme of the model"),
    ],
)
def test_bad_findings_are_refused(data: dict[str, Any], rule: str) -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    group.on(date(2027, 2, 10), time(14))
    with pytest.raises(Refusal, match=rule):
        group.decide(findings(IDS[0], {**factories.review_findings(), **data}))


def test_findings_for_someone_not_in_the_group_are_refused() -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    group.on(date(2027, 2, 10), time(14))
    with pytest.raises(Refusal, match="is not a member of peer group g1"):
        group.decide(findings("123456-test-2027"))


# ----- moving members out -------------------------------------------------------------------------------------


def test_a_member_not_ready_moves_to_expert_review() -> None:
    group = Group.formed(ready=3).on(date(2027, 2, 9))
    decision = group.apply(move(IDS[3], to="expert_review"))
    assert decision.first == () and group.first == []
    moved = next(e for e in group.events if e.type == "PeerMemberMoved")
    assert (moved.to, moved.later_group, moved.reason) == ("expert_review", None, "not ready by the cut-off")
    assert group.state.departed[IDS[3]] == "moved to expert review: not ready by the cut-off"
    assert group.signals[-1].name == "left_group" and group.signals[-1].payload.to.value == "expert_review"
    group.apply(plan())
    assert group.state.phase is GroupPhase.SCHEDULED


def test_a_member_moved_to_a_later_group_joins_it_first() -> None:
    group = Group.formed(ready=3)
    decision = group.apply(move(IDS[3], to="later_group", later_group="g9", later_cut_off="2027-03-01"))
    (join,) = decision.first
    assert join.request.spec.group == "g9" and join.request.spec.cut_off == date(2027, 3, 1)
    assert join.request.joiner.member.cycle_id == IDS[3] and join.request.joiner.from_group == "g1"
    assert decision.receipt is not None and decision.receipt.message == f"{IDS[3]} moved to peer group g9"


def test_a_later_group_without_a_cut_off_gets_one_ten_school_days_on() -> None:
    group = Group.formed(ready=3)
    (join,) = group.decide(move(IDS[3], to="later_group", later_group="g9")).first
    assert join.request.spec.cut_off == factories.CALENDAR.add_school_days(date(2027, 1, 11), 10)


@pytest.mark.parametrize(
    ("more", "rule"),
    [
        ({"to": "expert_review", "cycle_id": IDS[0]}, "is ready; only members not ready can be moved out"),
        ({"to": "later_group"}, "later_group: name the later group"),
        ({"to": "later_group", "later_group": "g1"}, "later_group: 'g1' is this group"),
        ({"to": "expert_review", "later_group": "g2"}, "later_group: must be empty when moving to expert review"),
        ({"to": "later_group", "later_group": "g2", "later_cut_off": "2027-01-01"}, "later_cut_off"),
        ({"to": "expert_review", "reason": " "}, "reason: must not be empty"),
        ({"to": "moon"}, "to: "),
        ({"to": "expert_review", "cycle_id": "111111-x"}, "is not a member of peer group g1"),
    ],
)
def test_a_bad_move_is_refused(more: dict[str, Any], rule: str) -> None:
    group = Group.formed(ready=3)
    with pytest.raises(Refusal, match=rule):
        group.decide(move(**{"cycle_id": IDS[3], **more}))


def test_a_member_arriving_after_the_meeting_was_scheduled_is_sent_to_expert_review() -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    newcomer = member("300009-test-2027")
    group.apply(Join(newcomer, "g0"))
    assert newcomer not in group.state.members and newcomer.cycle_id not in group.state.departed
    assert group.records[-1].causation == f"bounce:{newcomer.cycle_id}"
    assert group.signals[-1].name == "left_group" and group.signals[-1].workflow_id == f"cycle-{newcomer.cycle_id}"


def test_a_member_moved_here_from_another_group_says_where_from() -> None:
    group = Group.formed()
    group.apply(Join(member("300009-test-2027"), "g0"))
    joined = group.events[-1]
    assert joined.type == "PeerGroupJoined" and joined.previous_group == "g0"


def test_the_view_shows_members_slots_and_departures() -> None:
    group = Group.formed(ready=3).on(date(2027, 2, 9))
    group.apply(move(IDS[3], to="expert_review"))
    group.apply(plan())
    view = group_view(group.state, group.now)
    assert [m.cycle_id for m in view.members] == IDS[:3]
    assert view.meeting_starts == at_london(date(2027, 2, 10), time(9, 30))
    assert view.members[2].slot_starts == at_london(date(2027, 2, 10), time(11, 30))
    assert set(view.departed) == {IDS[3]} and view.phase is GroupPhase.SCHEDULED


def test_a_meeting_that_has_begun_counts_as_met_for_findings() -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    group.now = at_london(date(2027, 2, 10), time(9, 31))
    assert next_step(group.state, group.now, joins_waiting=False) == HoldMeeting()
    assert group.decide(findings(IDS[1])).receipt is not None


def test_a_group_that_met_waits_for_findings_without_a_timer() -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    group.on(date(2027, 2, 10), time(14))
    step = next_step(group.state, group.now, joins_waiting=False)
    assert isinstance(step, Wait) and step.until is None
    assert step.interrupted_by(group.state) is False
    group.apply(findings(IDS[0]))
    assert step.interrupted_by(group.state)


def test_the_cut_off_moment_ignores_a_weekend() -> None:
    friday = SPEC.model_copy(update={"cut_off": date(2027, 2, 5)})
    assert cut_off_at(friday) == at_london(date(2027, 2, 8), time(9))
    assert cut_off_at(friday) - at_london(date(2027, 2, 5), time(9)) == timedelta(days=3)


def test_the_findings_are_kept_in_the_groups_stream_for_reading_back() -> None:
    group = Group.formed(ready=4)
    group.apply(plan())
    group.on(date(2027, 2, 10), time(14))
    group.apply(findings(IDS[2]))
    recorded = group.events[-1]
    assert recorded.type == "PeerFindingsRecorded" and recorded.findings is not None
    assert recorded.findings.strengths == factories.review_findings()["strengths"]
