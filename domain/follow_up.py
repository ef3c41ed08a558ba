"""Follow-up check-ins after the action plan: when they fall, and what counts as momentum.

An action makes progress in a round when its status moves on (or it is done); an
open action with no progress in `stall_after_rounds` consecutive rounds is stalled.
A missed check-in is no progress for every open action.
"""

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.school_calendar import SchoolCalendar
from domain.submissions import ActionProgress, ActionStatus


class FollowUpPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    interval_weeks: int = Field(default=6, ge=1, le=26)
    months: int = Field(default=12, ge=1, le=36)
    window_opens_days_before: int = Field(default=14, ge=0, description="Check-ins accepted from this early")
    grace_school_days: int = Field(default=10, ge=1, description="A check-in not in by then is missed")
    stall_after_rounds: int = Field(default=2, ge=1)

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
