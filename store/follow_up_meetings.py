"""A cycle's follow-up meeting, read back from its follow-up's events, with the titles of the plan's actions."""

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.events import ActionPlanAgreed, parse_event
from domain.follow_up_meeting import MeetingRecord, meeting_record
from store.read_models import list_events

MEETING_EVENTS = ("ActionPlanAgreed", "FollowUpMeetingScheduled", "FollowUpMeetingHeld")


class FollowUpMeetingRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    meeting: MeetingRecord | None
    titles: dict[str, str]

    @property
    def note_lines(self) -> list[str]:
        return self.meeting.note_lines(self.titles) if self.meeting is not None else []


async def follow_up_meeting(pool: asyncpg.Pool, cycle_id: str) -> FollowUpMeetingRead:
    events = [parse_event(e.type, e.data) for e in await list_events(pool, cycle_id, types=MEETING_EVENTS)]
    titles: dict[str, str] = {}
    for event in events:
        if isinstance(event, ActionPlanAgreed):
            titles = {a.action_id: a.title for a in event.actions}
    return FollowUpMeetingRead(meeting=meeting_record(events), titles=titles)
