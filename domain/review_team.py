"""An expert review's team: CEC assigns a lead reviewer and members; the lead schedules the review day.

The review findings can be recorded from the review day on, and only by the lead, who also
publishes the report: the report stage waits on the lead.
"""

from datetime import date, time

from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, ValidationError

from domain.cycle_rules import CycleFacts, same_person
from domain.london_time import at_london
from domain.refusals import Refusal
from domain.stages import CycleStatus, ReviewType, Stage

REVIEW_TEAM_MAX_MEMBERS = 5
_EMAIL: TypeAdapter[EmailStr] = TypeAdapter(EmailStr)


class ReviewTeam(BaseModel):
    model_config = ConfigDict(frozen=True)

    lead_email: str
    member_emails: list[str] = Field(default_factory=list)


class ReviewDay(BaseModel):
    model_config = ConfigDict(frozen=True)

    on: date
    start: time


def _address(field: str, raw: str) -> str:
    try:
        return str(_EMAIL.validate_python(raw.strip()))
    except ValidationError:
        raise Refusal.one(field, f"{raw!r} is not a valid email address") from None


def _require_expert_review_pending(facts: CycleFacts, what: str) -> None:
    if facts.status is not CycleStatus.ACTIVE:
        raise Refusal.one("cycle", f"is {facts.status}; nothing more can be changed")
    if facts.review_type is not ReviewType.EXPERT:
        raise Refusal.one(
            what, "only an expert review has a review team; a peer review is run by its group's facilitator"
        )
    if Stage.REVIEW in facts.accepted_on:
        raise Refusal.one(what, f"the review was recorded on {facts.accepted_on[Stage.REVIEW].isoformat()}; too late")


def check_review_team(facts: CycleFacts, lead: str, members: list[str]) -> ReviewTeam:
    _require_expert_review_pending(facts, "team")
    lead_email = _address("lead", lead)
    member_emails = [_address(f"members[{i}]", m) for i, m in enumerate(members)]
    problems: list[tuple[str, str]] = []
    seen = {lead_email.lower()}
    for i, email in enumerate(member_emails):
        if email.lower() in seen:
            problems.append((f"members[{i}]", f"{email} is already on the team"))
        seen.add(email.lower())
    if len(member_emails) > REVIEW_TEAM_MAX_MEMBERS:
        problems.append(("members", f"at most {REVIEW_TEAM_MAX_MEMBERS} besides the lead"))
    if problems:
        raise Refusal(problems)
    return ReviewTeam(lead_email=lead_email, member_emails=member_emails)


def check_review_day(facts: CycleFacts, actor: str, on: date, start: time) -> ReviewDay:
    _require_expert_review_pending(facts, "review_day")
    if facts.review_lead is None:
        raise Refusal.one("review_day", "no review team is assigned yet; CEC assigns one first (cis review team)")
    if not same_person(actor, facts.review_lead):
        raise Refusal.one("actor", f"only the review lead ({facts.review_lead}) schedules the review day")
    if facts.review_day is not None and facts.now is not None and facts.now >= facts.review_day:
        began = facts.review_day.date().isoformat()
        raise Refusal.one("review_day", f"the review day {began} has begun; too late to move it")
    problems: list[tuple[str, str]] = []
    calendar = facts.calendar
    if on < facts.today:
        problems.append(("on", f"{on.isoformat()} is in the past"))
    elif not calendar.is_school_day(on):
        problems.append(("on", f"{on.isoformat()} is not a school day ({calendar.closure_on(on) or 'a weekend'})"))
    elif on >= facts.schedule.closing_date:
        problems.append(("on", f"must be before the cycle closes on {facts.schedule.closing_date.isoformat()}"))
    first, last = facts.policy.working_hours
    if not first <= start < last:
        problems.append(
            (
                "start",
                f"{start.isoformat('minutes')} is outside {first.isoformat('minutes')} to {last.isoformat('minutes')}",
            )
        )
    if facts.now is not None and on == facts.today and at_london(on, start) <= facts.now:
        problems.append(("start", f"{start.isoformat('minutes')} today has already passed"))
    if problems:
        raise Refusal(problems)
    return ReviewDay(on=on, start=start)
