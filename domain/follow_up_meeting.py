"""A follow-up meeting on the action plan, some school weeks after the report.

Careers leaders feared losing momentum once the review was over: the facilitator (peer review) or
the review lead (expert review) schedules a meeting with them, by default a policy's number of school
weeks after the report. The school is asked to check in before it, so the meeting reviews each action
as it stands, and the meeting's short note on each action goes to the school's leaders, as the
report did. Pure rules and decisions, called by the follow-up workflow.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.cycle_rules import same_person
from domain.decisions import Decision, Record
from domain.events import DomainEvent, FollowUpMeetingHeld, FollowUpMeetingScheduled
from domain.london_time import at_london, london_date
from domain.prompts import PromptKind, prompt_events
from domain.recipients import Directory
from domain.refusals import Refusal
from domain.requests import FollowUpMeetingRequest, FollowUpNotesRequest, Receipt
from domain.schedule import SchedulePolicy, working_moment
from domain.school_calendar import SchoolCalendar
from domain.stages import ContactRole, ReviewType
from domain.submissions import ActionNote

SCHOOL_WEEK = 5  # school days


class FollowUpMeetingPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    after_school_weeks: int = Field(default=10, ge=1, le=40, description="The meeting's default day after the report")
    check_in_school_days_before: int = Field(
        default=5, ge=1, le=20, description="The check-in the meeting reviews is due this many school days before it"
    )
    notes_within_school_days: int = Field(
        default=10, ge=1, le=40, description="A follow-up at its last round waits this long after the meeting for notes"
    )


class FollowUpMeeting(BaseModel):
    """The meeting as the follow-up knows it; carried from run to run across continue-as-new."""

    model_config = ConfigDict(frozen=True)

    starts: datetime
    ends: datetime
    check_in_due: date
    scheduled_by: str
    sequence: int = Field(default=0, description="How often it moved: the calendar invitation's SEQUENCE")
    held: bool = False

    @property
    def day(self) -> date:
        return london_date(self.starts)


@dataclass(frozen=True)
class MeetingFacts:
    """What the rules need to know at the moment of a request."""

    workflow_id: str
    cycle_id: str
    review_type: ReviewType
    directory: Directory
    policy: FollowUpMeetingPolicy
    window_opens_days_before: int
    schedule_policy: SchedulePolicy
    calendar: SchoolCalendar
    report_on: date
    last_day: date = date.max  # the follow-up's last check-in: it ends then
    meeting: FollowUpMeeting | None = None
    action_ids: tuple[str, ...] = ()
    checked_in: bool = False  # this round's check-in is in
    stopped: str | None = None
    now: datetime = datetime.min


type MeetingDecision = Decision[FollowUpMeeting, None]


def organiser_role(review_type: ReviewType) -> ContactRole:
    return ContactRole.REVIEW_LEAD if review_type is ReviewType.EXPERT else ContactRole.FACILITATOR


def default_day(report_on: date, policy: FollowUpMeetingPolicy, calendar: SchoolCalendar) -> date:
    return calendar.add_school_days(report_on, policy.after_school_weeks * SCHOOL_WEEK)


def check_in_opens(meeting: FollowUpMeeting | None, window_opens_days_before: int) -> date | None:
    """A meeting not held yet opens the check-in it reviews early enough to be in by its due day."""
    if meeting is None or meeting.held:
        return None
    return meeting.check_in_due - timedelta(days=window_opens_days_before)


def _organiser(facts: MeetingFacts, actor: str, what: str) -> None:
    role = organiser_role(facts.review_type)
    email = facts.directory.address(role)
    if actor == "cec" or same_person(actor, email):
        return
    who = "review lead" if role is ContactRole.REVIEW_LEAD else "facilitator"
    raise Refusal.one("actor", f"only the {who} ({email or 'not named yet'}) {what}")


def _still_running(facts: MeetingFacts) -> None:
    if facts.stopped is not None:
        raise Refusal.one("cycle", f"follow-up has stopped ({facts.stopped})")


def check_meeting(facts: MeetingFacts, request: FollowUpMeetingRequest) -> FollowUpMeeting:
    """A school day after today and by the follow-up's last check-in, in working hours; movable until it begins."""
    _still_running(facts)
    _organiser(facts, request.actor, "schedules the follow-up meeting")
    current, today, calendar = facts.meeting, london_date(facts.now), facts.calendar
    if current is not None and current.held:
        raise Refusal.one("on", f"the follow-up meeting was held on {current.day.isoformat()}; its notes are recorded")
    if current is not None and facts.now >= current.starts:
        raise Refusal.one("on", f"the follow-up meeting began on {current.day.isoformat()}; record its notes instead")
    day = request.on or max(
        default_day(facts.report_on, facts.policy, calendar), calendar.next_school_day(today + timedelta(days=1))
    )
    problems: list[tuple[str, str]] = []
    if day <= today:
        problems.append(("on", f"{day.isoformat()} is not after today: the school needs time to check in first"))
    elif not calendar.is_school_day(day):
        problems.append(("on", f"{day.isoformat()} is not a school day ({calendar.closure_on(day) or 'a weekend'})"))
    elif day > facts.last_day:
        problems.append(("on", f"must be by {facts.last_day.isoformat()}, the follow-up's last check-in"))
    first, last = facts.schedule_policy.working_hours
    if not first <= request.start < last:
        span = f"{first.isoformat('minutes')} to {last.isoformat('minutes')}"
        problems.append(("start", f"{request.start.isoformat('minutes')} is outside {span}"))
    if problems:
        raise Refusal(problems)
    starts = at_london(day, request.start)
    before = calendar.add_school_days(day, -facts.policy.check_in_school_days_before)
    return FollowUpMeeting(
        starts=starts,
        ends=starts + timedelta(minutes=request.minutes),
        check_in_due=max(before, calendar.next_school_day(today)),
        scheduled_by=request.actor,
        sequence=current.sequence + 1 if current is not None else 0,
    )


