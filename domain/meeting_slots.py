"""The meeting's timetable: an equal slot per member, back to back, in the order they joined."""

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.london_time import at_london, later_by
from domain.peer_group_rules import MeetingPlan
from domain.peer_group_spec import PeerMember


class MemberSlot(BaseModel):
    """A member's part of the group meeting: the whole meeting, and the hour that is about them."""

    model_config = ConfigDict(frozen=True)

    cycle_id: str
    group: str
    meeting_starts: datetime
    meeting_ends: datetime
    slot_starts: datetime
    slot_ends: datetime
    themes_in_scope: list[str]
    facilitator_email: str


def meeting_slots(plan: MeetingPlan, members: list[PeerMember], group: str, facilitator_email: str) -> list[MemberSlot]:
    """Members in the order they joined, an equal slot each, back to back."""
    starts = at_london(plan.on, plan.start)
    length = timedelta(minutes=plan.slot_minutes)
    ends = later_by(starts, length * len(members))
    return [
        MemberSlot(
            cycle_id=m.cycle_id,
            group=group,
            meeting_starts=starts,
            meeting_ends=ends,
            slot_starts=later_by(starts, length * n),
            slot_ends=later_by(starts, length * (n + 1)),
            themes_in_scope=list(plan.themes_in_scope),
            facilitator_email=facilitator_email,
        )
        for n, m in enumerate(members)
    ]
