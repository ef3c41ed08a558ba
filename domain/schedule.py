"""The schedule policy and the schedule it gives: every milestone of a cycle, up front.

Deadlines that fall on a weekend or in a school holiday move to the next school day;
prompts go only on school days, in working hours (Europe/London).
"""

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.london_time import at_london, in_london
from domain.school_calendar import SchoolCalendar
from domain.stages import STAGE_ORDER, ContactRole, Stage


class StagePlan(BaseModel):
    """When a stage opens and is due, in calendar days after the cycle's start date."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    opens_after_days: int = Field(ge=0)
    due_after_days: int = Field(gt=0)

    @model_validator(mode="after")
    def _due_after_opening(self) -> "StagePlan":
        if self.due_after_days <= self.opens_after_days:
            raise ValueError(f"{self.stage}: due_after_days must be later than opens_after_days")
        return self


class ReminderPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    school_days_before_due: tuple[int, ...] = Field(default=(5, 1), description="Reminders before the due date")
    on_due_day: bool = True
    overdue_reminder_school_days: tuple[int, ...] = Field(
        default=(1, 6), description="Nudges to the institution after the due date"
    )
    escalate_after_school_days: int = Field(default=3, ge=1, description="When an overdue stage escalates")
    escalate_to: tuple[ContactRole, ...] = Field(
        default=(ContactRole.FACILITATOR,), min_length=1, description="Who hears of it (CEC when none has an address)"
    )


class SchedulePolicy(BaseModel):
    """The default lands re-evaluation between week 15 and week 18 of the cycle."""

    model_config = ConfigDict(frozen=True)

    stages: tuple[StagePlan, ...] = (
        StagePlan(stage=Stage.ONBOARDING, opens_after_days=0, due_after_days=7),
        StagePlan(stage=Stage.SELF_EVALUATION, opens_after_days=7, due_after_days=28),
        StagePlan(stage=Stage.REVIEW, opens_after_days=28, due_after_days=49),
        StagePlan(stage=Stage.REPORT, opens_after_days=49, due_after_days=63),
        StagePlan(stage=Stage.ACTION_PLANNING, opens_after_days=63, due_after_days=77),
        StagePlan(stage=Stage.RE_EVALUATION, opens_after_days=105, due_after_days=119),
    )
    closing_after_days: int = Field(default=126, description="A cycle not complete by then lapses")
    reminders: ReminderPolicy = ReminderPolicy()
    prompt_time: time = time(9, 0)
    working_hours: tuple[time, time] = (time(8, 0), time(17, 0))
    due_time: time = Field(default=time(17, 0), description="A stage is overdue after this time on its due date")
    min_school_days_open: int = Field(
        default=5, ge=1, description="However holidays fall, a stage stays open at least this many school days"
    )

    @model_validator(mode="after")
    def _every_stage_once_in_order(self) -> "SchedulePolicy":
        if tuple(plan.stage for plan in self.stages) != STAGE_ORDER:
            raise ValueError("stages: every stage exactly once, in the order of the process")
        for earlier, later in zip(self.stages, self.stages[1:], strict=False):
            if later.opens_after_days < earlier.due_after_days:
                raise ValueError(f"{later.stage}: must not open before {earlier.stage} is due")
        if self.closing_after_days <= self.stages[-1].due_after_days:
            raise ValueError("closing_after_days: must be after the last stage is due")
        return self

    def plan(self, stage: Stage) -> StagePlan:
        return next(p for p in self.stages if p.stage is stage)


class Milestone(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Stage
    opens: date
    due: date
    reminders: tuple[datetime, ...]
    overdue_at: datetime
    overdue_reminders: tuple[datetime, ...]
    escalation: datetime


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    start_date: date
    milestones: tuple[Milestone, ...]
    closing_date: date
    closes_at: datetime

    def milestone(self, stage: Stage) -> Milestone:
        return next(m for m in self.milestones if m.stage is stage)


def working_moment(moment: datetime, policy: SchedulePolicy, calendar: SchoolCalendar) -> datetime:
    """The first moment at or after `moment` when a prompt may go: a school day, in working hours."""
    local = in_london(moment)
    start, end = policy.working_hours
    day = local.date()
    if calendar.is_school_day(day) and start <= local.time() < end:
        return local
    if calendar.is_school_day(day) and local.time() < start:
        return at_london(day, start)
    return at_london(calendar.next_school_day(day + timedelta(days=1)), start)


def _prompt_on(day: date, policy: SchedulePolicy) -> datetime:
    return at_london(day, policy.prompt_time)


def milestone_for(stage: Stage, opens: date, due: date, policy: SchedulePolicy, calendar: SchoolCalendar) -> Milestone:
    rules = policy.reminders
    reminders = [
        _prompt_on(calendar.add_school_days(due, -days), policy)
        for days in rules.school_days_before_due
        if calendar.add_school_days(due, -days) > opens
    ]
    if rules.on_due_day:
        reminders.append(_prompt_on(due, policy))
    return Milestone(
        stage=stage,
        opens=opens,
        due=due,
        reminders=tuple(sorted(set(reminders))),
        overdue_at=at_london(due, policy.due_time),
        overdue_reminders=tuple(
            _prompt_on(calendar.add_school_days(due, days), policy) for days in rules.overdue_reminder_school_days
        ),
        escalation=_prompt_on(calendar.add_school_days(due, rules.escalate_after_school_days), policy),
    )


def build_schedule(start: date, policy: SchedulePolicy, calendar: SchoolCalendar) -> Schedule:
    """Every milestone from the start date; opening and due days land on school days."""
    milestones = []
    for plan in policy.stages:
        opens = calendar.next_school_day(start + timedelta(days=plan.opens_after_days))
        due = max(
            calendar.next_school_day(start + timedelta(days=plan.due_after_days)),
            calendar.add_school_days(opens, policy.min_school_days_open),
        )
        milestones.append(milestone_for(plan.stage, opens, due, policy, calendar))
    closing = max(
        calendar.next_school_day(start + timedelta(days=policy.closing_after_days)),
        calendar.add_school_days(milestones[-1].due, 1),
    )
    return Schedule(
        start_date=start,
        milestones=tuple(milestones),
        closing_date=closing,
        closes_at=at_london(closing, policy.due_time),
    )


def extend_schedule(
    schedule: Schedule, stage: Stage, new_due: date, policy: SchedulePolicy, calendar: SchoolCalendar
) -> Schedule:
    """Move one stage's due date later; every later milestone and the closing date move by as much."""
    current = schedule.milestone(stage)
    target = calendar.next_school_day(new_due)
    shift = target - current.due
    if shift <= timedelta(0):
        return schedule
    milestones = []
    for milestone in schedule.milestones:
        if milestone.stage is stage:
            milestones.append(milestone_for(stage, milestone.opens, target, policy, calendar))
        elif STAGE_ORDER.index(milestone.stage) > STAGE_ORDER.index(stage):
            opens = calendar.next_school_day(milestone.opens + shift)
            due = max(
                calendar.next_school_day(milestone.due + shift),
                calendar.add_school_days(opens, policy.min_school_days_open),
            )
            milestones.append(milestone_for(milestone.stage, opens, due, policy, calendar))
        else:
            milestones.append(milestone)
    # As when the schedule was built: the cycle closes a school day after the last stage is due, at the earliest.
    closing = max(
        calendar.next_school_day(schedule.closing_date + shift),
        calendar.add_school_days(milestones[-1].due, 1),
    )
    return Schedule(
        start_date=schedule.start_date,
        milestones=tuple(milestones),
        closing_date=closing,
        closes_at=at_london(closing, policy.due_time),
    )


def recalendar_schedule(schedule: Schedule, policy: SchedulePolicy, calendar: SchoolCalendar, today: date) -> Schedule:
    """The schedule on a corrected calendar (a new bank holiday, say). A stage due before `today` keeps its dates:
    what has happened stays as it happened. A stage due today or later keeps an opening day already past and moves
    any day that is no longer a school day to the next one; its reminders follow the corrected calendar, and it
    still stays open at least `min_school_days_open` school days. On an unchanged calendar nothing moves."""
    milestones: list[Milestone] = []
    for milestone in schedule.milestones:
        if milestone.due < today:
            milestones.append(milestone)
            continue
        opens = milestone.opens if milestone.opens <= today else calendar.next_school_day(milestone.opens)
        due = max(calendar.next_school_day(milestone.due), calendar.add_school_days(opens, policy.min_school_days_open))
        milestones.append(milestone_for(milestone.stage, opens, due, policy, calendar))
    closing = max(
        calendar.next_school_day(schedule.closing_date),
        calendar.add_school_days(milestones[-1].due, 1),
    )
    return Schedule(
        start_date=schedule.start_date,
        milestones=tuple(milestones),
        closing_date=closing,
        closes_at=at_london(closing, policy.due_time),
    )
