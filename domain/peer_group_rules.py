"""The rules a facilitator's action on a peer group must obey.

The group meets once, when every member's self-evaluation is accepted or, failing that,
once the cut-off has passed and the facilitator has moved the members who are not ready
to a later group or to an expert review. Each member gets about an hour of the meeting.
"""

from datetime import date, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.boundary_types import MAX_EXTENSION_WEEKS, MAX_THEMES, CycleId, Day, RawLine, ShortText, Slug
from domain.cycle_rules import check_review_findings
from domain.maturity_model import MaturityModel
from domain.peer_group_spec import PeerMember
from domain.refusals import Refusal, parse_as
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import ModelVariant
from domain.submissions import ReviewFindings, without_notes

SLOT_MINUTES_MIN = 45
SLOT_MINUTES_MAX = 90


class Destination(StrEnum):
    LATER_GROUP = "later_group"
    EXPERT_REVIEW = "expert_review"


class MeetingPlan(BaseModel):
    """What the facilitator sends to schedule the meeting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    on: Day
    start: time
    slot_minutes: int = Field(default=60, ge=SLOT_MINUTES_MIN, le=SLOT_MINUTES_MAX)
    themes_in_scope: list[ShortText] = Field(
        default_factory=list, max_length=MAX_THEMES, description="Empty means every theme"
    )


class MemberMove(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle_id: CycleId
    to: Destination
    later_group: Slug | None = None
    later_cut_off: Day | None = Field(default=None, description="The later group's cut-off, if it is new")
    reason: RawLine = "not ready by the cut-off"


class GroupPhase(StrEnum):
    FORMING = "forming"  # waiting for members' self-evaluations
    SCHEDULED = "scheduled"
    MET = "met"  # the meeting has started: findings may be recorded
    CLOSED = "closed"


class GroupFacts(BaseModel):
    """What the rules need to know about a group at the moment of a request."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    group: str
    phase: GroupPhase
    members: list[PeerMember]
    ready: frozenset[str]
    findings: frozenset[str]
    cut_off: date
    today: date
    school_calendar: SchoolCalendar
    policy: SchedulePolicy
    models: dict[ModelVariant, MaturityModel]

    @property
    def member_ids(self) -> list[str]:
        return [m.cycle_id for m in self.members]

    @property
    def not_ready(self) -> list[str]:
        return [m.cycle_id for m in self.members if m.cycle_id not in self.ready]

    def member(self, cycle_id: str) -> PeerMember:
        for m in self.members:
            if m.cycle_id == cycle_id:
                return m
        known = ", ".join(self.member_ids) or "none"
        raise Refusal.one("cycle_id", f"{cycle_id!r} is not a member of peer group {self.group} (members: {known})")


def check_meeting(facts: GroupFacts, raw: Any) -> MeetingPlan:
    plan = parse_as(MeetingPlan, raw)
    if facts.phase is not GroupPhase.FORMING:
        raise Refusal.one("meeting", f"is already {facts.phase}; a group meets once")
    if not facts.members:
        raise Refusal.one("members", "the group has no members left to meet")
    waiting = facts.not_ready
    if waiting:
        if facts.today <= facts.cut_off:
            raise Refusal.one(
                "meeting",
                f"{', '.join(waiting)} not ready yet; the meeting can be scheduled when every member's "
                f"self-evaluation is accepted, or after the cut-off on {facts.cut_off.isoformat()}",
            )
        raise Refusal.one(
            "meeting",
            f"the cut-off has passed and {', '.join(waiting)} not ready: move them to a later group "
            "or to expert review first",
        )
    problems: list[tuple[str, str]] = []
    latest = facts.today + timedelta(weeks=MAX_EXTENSION_WEEKS)
    if plan.on <= facts.today:
        problems.append(("on", f"{plan.on.isoformat()} is not after today ({facts.today.isoformat()})"))
    elif plan.on > latest:
        problems.append(("on", f"{plan.on.isoformat()} is too far ahead; meet by {latest.isoformat()}"))
    elif not facts.school_calendar.is_school_day(plan.on):
        why = facts.school_calendar.closure_on(plan.on) or "a weekend"
        problems.append(("on", f"{plan.on.isoformat()} is not a school day ({why})"))
    first, last = facts.policy.working_hours
    ends = plus_minutes(plan.start, plan.slot_minutes * len(facts.members))
    if plan.start < first or ends is None or ends > last:
        problems.append(
            (
                "start",
                f"{len(facts.members)} slots of {plan.slot_minutes} minutes from {plan.start.isoformat('minutes')} "
                f"must fit between {first.isoformat('minutes')} and {last.isoformat('minutes')}",
            )
        )
    themes = set().union(*({t.id for t in model.themes} for model in facts.models.values()))
    problems += [
        (f"themes_in_scope[{i}]", f"{t!r} is not a theme of the model")
        for i, t in enumerate(plan.themes_in_scope)
        if t not in themes
    ]
    if problems:
        raise Refusal(problems)
    return plan


def check_move(facts: GroupFacts, raw: Any) -> MemberMove:
    move = parse_as(MemberMove, raw)
    facts.member(move.cycle_id)
    if move.cycle_id in facts.ready:
        raise Refusal.one("cycle_id", f"{move.cycle_id} is ready; only members not ready can be moved out")
    if move.to is Destination.LATER_GROUP:
        if not move.later_group:
            raise Refusal.one("later_group", "name the later group to move the member to")
        if move.later_group == facts.group:
            raise Refusal.one("later_group", f"{move.later_group!r} is this group; name a later one")
        if move.later_cut_off is not None and move.later_cut_off <= facts.today:
            raise Refusal.one("later_cut_off", f"{move.later_cut_off.isoformat()} is not after today")
        latest = facts.today + timedelta(weeks=MAX_EXTENSION_WEEKS)
        if move.later_cut_off is not None and move.later_cut_off > latest:
            raise Refusal.one("later_cut_off", f"{move.later_cut_off.isoformat()} is too far ahead; by {latest}")
    elif move.later_group:
        raise Refusal.one("later_group", "must be empty when moving to expert review")
    if not move.reason.strip():
        raise Refusal.one("reason", "must not be empty")
    return move


def check_findings(facts: GroupFacts, cycle_id: str, data: Any) -> ReviewFindings:
    member = facts.member(cycle_id)
    if facts.phase in (GroupPhase.FORMING, GroupPhase.SCHEDULED):
        raise Refusal.one("findings", "can be recorded once the group has met")
    if cycle_id in facts.findings:
        raise Refusal.one("findings", f"for {cycle_id} were already recorded")
    if cycle_id not in facts.ready:
        raise Refusal.one("cycle_id", f"{cycle_id} had no accepted self-evaluation and was not reviewed")
    findings = parse_as(ReviewFindings, without_notes(data))
    check_review_findings(findings, facts.models[member.model_variant])
    return findings


def plus_minutes(start: time, minutes: int) -> time | None:
    total = start.hour * 60 + start.minute + minutes
    return None if total > 24 * 60 - 1 else time(total // 60, total % 60)
