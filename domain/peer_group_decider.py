"""The peer group's decisions: `decide(state, command, now)` and `next_step(state, now, ...)`, as for the cycle.

Commands are what member cycles tell the group (joining, ready, leaving), the facilitator's
requests (schedule the meeting, move a member, record findings) and the group's own steps
(tell the facilitator everyone is ready, note the cut-off, hold the meeting).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.cycle_spec import cycle_workflow_id
from domain.decisions import Decision, Record, Signal
from domain.events import (
    PeerFindingsRecorded,
    PeerGroupFormed,
    PeerGroupJoined,
    PeerMeetingHeld,
    PeerMeetingScheduled,
    PeerMemberLeft,
    PeerMemberMoved,
    PeerMemberReady,
    PromptIssued,
)
from domain.london_time import at_london, london_date
from domain.meeting_slots import meeting_slots
from domain.peer_group_messages import GroupExit, Joiner, JoinRequest, MemberLeft, MemberReady, PeerFindings
from domain.peer_group_rules import Destination, GroupFacts, GroupPhase, check_findings, check_meeting, check_move
from domain.peer_group_spec import PeerGroupSpec, PeerGroupTerms, PeerMember
from domain.peer_group_state import CutOffNoted, GroupClosed, GroupNote, GroupState, MemberAdmitted
from domain.prompts import PromptKind, prompt_events
from domain.recipients import Directory
from domain.requests import GroupFindingsRequest, MoveMemberRequest, Receipt, ScheduleMeetingRequest
from domain.schedule import working_moment
from domain.stages import ReviewType

# Signal names the member cycles listen on (strings, so neither workflow imports the other).
MEETING_ARRANGED = "meeting_arranged"
PEER_FINDINGS = "peer_findings"
LEFT_GROUP = "left_group"


# ----- the group's own steps, and what it does between them ---------------------------------------------


@dataclass(frozen=True)
class FormGroup:
    """The group's first fact: the cohort and Careers Hub it belongs to, which decide who may open it."""


@dataclass(frozen=True)
class Join:
    member: PeerMember
    from_group: str | None = None


@dataclass(frozen=True)
class PromptReady:
    pass


@dataclass(frozen=True)
class NoteCutOff:
    pass


@dataclass(frozen=True)
class HoldMeeting:
    pass


@dataclass(frozen=True)
class Close:
    pass


@dataclass(frozen=True)
class Wait:
    """Sleep until a moment (or until told something), unless the facilitator changes something first."""

    until: datetime | None
    revision: int

    def interrupted_by(self, state: GroupState) -> bool:
        return state.revision != self.revision


@dataclass(frozen=True)
class Finished:
    pass


@dataclass(frozen=True)
class JoinLaterGroup:
    """Add a member to a later group, starting it if need be; the move goes ahead only if that succeeds."""

    request: JoinRequest


type GroupDecision = Decision[GroupNote, JoinLaterGroup]
type GroupStep = FormGroup | PromptReady | NoteCutOff | HoldMeeting | Close
type GroupCommand = (
    Join | MemberReady | MemberLeft | GroupStep | ScheduleMeetingRequest | MoveMemberRequest | GroupFindingsRequest
)


def cut_off_at(spec: PeerGroupSpec) -> datetime:
    """The day after the cut-off, first thing: members still not ready may then be moved out."""
    return at_london(spec.calendar.next_school_day(spec.cut_off + timedelta(days=1)), spec.policy.prompt_time)


def next_step(state: GroupState, now: datetime, joins_waiting: bool) -> GroupStep | Wait | Finished:
    """The group is done when every member has its findings, or has left; a forming group with no members
    left waits for members still on their way."""
    if state.phase is GroupPhase.CLOSED:
        return Finished()
    if not state.members:
        if not joins_waiting:
            return Close()
    elif state.phase is GroupPhase.MET and all(m.cycle_id in state.findings for m in state.members):
        return Close()
    if state.phase is GroupPhase.FORMING:
        if not state.ready_prompted and state.members and state.all_ready:
            return PromptReady()
        cut_off = cut_off_at(state.spec)
        if now >= cut_off and not state.cut_off_prompted:
            return NoteCutOff()
        return Wait(cut_off if now < cut_off else None, state.revision)
    if state.phase is GroupPhase.SCHEDULED:
        if state.meeting_begun(now):
            return HoldMeeting()
        return Wait(state.meeting_starts, state.revision)
    return Wait(None, state.revision)


