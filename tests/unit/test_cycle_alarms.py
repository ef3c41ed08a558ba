"""The alarms: a pure function of the cycle's state and now; each kind, its key, and stale nudges skipped."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from domain.cycle_alarms import ALARM_TOLERANCE, Alarm, AlarmKind, due_alarms, is_stale, pending_alarms, stage_alarms
from domain.london_time import at_london
from domain.requests import ExtendRequest
from domain.stages import Stage
from tests.unit.cycles import Cycle

STATE = Cycle.started().run_until(at_london(date(2027, 1, 4), time(8))).state
ONBOARDING = STATE.schedule.milestone(Stage.ONBOARDING)


def test_a_stage_has_its_reminders_overdue_mark_nudges_escalation_and_the_closing_date_in_that_order() -> None:
    kinds = [a.kind for a in stage_alarms(STATE, Stage.ONBOARDING)]
    assert kinds == [
        AlarmKind.REMINDER,
        AlarmKind.REMINDER,
        AlarmKind.OVERDUE,
        AlarmKind.OVERDUE_REMINDER,
        AlarmKind.OVERDUE_REMINDER,
        AlarmKind.ESCALATION,
        AlarmKind.CLOSING,
    ]


@pytest.mark.parametrize(
    ("kind", "nudge"),
    [
        (AlarmKind.REMINDER, True),
        (AlarmKind.OVERDUE_REMINDER, True),
        (AlarmKind.OVERDUE, False),
        (AlarmKind.ESCALATION, False),
        (AlarmKind.CLOSING, False),
    ],
)
def test_only_reminders_are_nudges(kind: AlarmKind, nudge: bool) -> None:
    assert kind.nudge is nudge


@pytest.mark.parametrize(
    ("alarm", "key"),
    [
        (
            Alarm(AlarmKind.REMINDER, Stage.REVIEW, at_london(date(2027, 2, 8), time(9)), date(2027, 2, 22)),
            "review:reminder:2027-02-08T09:00:00+00:00",
        ),
        (
            Alarm(AlarmKind.OVERDUE_REMINDER, Stage.REVIEW, at_london(date(2027, 2, 23), time(9)), date(2027, 2, 22)),
            "review:overdue_reminder:2027-02-23T09:00:00+00:00",
        ),
        (
            Alarm(AlarmKind.OVERDUE, Stage.REVIEW, at_london(date(2027, 2, 22), time(17)), date(2027, 2, 22)),
            "review:overdue:2027-02-22",
        ),
        (
            Alarm(AlarmKind.ESCALATION, Stage.REVIEW, at_london(date(2027, 2, 25), time(9)), date(2027, 2, 22)),
            "review:escalation:2027-02-22",
        ),
        (
            Alarm(AlarmKind.CLOSING, Stage.REVIEW, at_london(date(2027, 5, 10), time(17)), date(2027, 5, 10)),
            "closing:2027-05-10",
        ),
    ],
)
def test_each_alarm_has_one_key(alarm: Alarm, key: str) -> None:
    assert alarm.key == key


def test_nothing_is_due_before_the_first_reminder() -> None:
    first = ONBOARDING.reminders[0]
    assert due_alarms(STATE, Stage.ONBOARDING, first - timedelta(hours=1)) == []


@pytest.mark.parametrize(
    ("moment", "kind"),
    [
        (ONBOARDING.reminders[0], AlarmKind.REMINDER),
        (ONBOARDING.reminders[0] - ALARM_TOLERANCE, AlarmKind.REMINDER),  # a timer a hair early still counts
        (ONBOARDING.overdue_at, AlarmKind.REMINDER),  # the earlier ones first, in order
    ],
)
def test_due_alarms_come_in_order_from_the_first(moment: datetime, kind: AlarmKind) -> None:
    assert due_alarms(STATE, Stage.ONBOARDING, moment)[0].kind is kind


def test_a_fired_alarm_is_no_longer_pending() -> None:
    first = pending_alarms(STATE, Stage.ONBOARDING)[0]
    fired = replace(STATE, fired=frozenset({first.key}))
    assert first not in pending_alarms(fired, Stage.ONBOARDING)
    assert len(pending_alarms(fired, Stage.ONBOARDING)) == len(pending_alarms(STATE, Stage.ONBOARDING)) - 1


def test_nudges_from_before_the_stage_opened_or_its_dates_moved_are_stale() -> None:
    later = replace(STATE, alarms_from=ONBOARDING.overdue_at + timedelta(days=1))
    pending = {a.kind for a in pending_alarms(later, Stage.ONBOARDING)}
    assert AlarmKind.REMINDER not in pending
    assert {AlarmKind.OVERDUE, AlarmKind.ESCALATION, AlarmKind.CLOSING} <= pending


@pytest.mark.parametrize(
    ("kind", "offset", "stale"),
    [
        (AlarmKind.REMINDER, timedelta(minutes=-2), True),
        (AlarmKind.REMINDER, timedelta(seconds=-30), False),  # within the tolerance
        (AlarmKind.REMINDER, timedelta(hours=1), False),
        (AlarmKind.OVERDUE, timedelta(days=-3), False),
        (AlarmKind.ESCALATION, timedelta(days=-3), False),
        (AlarmKind.OVERDUE_REMINDER, timedelta(days=-1), True),
    ],
)
def test_staleness_is_for_nudges_only(kind: AlarmKind, offset: timedelta, stale: bool) -> None:
    since = at_london(date(2027, 1, 6), time(12))
    alarm = Alarm(kind, Stage.ONBOARDING, since + offset, ONBOARDING.due)
    assert is_stale(alarm, replace(STATE, alarms_from=since)) is stale


def test_an_extension_gives_the_stage_new_alarms() -> None:
    moved = Cycle.started().run_until(at_london(date(2027, 1, 4), time(12)))
    before = {a.key for a in pending_alarms(moved.state, Stage.ONBOARDING)}
    moved.apply(ExtendRequest(stage="onboarding", to=date(2027, 1, 25), reason="r"))
    after = {a.key for a in pending_alarms(moved.state, Stage.ONBOARDING)}
    assert "onboarding:overdue:2027-01-25" in after and "onboarding:overdue:2027-01-11" not in after
    assert after != before
