"""A cohort's daily moments are spread (issue 16): each cycle wakes a fixed offset after 08:00, 09:00 and 17:00,
taken from its URN, so a national cohort does not wake all at once; a cycle without a spread (every history
recorded before it) wakes on the moment, and a spread cycle's history replays."""

from collections import Counter
from datetime import date, datetime, time, timedelta

import asyncpg
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain.daily_spread import DEFAULT_SPREAD_MINUTES, daily_offset
from domain.london_time import at_london
from domain.stages import Phase, ReviewType
from operations.spec_builder import SpecContext, build_spec
from settings import Settings
from store.read_models import list_events
from tests import factories
from tests.engine import Engine, running_worker
from tests.eventually import eventually
from worker import PASSTHROUGH, WORKFLOWS
from workflows.cycle_time import SPREAD_PATCH

WINDOW = timedelta(minutes=DEFAULT_SPREAD_MINUTES)


def test_an_institution_keeps_its_offset_and_a_cohort_fills_the_window() -> None:
    assert daily_offset("137412", WINDOW) == daily_offset("137412", WINDOW)
    offsets = [daily_offset(str(100000 + n), WINDOW) for n in range(6000)]
    assert all(timedelta(0) <= offset < WINDOW for offset in offsets)
    # Six ten-minute slices of the hour each hold about a sixth of the cohort.
    slices = Counter(int(offset / timedelta(minutes=10)) for offset in offsets)
    assert sorted(slices) == list(range(6)) and all(800 < n < 1200 for n in slices.values()), slices
    assert daily_offset("137412", timedelta(0)) == timedelta(0)


def test_specs_built_for_a_launch_carry_the_offset_of_their_urn() -> None:
    def spec(settings: Settings, urn: str) -> timedelta:
        built = build_spec(
            SpecContext(settings), urn=urn, name="A School", phase=Phase.SECONDARY, review_type=ReviewType.EXPERT,
            cohort="spread-2027", start_date=date(2027, 1, 4),
        )  # fmt: skip
        return built.clock.spread

    assert spec(Settings(), "137412") == daily_offset("137412", WINDOW)
    assert spec(Settings(), "105962") == daily_offset("105962", WINDOW) != daily_offset("137412", WINDOW)
    assert spec(Settings(daily_spread_minutes=0), "137412") == timedelta(0)


async def test_a_spread_cycle_opens_its_stage_after_its_offset_and_replays(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    urn = "137412"
    offset = daily_offset(urn, WINDOW)
    spread = factories.cycle_spec(urn=urn, clock=factories.REAL_SPEED.model_copy(update={"spread": offset}))
    plain = factories.cycle_spec(urn="105962")
    opens = at_london(factories.CALENDAR.next_school_day(spread.start_date + timedelta(days=7)), time(8, 0))
    async with running_worker(engine.client, pool, engine.task_queue):
        handle = await engine.start(spread)
        await engine.start(plain)
        # Onboarding opens on the first day (the spread cycle after its offset), self-evaluation on its own day
        # once onboarding is done.
        await engine.advance_to(spread.cycle_id, at_london(spread.start_date, time(8)) + WINDOW + timedelta(minutes=1))
        for cycle_id in (spread.cycle_id, plain.cycle_id):
            await engine.submit(cycle_id, "onboarding", factories.onboarding())
        await engine.advance_to(spread.cycle_id, opens + WINDOW + timedelta(hours=1))

        async def opened_at(cycle_id: str) -> datetime | None:
            events = await list_events(pool, cycle_id, types=["StageOpened"])
            found = [e for e in events if e.data["stage"] == "self_evaluation"]
            return datetime.fromisoformat(found[0].data["at"]) if found else None

        async def both_opened() -> bool:
            return None not in (await opened_at(spread.cycle_id), await opened_at(plain.cycle_id))

        await eventually(both_opened, "self-evaluation opened in both cycles")
        plain_at, spread_at = await opened_at(plain.cycle_id), await opened_at(spread.cycle_id)
        assert plain_at is not None and spread_at is not None
        # The time-skipping server fires a timer on its moment; a second covers the task's own run.
        assert opens <= plain_at < opens + timedelta(seconds=1), plain_at
        assert opens + offset <= spread_at < opens + offset + timedelta(seconds=1), (spread_at, offset)
        history = await handle.fetch_history()
    markers = [str(e.marker_recorded_event_attributes.details) for e in history.events]
    assert any(SPREAD_PATCH in marker for marker in markers), "the spread is behind workflow.patched"
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        data_converter=pydantic_data_converter,
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
        ),
    )
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None, replayed.replay_failure
