"""A peer group as its facilitator sees it: members, who is ready, the meeting and slots, departures."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.peer_group_rules import GroupPhase


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