def check_notes(facts: MeetingFacts, request: FollowUpNotesRequest) -> list[ActionNote]:
    """Once the meeting has begun, once, a note on every action of the plan."""
    _still_running(facts)
    meeting = facts.meeting
    if meeting is None:
        raise Refusal.one("notes", "no follow-up meeting is scheduled; schedule it first")
    _organiser(facts, request.actor, "records the follow-up meeting's notes")
    if meeting.held:
        raise Refusal.one("notes", f"the notes of the meeting on {meeting.day.isoformat()} are already recorded")
    if facts.now < meeting.starts:
        when = f"{meeting.day.isoformat()} at {meeting.starts.strftime('%H:%M')}"
        raise Refusal.one("notes", f"the meeting begins on {when}; its notes come after it")
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(request.notes):
        if item.action_id not in facts.action_ids:
            problems.append((f"notes[{i}].action_id", f"{item.action_id!r} is not an action of this plan"))
        elif item.action_id in seen:
            problems.append((f"notes[{i}].action_id", f"{item.action_id!r} appears more than once"))
        seen.add(item.action_id)
    missing = [a for a in facts.action_ids if a not in seen]
    if missing:
        problems.append(("notes", f"a note on every action of the plan; missing {', '.join(missing)}"))
    if problems:
        raise Refusal(problems)
    return list(request.notes)


def _prompts(facts: MeetingFacts, kind: PromptKind, when: datetime, due: date | None, key: str) -> list[DomainEvent]:
    return list(
        prompt_events(
            workflow_id=facts.workflow_id,
            cycle_id=facts.cycle_id,
            at=facts.now,
            kind=kind,
            stage=None,
            review_type=facts.review_type,
            directory=facts.directory,
            scheduled_for=when,
            due=due,
            key=key,
        )
    )


