"""The schedule rules: school days, holidays, working hours, the 15-18 week shape, clock changes."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from content.calendar_catalog import default_calendar
from domain.cycle_clock import SECONDS_PER_WEEK, CycleClock
from domain.london_time import LONDON, at_london
from domain.schedule import SchedulePolicy, build_schedule, extend_schedule, working_moment
from domain.stages import Stage

CALENDAR = default_calendar()
POLICY = SchedulePolicy()


def test_default_calendar_knows_half_terms_and_bank_holidays() -> None:
    assert not CALENDAR.is_school_day(date(2026, 10, 27))  # autumn half-term
    assert not CALENDAR.is_school_day(date(2027, 5, 3))  # early May bank holiday
    assert not CALENDAR.is_school_day(date(2027, 12, 27))  # Christmas
    assert CALENDAR.is_school_day(date(2027, 1, 4))
    assert CALENDAR.closure_on(date(2027, 2, 16)) == "spring half-term"
    assert CALENDAR.next_school_day(date(2027, 2, 13)) == date(2027, 2, 22)


def test_a_deadline_in_half_term_moves_to_the_next_school_day() -> None:
    schedule = build_schedule(date(2027, 1, 18), POLICY, CALENDAR)
    assert schedule.milestone(Stage.SELF_EVALUATION).due == date(2027, 2, 22)


@pytest.mark.parametrize("offset", range(0, 300, 3))
def test_every_milestone_and_prompt_lands_on_a_school_day_in_working_hours(offset: int) -> None:
    start = CALENDAR.next_school_day(date(2026, 9, 3) + timedelta(days=offset))
    schedule = build_schedule(start, POLICY, CALENDAR)
    for milestone in schedule.milestones:
        assert CALENDAR.is_school_day(milestone.opens) and CALENDAR.is_school_day(milestone.due)
        assert milestone.opens < milestone.due
        for moment in (*milestone.reminders, *milestone.overdue_reminders, milestone.escalation):
            local = moment.astimezone(LONDON)
            assert CALENDAR.is_school_day(local.date()), (start, milestone.stage, local)
            assert time(8) <= local.time() < time(17)
            assert all(r.date() >= milestone.opens for r in milestone.reminders)
    re_evaluation = schedule.milestone(Stage.RE_EVALUATION)
    weeks_to_open = (re_evaluation.opens - start).days / 7
    closed_days = sum(
        1 for n in range((schedule.closing_date - start).days) if CALENDAR.closure_on(start + timedelta(days=n))
    )
    assert weeks_to_open >= 15
    # 18 weeks, plus however long school holidays pushed the dates on.
    assert (re_evaluation.due - start).days <= 18 * 7 + closed_days + 3


def test_the_default_cycle_without_holidays_is_15_to_18_weeks() -> None:
    start = date(2027, 9, 6)  # no closures apply until the autumn half-term… check the shape on a plain calendar
    from domain.school_calendar import SchoolCalendar

    plain = SchoolCalendar(id="plain", name="weekends only")
    schedule = build_schedule(start, POLICY, plain)
    re_evaluation = schedule.milestone(Stage.RE_EVALUATION)
    assert 15 * 7 <= (re_evaluation.opens - start).days < 18 * 7
    assert (re_evaluation.due - start).days <= 18 * 7


def test_working_moment_waits_for_the_next_school_morning() -> None:
    friday_evening = at_london(date(2027, 2, 12), time(18, 30))
    assert working_moment(friday_evening, POLICY, CALENDAR) == at_london(date(2027, 2, 22), time(8))
    early = at_london(date(2027, 1, 5), time(6, 0))
    assert working_moment(early, POLICY, CALENDAR) == at_london(date(2027, 1, 5), time(8))
    inside = at_london(date(2027, 1, 5), time(12, 0))
    assert working_moment(inside, POLICY, CALENDAR) == inside


def test_an_extension_moves_later_milestones_and_the_closing_date() -> None:
    schedule = build_schedule(date(2027, 1, 4), POLICY, CALENDAR)
    review_due = schedule.milestone(Stage.REVIEW).due
    extended = extend_schedule(schedule, Stage.REVIEW, review_due + timedelta(days=14), POLICY, CALENDAR)
    assert extended.milestone(Stage.REVIEW).due == review_due + timedelta(days=14)
    assert extended.milestone(Stage.SELF_EVALUATION) == schedule.milestone(Stage.SELF_EVALUATION)
    assert extended.milestone(Stage.REPORT).due > schedule.milestone(Stage.REPORT).due
    assert extended.closing_date >= schedule.closing_date + timedelta(days=14)


def test_an_extension_never_closes_the_cycle_before_its_last_stage_is_due() -> None:
    # Pushed into the Christmas holiday, the later stages' dates move further than the closing date did:
    # the re-evaluation fell due on 23 Feb 2027, a day after the cycle lapsed.
    schedule = build_schedule(date(2026, 9, 3), POLICY, CALENDAR)
    for days in (2, 36):
        due = schedule.milestone(Stage.ONBOARDING).due
        schedule = extend_schedule(schedule, Stage.ONBOARDING, due + timedelta(days=days), POLICY, CALENDAR)
    assert schedule.milestone(Stage.RE_EVALUATION).due == date(2027, 2, 23)
    assert schedule.closing_date == date(2027, 2, 24)


def test_a_scaled_clock_keeps_london_times_right_across_the_clock_change() -> None:
    origin = at_london(date(2027, 3, 1), time(8))
    real_origin = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    clock = CycleClock(seconds_per_week=SECONDS_PER_WEEK).anchored(origin, real_origin)
    after_change = at_london(date(2027, 4, 5), time(9))  # BST by then
    assert clock.to_cycle(clock.to_real(after_change)) == after_change
    assert clock.real_delay(origin, after_change) == timedelta(days=35)  # 08:00 GMT to 09:00 BST
    fast = CycleClock(seconds_per_week=20).anchored(origin, real_origin)
    assert fast.real_delay(origin, origin.astimezone(UTC) + timedelta(weeks=18)) == timedelta(seconds=360)
    assert fast.to_real(origin + timedelta(weeks=1)) == real_origin + timedelta(seconds=20)
