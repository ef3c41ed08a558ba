"""Prompts respect the school day even when late, and a cycle or group reports today as the cycle clock now."""

from datetime import date, datetime, time, timedelta

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.london_time import at_london, in_london
from domain.mail import Outgoing, due_batches, next_moment
from domain.prompts import PromptKind
from domain.schedule import SchedulePolicy
from domain.stages import ContactRole, Stage
from operations.cycles import cycle_handle
from tests import factories
from tests.engine import Engine, running_worker
from workflows.review_cycle import ReviewCycleWorkflow

POLICY = SchedulePolicy()
MONDAY = date(2027, 1, 11)  # a school day; Tuesday the 12th is one too


def reminder(at: datetime, to: str = "leader@school.example") -> Outgoing:
    return Outgoing(
        prompt_id=f"p-{at.isoformat()}",
        cycle_id="c1",
        kind=PromptKind.REMINDER,
        stage=Stage.SELF_EVALUATION,
        recipient_role=ContactRole.CAREERS_LEADER,
        recipient_email=to,
        scheduled_for=at,
        due=MONDAY + timedelta(days=7),
    )


def test_a_prompt_found_late_in_the_evening_waits_for_the_next_school_day_window() -> None:
    late = reminder(at_london(MONDAY, time(9)))
    evening = at_london(MONDAY, time(18, 30))
    assert due_batches([late], evening, {}, POLICY, factories.CALENDAR) == {}
    tuesday = MONDAY + timedelta(days=1)
    assert next_moment([late], evening, {}, POLICY, factories.CALENDAR) == at_london(tuesday, time(8))


def test_a_prompt_found_late_on_a_friday_night_waits_for_monday_morning() -> None:
    friday = date(2027, 1, 15)
    late = reminder(at_london(friday, time(9)))
    night = at_london(friday, time(23, 5))
    assert due_batches([late], night, {}, POLICY, factories.CALENDAR) == {}
    assert next_moment([late], night, {}, POLICY, factories.CALENDAR) == at_london(date(2027, 1, 18), time(8))


def test_a_late_prompt_found_within_the_window_goes_at_once() -> None:
    late = reminder(at_london(MONDAY, time(9)))
    afternoon = at_london(MONDAY, time(15))
    assert due_batches([late], afternoon, {}, POLICY, factories.CALENDAR) == {late.recipient_email: [late]}
    assert next_moment([late], afternoon, {}, POLICY, factories.CALENDAR) == afternoon


def test_a_future_prompt_keeps_its_own_moment() -> None:
    later = reminder(at_london(MONDAY + timedelta(days=1), time(9)))
    now = at_london(MONDAY, time(10))
    assert due_batches([later], now, {}, POLICY, factories.CALENDAR) == {}
    assert next_moment([later], now, {}, POLICY, factories.CALENDAR) == later.scheduled_for


async def test_a_cycle_reports_today_as_the_cycle_clock_now(env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100301")  # one cycle week per real week: cycle and real time move together
    async with running_worker(engine.client, pool, engine.task_queue):
        await engine.start(spec)
        view = await engine.advance_to(spec.cycle_id, at_london(spec.start_date, time(10)))
        assert view.today == spec.start_date
        handle = cycle_handle(engine.client, spec.cycle_id)
        # Asked three days on, with nothing happening in the cycle meanwhile (its last activity stays put).
        asked = await env.get_current_time() + timedelta(days=3)
        later = await handle.query(ReviewCycleWorkflow.status, asked)
        assert later.today == in_london(later.now).date() == spec.start_date + timedelta(days=3)
        # A caller whose clock is behind never moves the cycle back.
        earlier = await handle.query(ReviewCycleWorkflow.status, asked - timedelta(days=30))
        assert earlier.today == spec.start_date
