"""A peer group as its facilitator sees it: members, who is ready, the meeting and slots, departures."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.london_time import london_date
from domain.peer_group_rules import GroupPhase
from domain.peer_group_state import GroupState


class MemberView(BaseModel):
    model_config = ConfigDict(frozen=True)

    cycle_id: str
    name: str
    ready_on: date | None
    slot_starts: datetime | None
    findings_recorded: bool


class PeerGroupView(BaseModel):
    model_config = ConfigDict(frozen=True)

    cohort: str
    group: str
    facilitator_email: str
    phase: GroupPhase
    cut_off: date
    today: date
    meeting_starts: datetime | None
    meeting_ends: datetime | None
    themes_in_scope: list[str]
    members: list[MemberView]
    departed: dict[str, str] = Field(description="Members who left or were moved out, and why")


def group_view(state: GroupState, now: datetime) -> PeerGroupView:
    spec = state.spec
    any_slot = next(iter(state.slots.values()), None)
    return PeerGroupView(
        cohort=spec.cohort,
        group=spec.group,
        facilitator_email=str(spec.facilitator_email),
        phase=GroupPhase.MET if state.phase is GroupPhase.SCHEDULED and state.meeting_begun(now) else state.phase,
        cut_off=spec.cut_off,
        today=london_date(now),
        meeting_starts=any_slot.meeting_starts if any_slot else None,
        meeting_ends=any_slot.meeting_ends if any_slot else None,
        themes_in_scope=any_slot.themes_in_scope if any_slot else [],
        members=[
            MemberView(
                cycle_id=m.cycle_id,
                name=m.name,
                ready_on=state.ready.get(m.cycle_id),
                slot_starts=state.slots[m.cycle_id].slot_starts if m.cycle_id in state.slots else None,
                findings_recorded=m.cycle_id in state.findings,
            )
            for m in state.members
        ],
        departed=dict(state.departed),
    )
