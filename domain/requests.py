"""What people send to a running cycle, and what they get back: the boundary of every Update."""

from datetime import date, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.stages import Stage


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: str = Field(default="institution", description="Who acts: a role, or a person's address")


class SubmitRequest(_Request):
    """Raw submission data: the workflow's validator parses it, so every refusal names the field and the rule."""

    kind: str
    data: dict[str, Any]


class ExtendRequest(_Request):
    stage: str
    to: date
    reason: str = "extension agreed"


class WithdrawRequest(_Request):
    reason: str


class ContactsRequest(_Request):
    contacts: dict[str, Any]


class ReassignRequest(_Request):
    """Replace the facilitator or the review lead; prompts not yet issued go to the new person."""

    role: str
    email: str


class ReviewTeamRequest(_Request):
    """CEC assigns (or replaces) an expert review's team: a lead reviewer and members."""

    lead: str
    members: list[str] = Field(default_factory=list)


class ReviewDayRequest(_Request):
    """The review lead schedules (or moves) the expert review day."""

    on: date
    start: time = time(9, 30)


class ScheduleMeetingRequest(_Request):
    """Raw meeting plan (on, start, slot_minutes, themes_in_scope): the validator parses it."""

    plan: dict[str, Any]


class MoveMemberRequest(_Request):
    """Raw move (cycle_id, to, later_group, reason): the validator parses it."""

    move: dict[str, Any]


class GroupFindingsRequest(_Request):
    """The facilitator's findings for one member of the group, after the meeting."""

    cycle_id: str
    data: dict[str, Any]


class Receipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    cycle_id: str
    accepted: bool = True
    message: str
    stage: Stage | None = None
    next_stage: Stage | None = None
    on: date
