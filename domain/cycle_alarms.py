"""A cycle's alarms: what is due, when, and which nudges are skipped as stale.

A pure function of the cycle's state (and, for what is due, of now): the stage's
reminders, its overdue mark, the nudges after it, the escalation, and the closing date.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.cycle_state import CycleState
from domain.stages import Stage

# A timer fires at a real instant; its cycle moment can come out a hair early under a time scale.
ALARM_TOLERANCE = timedelta(minutes=1)


class AlarmKind(StrEnum):
    REMINDER = "reminder"
    OVERDUE = "overdue"
    OVERDUE_REMINDER = "overdue_reminder"
    ESCALATION = "escalation"
    CLOSING = "closing"

    @property
    def nudge(self) -> bool:
        """A nudge whose moment passed before the cycle could see it is skipped, not sent late."""
        return self in (AlarmKind.REMINDER, AlarmKind.OVERDUE_REMINDER)


@dataclass(frozen=True)
class Alarm:
    kind: AlarmKind
    stage: Stage
    moment: datetime
    due: date  # the stage's due date (the closing date for the closing alarm)

    @property
    def key(self) -> str:
        """Names the alarm once: in the cycle's memory of what fired, and as the cause of what it records."""
        if self.kind is AlarmKind.CLOSING:
            return f"closing:{self.due}"
        if self.kind.nudge:
            return f"{self.stage}:{self.kind}:{self.moment.isoformat()}"
        return f"{self.stage}:{self.kind}:{self.due}"


def stage_alarms(state: CycleState, stage: Stage) -> list[Alarm]:
    """Every alarm of an open stage, in the order they are considered."""
    milestone = state.schedule.milestone(stage)
    due = milestone.due
    alarms = [Alarm(AlarmKind.REMINDER, stage, moment, due) for moment in milestone.reminders]
    alarms.append(Alarm(AlarmKind.OVERDUE, stage, milestone.overdue_at, due))
    alarms += [Alarm(AlarmKind.OVERDUE_REMINDER, stage, moment, due) for moment in milestone.overdue_reminders]
    alarms.append(Alarm(AlarmKind.ESCALATION, stage, milestone.escalation, due))
    alarms.append(Alarm(AlarmKind.CLOSING, stage, state.schedule.closes_at, state.schedule.closing_date))
    return alarms


def is_stale(alarm: Alarm, state: CycleState) -> bool:
    """A nudge decided before the stage opened or before its dates last moved."""
    since = state.alarms_from
    return alarm.kind.nudge and since is not None and alarm.moment < since - ALARM_TOLERANCE


def pending_alarms(state: CycleState, stage: Stage) -> list[Alarm]:
    """The stage's alarms still to come: not fired yet, and not stale."""
    return [a for a in stage_alarms(state, stage) if a.key not in state.fired and not is_stale(a, state)]


def due_alarms(state: CycleState, stage: Stage, now: datetime) -> list[Alarm]:
    return [a for a in pending_alarms(state, stage) if a.moment <= now + ALARM_TOLERANCE]
