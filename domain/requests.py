"""What people send to a running cycle, and what they get back: the boundary of every Update."""

from datetime import date, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.boundary_types import MAX_ACTIONS, Actor, CycleId, Day, JsonObject, RawLine, ShortText
from domain.content_ref import ContentRef
from domain.stages import Stage
from domain.submissions import ActionNote, AttendeeRole

# Rules turn these down with their own words (an empty reason, an unknown role): the types only bound them.
_Raw = Annotated[str, StringConstraints(max_length=320)]
_Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)]


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: Actor = Field(default="institution", description="Who acts: a role, or a person's address")


class SubmitRequest(_Request):
    """Raw submission data: the workflow's validator parses it, so every refusal names the field and the rule."""

    kind: ShortText
    data: JsonObject


class ExtendRequest(_Request):
    stage: _Raw
    to: Day
    reason: RawLine = "extension agreed"


class WithdrawRequest(_Request):
    reason: RawLine


class ContactsRequest(_Request):
    contacts: JsonObject


class ReassignRequest(_Request):
    """Replace the facilitator or the review lead; prompts not yet issued go to the new person."""

    role: _Raw
    email: _Email


class ReviewTeamRequest(_Request):
    """CEC assigns (or replaces) an expert review's team: a lead reviewer and members."""

    lead: _Email
    members: list[_Email] = Field(default_factory=list, max_length=20)


class ReviewDayRequest(_Request):
    """The review lead schedules (or moves) the expert review day."""

    on: Day
    start: time = time(9, 30)


class AttendanceRequest(_Request):
    """Who from the school will attend the review day or its slot in the peer meeting, by role: a review with no
    senior leader expected is flagged to the facilitator before the day."""

    roles: list[AttendeeRole] = Field(default_factory=list, max_length=len(AttendeeRole))


class CalendarCorrectionRequest(_Request):
    """Move a running cycle onto a corrected version of its school calendar (registered first: `cis calendar
    register`); the API and the CLI look the reference up in the content registry by `id@version`."""

    calendar: ContentRef


class FollowUpMeetingRequest(_Request):
    """The facilitator or review lead schedules (or moves) the follow-up meeting; no day means the policy's."""

    on: Day | None = None
    start: time = time(15, 30)
    minutes: int = Field(default=60, ge=15, le=240)


class FollowUpNotesRequest(_Request):
    """What the follow-up meeting said about each action of the plan."""

    notes: list[ActionNote] = Field(max_length=MAX_ACTIONS)


class ScheduleMeetingRequest(_Request):
    """Raw meeting plan (on, start, slot_minutes, themes_in_scope): the validator parses it."""

    plan: JsonObject


class MoveMemberRequest(_Request):
    """Raw move (cycle_id, to, later_group, reason): the validator parses it."""

    move: JsonObject


class GroupFindingsRequest(_Request):
    """The facilitator's findings for one member of the group, after the meeting."""

    cycle_id: CycleId
    data: JsonObject


class Receipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    cycle_id: str
    accepted: bool = True
    message: str
    stage: Stage | None = None
    next_stage: Stage | None = None
    on: date
