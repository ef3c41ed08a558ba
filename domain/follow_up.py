"""Follow-up check-ins after the action plan: when they fall, and what counts as momentum.

An action makes progress in a round when its status moves on (or it is done); an
open action with no progress in `stall_after_rounds` consecutive rounds is stalled.
A missed check-in is no progress for every open action.
"""

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.cycle_clock import CycleClock
from domain.events import AgreedAction
from domain.follow_up_meeting import FollowUpMeeting, FollowUpMeetingPolicy, check_in_opens
from domain.recipients import Directory
from domain.refusals import Refusal, parse_as
from domain.requests import SubmitRequest
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import ReviewType
from domain.submissions import ActionProgress, ActionStatus, CheckIn, SubmissionKind, without_notes


class FollowUpPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    interval_weeks: int = Field(default=6, ge=1, le=26)
    months: int = Field(default=12, ge=1, le=36)
    window_opens_days_before: int = Field(default=14, ge=0, description="Check-ins accepted from this early")
    grace_school_days: int = Field(default=10, ge=1, description="A check-in not in by then is missed")
    stall_after_rounds: int = Field(default=2, ge=1)
    meeting: FollowUpMeetingPolicy = Field(default_factory=FollowUpMeetingPolicy)

    @property
    def rounds(self) -> int:
        return max(1, (self.months * 52 // 12) // self.interval_weeks)


def check_in_dates(start: date, policy: FollowUpPolicy, calendar: SchoolCalendar) -> list[date]:
    """Each check-in an interval after the one before, on a school day: a holiday pushes the rest along
    rather than bunching two check-ins together after it."""
    dates: list[date] = []
    previous = start
    for _ in range(policy.rounds):
        previous = calendar.next_school_day(previous + timedelta(weeks=policy.interval_weeks))
        dates.append(previous)
    return dates


class RoundAssessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    statuses: dict[str, ActionStatus]
    rounds_without_progress: dict[str, int]
    moving: int
    open_at_start: int
    newly_stalled: list[str]

    @property
    def momentum(self) -> float:
        return round(self.moving / self.open_at_start, 4) if self.open_at_start else 1.0


def _moved(before: ActionStatus, after: ActionStatus) -> bool:
    if after is ActionStatus.DONE:
        return True
    return after is not before and after is not ActionStatus.BLOCKED


def assess_round(
    statuses: dict[str, ActionStatus],
    rounds_without_progress: dict[str, int],
    progress: list[ActionProgress] | None,
    stall_after_rounds: int,
) -> RoundAssessment:
    """Fold one round (a check-in, or None when it was missed) into the running picture."""
    reported = {p.action_id: p.status for p in progress or []}
    open_actions = [a for a, s in statuses.items() if s is not ActionStatus.DONE]
    new_statuses = dict(statuses)
    counters = dict(rounds_without_progress)
    moving = 0
    stalled: list[str] = []
    for action_id in open_actions:
        before = statuses[action_id]
        after = reported.get(action_id, before)
        new_statuses[action_id] = after
        if _moved(before, after):
            moving += 1
            counters[action_id] = 0
        else:
            counters[action_id] = counters.get(action_id, 0) + 1
            if counters[action_id] == stall_after_rounds:
                stalled.append(action_id)
    return RoundAssessment(
        statuses=new_statuses,
        rounds_without_progress=counters,
        moving=moving,
        open_at_start=len(open_actions),
        newly_stalled=stalled,
    )


class FollowUpInput(BaseModel):
    """Carried from run to run across continue-as-new: everything a round needs to know."""

    cycle_id: str
    review_type: ReviewType
    actions: list[AgreedAction]
    start_date: date
    policy: FollowUpPolicy
    calendar: SchoolCalendar
    schedule_policy: SchedulePolicy
    clock: CycleClock
    directory: Directory
    deliver_mail: bool = True
    round: int = 1
    stream_version: int = 0
    statuses: dict[str, ActionStatus] = Field(default_factory=dict)
    rounds_without_progress: dict[str, int] = Field(default_factory=dict)
    stopped_reason: str | None = None
    report_on: date | None = Field(default=None, description="When the report was published (older runs: unknown)")
    meeting: FollowUpMeeting | None = None


def check_check_in(
    request: SubmitRequest,
    *,
    round_: int,
    dates: list[date],
    policy: FollowUpPolicy,
    statuses: dict[str, ActionStatus],
    stopped: str | None,
    submitted: bool,
    today: date,
    meeting: FollowUpMeeting | None = None,
) -> CheckIn:
    """One round's check-in: in its window (or early, for a follow-up meeting to review), once, reporting every
    open action of the plan once."""
    if request.kind != SubmissionKind.CHECK_IN.value:
        raise Refusal.one("kind", f"the follow-up takes check-ins only, not {request.kind!r}")
    if stopped is not None:
        raise Refusal.one("cycle", f"follow-up has stopped ({stopped})")
    if submitted:
        raise Refusal.one("check-in", f"round {round_} was already recorded; the next one opens later")
    day = dates[round_ - 1]
    opens = day - timedelta(days=policy.window_opens_days_before)
    early = check_in_opens(meeting, policy.window_opens_days_before)
    if early is not None:
        opens = min(opens, early)
    if today < opens:
        raise Refusal.one("check-in", f"round {round_} is due on {day.isoformat()} and opens on {opens.isoformat()}")
    check_in = parse_as(CheckIn, without_notes(request.data))
    problems: list[tuple[str, str]] = []
    reported: set[str] = set()
    for i, item in enumerate(check_in.progress):
        if item.action_id not in statuses:
            problems.append((f"progress[{i}].action_id", f"{item.action_id!r} is not an action of this plan"))
        elif statuses[item.action_id] is ActionStatus.DONE:
            problems.append((f"progress[{i}].action_id", f"{item.action_id!r} is already done"))
        elif item.action_id in reported:
            problems.append((f"progress[{i}].action_id", f"{item.action_id!r} appears more than once"))
        reported.add(item.action_id)
    missing = [a for a, s in statuses.items() if s is not ActionStatus.DONE and a not in reported]
    if missing:
        problems.append(("progress", f"report every open action; missing {', '.join(missing)}"))
    if problems:
        raise Refusal(problems)
    return check_in
