"""Everything a peer group knows, as one value, and how each fact changes it (`evolve`).

Facts are the events the group records and a few notes it keeps to itself (a member admitted,
with what the cycle told about it; the cut-off noted; the group closed).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from domain.events import (
    DomainEvent,
    PeerFindingsRecorded,
    PeerMeetingHeld,
    PeerMeetingScheduled,
    PeerMemberLeft,
    PeerMemberMoved,
    PeerMemberReady,
    PromptIssued,
)
from domain.meeting_slots import MemberSlot
from domain.peer_group_rules import GroupPhase
from domain.peer_group_spec import PeerGroupSpec, PeerMember
from domain.prompts import PromptKind


@dataclass(frozen=True)
class MemberAdmitted:
    member: PeerMember


@dataclass(frozen=True)
class CutOffNoted:
    pass


@dataclass(frozen=True)
class GroupClosed:
    pass


type GroupNote = MemberAdmitted | CutOffNoted | GroupClosed


@dataclass(frozen=True)
class GroupState:
    spec: PeerGroupSpec
    workflow_id: str
    members: tuple[PeerMember, ...] = ()
    ready: Mapping[str, date] = field(default_factory=dict)
    findings: frozenset[str] = frozenset()
    departed: Mapping[str, str] = field(default_factory=dict)
    slots: Mapping[str, MemberSlot] = field(default_factory=dict)
    phase: GroupPhase = GroupPhase.FORMING
    ready_prompted: bool = False
    cut_off_prompted: bool = False
    revision: int = 0  # moves with each of the facilitator's changes: a waiting group looks again

    def is_member(self, cycle_id: str) -> bool:
        return any(m.cycle_id == cycle_id for m in self.members)

    @property
    def all_ready(self) -> bool:
        return all(m.cycle_id in self.ready for m in self.members)

    @property
    def meeting_starts(self) -> datetime | None:
        return min((s.meeting_starts for s in self.slots.values()), default=None)

    def meeting_begun(self, now: datetime) -> bool:
        starts = self.meeting_starts
        return starts is not None and now >= starts


def evolve(state: GroupState, fact: DomainEvent | GroupNote) -> GroupState:
    match fact:
        case MemberAdmitted(member=member):
            departed = {k: v for k, v in state.departed.items() if k != member.cycle_id}
            return replace(state, members=(*state.members, member), departed=departed)
        case PeerMemberReady(cycle_id=cycle_id, self_evaluation_accepted_on=on):
            return replace(state, ready={**state.ready, cycle_id: on})
        case PeerMemberLeft(cycle_id=cycle_id, reason=reason):
            return _removed(state, cycle_id, reason)
        case PeerMemberMoved(cycle_id=cycle_id, later_group=later, reason=reason) if state.is_member(cycle_id):
            return _removed(state, cycle_id, f"moved to {later or 'expert review'}: {reason}")
        case PeerMeetingScheduled():
            slot = MemberSlot(
                cycle_id=fact.cycle_id,
                group=fact.group,
                meeting_starts=fact.meeting_starts,
                meeting_ends=fact.meeting_ends,
                slot_starts=fact.slot_starts,
                slot_ends=fact.slot_ends,
                themes_in_scope=fact.themes_in_scope,
                facilitator_email=str(state.spec.facilitator_email),
            )
            slots = {**state.slots, slot.cycle_id: slot}
            return replace(state, slots=slots, phase=GroupPhase.SCHEDULED, revision=state.revision + 1)
        case PeerMeetingHeld():
            return replace(state, phase=GroupPhase.MET)
        case PeerFindingsRecorded(cycle_id=cycle_id):
            return replace(state, findings=state.findings | {cycle_id}, revision=state.revision + 1)
        case PromptIssued(kind=PromptKind.PEER_GROUP_READY):
            return replace(state, ready_prompted=True)
        case CutOffNoted():
            return replace(state, cut_off_prompted=True)
        case GroupClosed():
            return replace(state, phase=GroupPhase.CLOSED)
    return state


def evolve_all(state: GroupState, facts: Iterable[DomainEvent | GroupNote]) -> GroupState:
    for fact in facts:
        state = evolve(state, fact)
    return state


def _removed(state: GroupState, cycle_id: str, why: str) -> GroupState:
    return replace(
        state,
        members=tuple(m for m in state.members if m.cycle_id != cycle_id),
        ready={k: v for k, v in state.ready.items() if k != cycle_id},
        slots={k: v for k, v in state.slots.items() if k != cycle_id},
        departed={**state.departed, cycle_id: why},
        revision=state.revision + 1,
    )


def initial_state(spec: PeerGroupSpec, workflow_id: str) -> GroupState:
    return GroupState(spec=spec, workflow_id=workflow_id)