def schedule_meeting(facts: MeetingFacts, request: FollowUpMeetingRequest) -> MeetingDecision:
    """The invitation (with its calendar file) to those who attend, and to the school the check-in it reviews."""
    meeting = check_meeting(facts, request)
    now, today = facts.now, london_date(facts.now)
    scheduled = FollowUpMeetingScheduled(
        cycle_id=facts.cycle_id,
        at=now,
        starts=meeting.starts,
        ends=meeting.ends,
        check_in_due=meeting.check_in_due,
        previous_starts=facts.meeting.starts if facts.meeting is not None else None,
        actor=request.actor,
    )
    send_at = working_moment(now, facts.schedule_policy, facts.calendar)
    events: list[DomainEvent] = [scheduled]
    key = f"follow-up-meeting:{meeting.starts.isoformat()}"
    events += _prompts(facts, PromptKind.FOLLOW_UP_MEETING, send_at, meeting.day, key)
    opens = check_in_opens(meeting, facts.window_opens_days_before)
    assert opens is not None, "a meeting just scheduled is not held"
    if not (facts.checked_in and opens <= today):
        ask_at = at_london(max(opens, today), facts.schedule_policy.prompt_time)
        key = f"follow-up-meeting-check-in:{meeting.check_in_due.isoformat()}"
        events += _prompts(facts, PromptKind.CHECK_IN_DUE, max(ask_at, send_at), meeting.check_in_due, key)
    when = f"{meeting.day.isoformat()} from {meeting.starts.strftime('%H:%M')}"
    receipt = Receipt(
        cycle_id=facts.cycle_id,
        message=f"follow-up meeting: {when}; the school checks in by {meeting.check_in_due.isoformat()}",
        on=today,
    )
    record = Record(tuple(events), causation=f"follow-up-meeting:{meeting.sequence}", actor=request.actor)
    return Decision(steps=(record,), notes=(meeting,), receipt=receipt)


def record_notes(facts: MeetingFacts, request: FollowUpNotesRequest) -> MeetingDecision:
    """The notes, sent on to the school's leaders as the meeting's outcome."""
    notes = check_notes(facts, request)
    meeting = facts.meeting
    assert meeting is not None, "check_notes refuses when no meeting is scheduled"
    held = FollowUpMeetingHeld(
        cycle_id=facts.cycle_id, at=facts.now, starts=meeting.starts, notes=notes, actor=request.actor
    )
    send_at = working_moment(facts.now, facts.schedule_policy, facts.calendar)
    key = f"follow-up-notes:{meeting.starts.isoformat()}"
    events = [held, *_prompts(facts, PromptKind.FOLLOW_UP_NOTES, send_at, None, key)]
    receipt = Receipt(
        cycle_id=facts.cycle_id,
        message=f"notes on {len(notes)} actions recorded; the school's leaders are sent them",
        on=london_date(facts.now),
    )
    record = Record(tuple(events), causation="follow-up-notes", actor=request.actor)
    return Decision(steps=(record,), notes=(meeting.model_copy(update={"held": True}),), receipt=receipt)


def notes_deadline(meeting: FollowUpMeeting, policy: FollowUpMeetingPolicy, calendar: SchoolCalendar) -> datetime:
    """How long a follow-up past its last round still waits for a meeting's notes."""
    return at_london(calendar.add_school_days(meeting.day, policy.notes_within_school_days), time(23, 0))


class MeetingRecord(BaseModel):
    """A cycle's follow-up meeting read back from its events: when it is, and, once held, its notes."""

    model_config = ConfigDict(frozen=True)

    starts: datetime
    ends: datetime
    check_in_due: date
    scheduled_by: str
    moves: int = 0
    held: FollowUpMeetingHeld | None = None

    @property
    def day(self) -> date:
        return london_date(self.starts)

    def note_lines(self, titles: dict[str, str]) -> list[str]:
        """Each action's note, under the action's title ('Title: note'), in the plan's order."""
        if self.held is None:
            return []
        return [f"{titles.get(n.action_id, n.action_id)}: {' '.join(n.note.split())}" for n in self.held.notes]


def meeting_record(events: Iterable[DomainEvent]) -> MeetingRecord | None:
    record: MeetingRecord | None = None
    for event in events:
        if isinstance(event, FollowUpMeetingScheduled):
            moves = record.moves + 1 if record is not None else 0
            record = MeetingRecord(
                starts=event.starts,
                ends=event.ends,
                check_in_due=event.check_in_due,
                scheduled_by=event.actor,
                moves=moves,
            )
        elif isinstance(event, FollowUpMeetingHeld) and record is not None:
            record = record.model_copy(update={"held": event})
    return record