def facts(state: GroupState, now: datetime) -> GroupFacts:
    spec = state.spec
    phase = GroupPhase.MET if state.phase is GroupPhase.SCHEDULED and state.meeting_begun(now) else state.phase
    return GroupFacts(
        group=spec.group,
        phase=phase,
        members=list(state.members),
        ready=frozenset(state.ready),
        findings=frozenset(state.findings),
        cut_off=spec.cut_off,
        today=london_date(now),
        school_calendar=spec.calendar,
        policy=spec.policy,
        models=spec.models,
    )


def group_formed(terms: PeerGroupTerms, now: datetime) -> PeerGroupFormed:
    """The group's first fact: the cohort and Careers Hub that decide who may open it."""
    return PeerGroupFormed(
        cycle_id=terms.workflow_id,
        at=now,
        cohort=terms.cohort,
        group=terms.group,
        facilitator_email=str(terms.facilitator_email),
        careers_hub=terms.careers_hub,
    )


def decide(state: GroupState, command: GroupCommand, now: datetime) -> GroupDecision:
    match command:
        case FormGroup():
            return Decision(steps=(Record((group_formed(state.spec, now),), causation="formed"),))
        case Join():
            return _join(state, command, now)
        case MemberReady(cycle_id=cycle_id, on=on):
            if cycle_id in state.ready or not state.is_member(cycle_id):
                return Decision()
            ready = PeerMemberReady(cycle_id=cycle_id, at=now, group=state.spec.group, self_evaluation_accepted_on=on)
            return Decision(steps=(Record((ready,), causation=f"ready:{cycle_id}"),))
        case MemberLeft(cycle_id=cycle_id, reason=reason):
            if not state.is_member(cycle_id) or cycle_id in state.findings:
                return Decision()
            left = PeerMemberLeft(cycle_id=cycle_id, at=now, group=state.spec.group, reason=reason)
            return Decision(steps=(Record((left,), causation=f"left:{cycle_id}"),))
        case PromptReady():
            return Decision(steps=(Record(_prompts(state, now, PromptKind.PEER_GROUP_READY, "ready"), "ready"),))
        case NoteCutOff():
            if state.all_ready:
                return Decision(notes=(CutOffNoted(),))
            prompts = _prompts(state, now, PromptKind.PEER_CUT_OFF_PASSED, "cut-off")
            return Decision(steps=(Record(prompts, "cut-off"),), notes=(CutOffNoted(),))
        case HoldMeeting():
            return Decision(steps=(_meeting_held(state, now),))
        case Close():
            return Decision(notes=(GroupClosed(),))
        case ScheduleMeetingRequest():
            return _schedule_meeting(state, command, now)
        case MoveMemberRequest():
            return _move_member(state, command, now)
        case GroupFindingsRequest():
            return _record_findings(state, command, now)
    raise TypeError(f"not a peer group command: {command!r}")


def _join(state: GroupState, join: Join, now: datetime) -> GroupDecision:
    member, group = join.member, state.spec.group
    if state.is_member(member.cycle_id):
        return Decision()
    if state.phase is not GroupPhase.FORMING:
        # Too late to be reviewed here: send the member on to expert review rather than leave it stranded.
        reason = f"peer group {group} had already scheduled its meeting"
        moved = PeerMemberMoved(
            cycle_id=member.cycle_id,
            at=now,
            group=group,
            to=Destination.EXPERT_REVIEW.value,
            later_group=None,
            reason=reason,
            actor="system",
        )
        exit_ = GroupExit(group=group, to=Destination.EXPERT_REVIEW, later_group=None, reason=reason, actor="system")
        return Decision(
            steps=(
                Record((moved,), causation=f"bounce:{member.cycle_id}"),
                Signal(cycle_workflow_id(member.cycle_id), LEFT_GROUP, exit_),
            )
        )
    joined = PeerGroupJoined(
        cycle_id=member.cycle_id,
        at=now,
        group=group,
        facilitator_email=str(state.spec.facilitator_email),
        previous_group=join.from_group,
    )
    return Decision(steps=(Record((joined,), causation=f"join:{member.cycle_id}"),), notes=(MemberAdmitted(member),))


