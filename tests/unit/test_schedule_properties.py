"""Properties of every schedule, whatever the start date and however it is extended: deadlines on school days,
milestones in order, and a cycle that closes between 15 and 18 weeks after it starts, plus the school holidays in
between and the extensions granted."""

import itertools
from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.london_time import LONDON
from domain.schedule import Schedule, SchedulePolicy, build_schedule, extend_schedule
from domain.stages import STAGE_ORDER, Stage
from tests import factories

CALENDAR = factories.CALENDAR
POLICY = SchedulePolicy()
# Start dates the default calendar knows the holidays of, a whole cycle ahead.
FIRST = min(c.first_day for c in CALENDAR.closures)
LAST = max(c.last_day for c in CALENDAR.closures) - timedelta(weeks=40)

school_days = st.dates(min_value=FIRST, max_value=LAST).map(CALENDAR.next_school_day)
extensions = st.lists(st.tuples(st.sampled_from(STAGE_ORDER), st.integers(min_value=1, max_value=45)), max_size=3)


def extended(start: date, moves: list[tuple[Stage, int]]) -> tuple[Schedule, int]:
    """The schedule after each extension in turn, and the days the due dates moved in all."""
    schedule = build_schedule(start, POLICY, CALENDAR)
    moved = 0
    for stage, days in moves:
        before = schedule.milestone(stage).due
        schedule = extend_schedule(schedule, stage, before + timedelta(days=days), POLICY, CALENDAR)
        moved += (schedule.milestone(stage).due - before).days
    return schedule, moved


def closed_days(start: date, end: date) -> int:
    return sum(1 for n in range((end - start).days) if CALENDAR.closure_on(start + timedelta(days=n)))


@settings(max_examples=150, deadline=None)
@given(start=school_days, moves=extensions)
def test_no_deadline_or_prompt_falls_on_a_weekend_or_in_a_holiday(start: date, moves: list[tuple[Stage, int]]) -> None:
    schedule, _ = extended(start, moves)
    assert CALENDAR.is_school_day(schedule.closing_date)
    for m in schedule.milestones:
        assert CALENDAR.is_school_day(m.opens) and CALENDAR.is_school_day(m.due), (m.stage, m.opens, m.due)
        for moment in (*m.reminders, m.overdue_at, *m.overdue_reminders, m.escalation):
            local = moment.astimezone(LONDON)
            assert CALENDAR.is_school_day(local.date()), (m.stage, local)
            assert time(8) <= local.time() <= time(17)


@settings(max_examples=150, deadline=None)
@given(start=school_days, moves=extensions)
def test_milestones_stay_in_order(start: date, moves: list[tuple[Stage, int]]) -> None:
    schedule, _ = extended(start, moves)
    milestones = schedule.milestones
    assert [m.stage for m in milestones] == list(STAGE_ORDER)
    for m in milestones:
        assert start <= m.opens < m.due < schedule.closing_date
        assert list(m.reminders) == sorted(m.reminders) and all(r.date() >= m.opens for r in m.reminders)
        assert m.reminders[-1] < m.overdue_at < m.escalation
    # A holiday can bring two stages' dates together (each keeps its minimum school days open), never reverse them.
    for earlier, later in itertools.pairwise(milestones):
        assert earlier.opens <= later.opens and earlier.due <= later.due


@settings(max_examples=150, deadline=None)
@given(start=school_days, moves=extensions)
def test_a_cycle_closes_between_15_and_18_weeks_plus_holidays_and_extensions(
    start: date, moves: list[tuple[Stage, int]]
) -> None:
    schedule, moved = extended(start, moves)
    length = (schedule.closing_date - start).days
    assert length >= 15 * 7
    assert (schedule.milestone(Stage.RE_EVALUATION).opens - start).days >= 15 * 7
    # 18 weeks, plus the days school is closed on the way, plus what extensions moved, plus a weekend at most.
    assert length <= 18 * 7 + closed_days(start, schedule.closing_date) + moved + 3


@settings(max_examples=100, deadline=None)
@given(start=school_days, stage=st.sampled_from(STAGE_ORDER), days=st.integers(min_value=1, max_value=60))
def test_an_extension_moves_nothing_before_its_stage_and_never_brings_a_date_forward(
    start: date, stage: Stage, days: int
) -> None:
    before = build_schedule(start, POLICY, CALENDAR)
    after, _ = extended(start, [(stage, days)])
    for old, new in zip(before.milestones, after.milestones, strict=True):
        if STAGE_ORDER.index(old.stage) < STAGE_ORDER.index(stage):
            assert new == old
        else:
            assert new.opens >= old.opens and new.due >= old.due
    assert after.milestone(stage).due >= before.milestone(stage).due + timedelta(days=days)
    assert after.closing_date >= before.closing_date + timedelta(days=days)