def _schedule_meeting(state: GroupState, request: ScheduleMeetingRequest, now: datetime) -> GroupDecision:
    plan = check_meeting(facts(state, now), request.plan)
    spec = state.spec
    slots = meeting_slots(plan, list(state.members), spec.group, str(spec.facilitator_email))
    scheduled = tuple(
        PeerMeetingScheduled(
            cycle_id=s.cycle_id,
            at=now,
            group=spec.group,
            meeting_starts=s.meeting_starts,
            meeting_ends=s.meeting_ends,
            slot_starts=s.slot_starts,
            slot_ends=s.slot_ends,
            themes_in_scope=s.themes_in_scope,
            actor=request.actor,
        )
        for s in slots
    )
    # One invitation for the facilitator, who attends every member's part (the members' own come from them).
    invite = _prompts(state, now, PromptKind.MEETING_INVITE, f"meeting:{slots[0].meeting_starts.isoformat()}")
    tell = tuple(Signal(cycle_workflow_id(s.cycle_id), MEETING_ARRANGED, s) for s in slots)
    first = slots[0]
    receipt = Receipt(
        cycle_id=spec.workflow_id,
        message=f"peer group {spec.group} meets on {plan.on.isoformat()} from "
        f"{first.meeting_starts.strftime('%H:%M')} to {first.meeting_ends.strftime('%H:%M')}; "
        f"{len(slots)} members have their slot and invitation",
        on=london_date(now),
    )
    record = Record((*scheduled, *invite), causation="schedule", actor=request.actor)
    return Decision(steps=(record, *tell), receipt=receipt)


def _move_member(state: GroupState, request: MoveMemberRequest, now: datetime) -> GroupDecision:
    move = check_move(facts(state, now), request.move)
    spec = state.spec
    member = next(m for m in state.members if m.cycle_id == move.cycle_id)
    first: tuple[JoinLaterGroup, ...] = ()
    if move.to is Destination.LATER_GROUP and move.later_group is not None:
        # Joined first: should the later group refuse, nothing here has changed.
        cut_off = move.later_cut_off or spec.calendar.add_school_days(london_date(now), 10)
        later = spec.model_copy(update={"group": move.later_group, "members": [], "cut_off": cut_off})
        first = (JoinLaterGroup(JoinRequest(spec=later, joiner=Joiner(member=member, from_group=spec.group))),)
    moved = PeerMemberMoved(
        cycle_id=move.cycle_id,
        at=now,
        group=spec.group,
        to=move.to.value,
        later_group=move.later_group,
        reason=move.reason,
        actor=request.actor,
    )
    exit_ = GroupExit(
        group=spec.group, to=move.to, later_group=move.later_group, reason=move.reason, actor=request.actor
    )
    where = f"peer group {move.later_group}" if move.later_group else "expert review"
    return Decision(
        first=first,
        steps=(
            Record((moved,), causation=f"move:{move.cycle_id}", actor=request.actor),
            Signal(cycle_workflow_id(move.cycle_id), LEFT_GROUP, exit_),
        ),
        receipt=Receipt(cycle_id=spec.workflow_id, message=f"{move.cycle_id} moved to {where}", on=london_date(now)),
    )


def _record_findings(state: GroupState, request: GroupFindingsRequest, now: datetime) -> GroupDecision:
    findings = check_findings(facts(state, now), request.cycle_id, request.data)
    group = state.spec.group
    steps: list[Record | Signal | JoinLaterGroup] = []
    if state.phase is GroupPhase.SCHEDULED:
        # The meeting's start and this update arrived together: updates are handled before timers.
        steps.append(_meeting_held(state, now))
    recorded = PeerFindingsRecorded(
        cycle_id=request.cycle_id, at=now, group=group, actor=request.actor, findings=findings
    )
    steps.append(Record((recorded,), causation=f"findings:{request.cycle_id}", actor=request.actor))
    handed = PeerFindings(group=group, findings=findings, actor=request.actor)
    steps.append(Signal(cycle_workflow_id(request.cycle_id), PEER_FINDINGS, handed))
    done = state.findings | {request.cycle_id}
    left = [m.cycle_id for m in state.members if m.cycle_id not in done]
    rest = f"; still to record: {', '.join(left)}" if left else "; every member has its findings"
    receipt = Receipt(
        cycle_id=state.spec.workflow_id,
        message=f"findings for {request.cycle_id} handed to its cycle{rest}",
        on=london_date(now),
    )
    return Decision(steps=tuple(steps), receipt=receipt)


def _meeting_held(state: GroupState, now: datetime) -> Record:
    held = tuple(PeerMeetingHeld(cycle_id=m.cycle_id, at=now, group=state.spec.group) for m in state.members)
    return Record(held, causation="meeting")


def _prompts(state: GroupState, now: datetime, kind: PromptKind, key: str) -> tuple[PromptIssued, ...]:
    spec = state.spec
    return tuple(
        prompt_events(
            workflow_id=state.workflow_id,
            cycle_id=spec.workflow_id,
            at=now,
            kind=kind,
            stage=None,
            review_type=ReviewType.PEER,
            directory=Directory(facilitator_email=spec.facilitator_email, cec_email=spec.cec_email),
            scheduled_for=working_moment(now, spec.policy, spec.calendar),
            due=None,
            key=key,
        )
    )
