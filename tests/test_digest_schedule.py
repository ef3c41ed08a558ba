"""The weekly digest's Temporal Schedule, on the dev server (the time-skipping server has no Schedules:
temporalio/sdk-java#1954): made once and left alone when up to date, visible to `temporal schedule list`, sending
the week's digests when triggered; under the dev stack's time scale it runs once per cycle week by itself."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from domain.cycle_clock import CycleClock
from domain.cycle_spec import cycle_workflow_id
from domain.london_time import LONDON
from domain.school_calendar import SchoolCalendar
from operations.histories import export_scheduled_runs, replay_files
from operations.weekly_digests import MONDAY, WEEKLY_DIGEST_SCHEDULE_ID, ensure_weekly_digest
from store.read_models import list_prompts
from tests import factories
from tests.conftest import DEV_SERVER
from tests.engine import running_worker
from tests.eventually import eventually
from tests.smtp_server import SmtpServer
from worker import replayer
from workflows.digest_week import DigestWeekInput
from workflows.review_cycle import ReviewCycleWorkflow

MINE = "hub-lead@hub.example"  # tests/factories.py's facilitator
THEIRS = "other-hub@hub.example"
# Every weekday a school day: a digest is due in whichever week the test runs (term or holiday).
EVERY_WEEKDAY = SchoolCalendar(id="every-weekday", name="Every weekday")
# Cycles a few seconds a week: overdue (and escalated to their facilitator) within seconds, closing minutes later.
CYCLE_WEEK = 6.0
DIGEST_WEEK = 5.0


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


async def test_the_digest_schedule_sends_each_week_and_is_made_once(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, smtp: SmtpServer, tmp_path: Path
) -> None:
    now = datetime.now(LONDON)
    if now.weekday() == 0 and now.time() < time(8):
        pytest.skip("Monday before 08:00 in London: this week's digest is not due yet, a triggered run would wait")
    client = dev_env.client
    task_queue = f"digest-{uuid.uuid4().hex[:8]}"
    fast = CycleClock(seconds_per_week=CYCLE_WEEK)
    specs = [
        factories.cycle_spec(urn="100070", deliver_mail=True, clock=fast),
        factories.cycle_spec(urn="100071", deliver_mail=True, clock=fast, facilitator_email=THEIRS),
    ]
    async with running_worker(client, pool, task_queue, smtp_port=smtp.port):
        for spec in specs:
            await client.start_workflow(
                ReviewCycleWorkflow.run, spec, id=cycle_workflow_id(spec.cycle_id), task_queue=task_queue
            )

        async def escalated() -> bool:
            for spec in specs:
                if not any(r.kind == "escalation" for r in await list_prompts(pool, spec.cycle_id)):
                    return False
            return True

        await eventually(escalated, "both cycles overdue, escalated to their facilitators", tries=600)

        assert await ensure_weekly_digest(client, task_queue, EVERY_WEEKDAY) == "created"
        assert await ensure_weekly_digest(client, task_queue, EVERY_WEEKDAY) == "unchanged"
        schedule = client.get_schedule_handle(WEEKLY_DIGEST_SCHEDULE_ID)
        described = (await schedule.describe()).schedule
        [weekly] = described.spec.calendars
        assert [(r.start, r.end) for r in weekly.day_of_week] == [(MONDAY, MONDAY)]
        assert [r.start for r in weekly.hour] == [8] and [r.start for r in weekly.minute] == [0]
        assert described.spec.time_zone_name == "Europe/London"
        listing = await asyncio.create_subprocess_exec(
            str(DEV_SERVER),
            *("schedule", "list", "--address", client.service_client.config.target_host),
            stdout=asyncio.subprocess.PIPE,
        )
        listed, _ = await listing.communicate()
        assert listing.returncode == 0
        assert WEEKLY_DIGEST_SCHEDULE_ID in listed.decode(), "what an operator sees with `temporal schedule list`"

        await schedule.trigger()
        await eventually(lambda: bool(smtp.inbox.to(MINE) and smtp.inbox.to(THEIRS)), "both digests", tries=600)

        async def recorded() -> bool:
            count = await pool.fetchval(
                "SELECT count(*) FROM events WHERE type = 'PromptSent' AND data->>'digest' = 'true'"
            )
            return bool(count == len(specs))

        await eventually(recorded, "a PromptSent of each digest's escalation")
        first_week = {str(smtp.inbox.to(email)[0]["Message-ID"]) for email in (MINE, THEIRS)}

        # The dev stack's time scale: a Schedule keeps real time, so it fires every cycle week of real seconds.
        assert await ensure_weekly_digest(client, task_queue, EVERY_WEEKDAY, DIGEST_WEEK) == "updated"
        scaled = (await schedule.describe()).schedule
        assert [i.every for i in scaled.spec.intervals] == [timedelta(seconds=DIGEST_WEEK)]
        assert isinstance(scaled.action, ScheduleActionStartWorkflow)
        [week] = await client.data_converter.decode(list(scaled.action.args), [DigestWeekInput])
        assert await ensure_weekly_digest(client, task_queue, EVERY_WEEKDAY, DIGEST_WEEK) == "unchanged"
        [kept] = await client.data_converter.decode(
            list((await schedule.describe()).schedule.action.args),  # type: ignore[attr-defined]
            [DigestWeekInput],
        )
        assert kept == week, "a restarted dev stack keeps the digest's clock, and the weeks it has sent"

        def next_week() -> bool:
            return all(len({str(m["Message-ID"]) for m in smtp.inbox.to(e)} - first_week) >= 1 for e in (MINE, THEIRS))

        await eventually(next_week, "a later cycle week's digests, with nobody triggering them", tries=800)
        await schedule.delete()
        # What `cis histories export` adds to a cohort's histories: the Schedule's latest runs, which replay.
        exported = await export_scheduled_runs(client, WEEKLY_DIGEST_SCHEDULE_ID, tmp_path, latest=3)
        assert 2 <= len(exported) <= 3 and all(e.workflow_id.startswith("weekly-digest-week-") for e in exported)
        replayed = await replay_files(replayer(), [e.path for e in exported])
        assert [r.failure for r in replayed] == [None] * len(exported)

    for email in (MINE, THEIRS):
        ids = [str(m["Message-ID"]) for m in smtp.inbox.to(email)]
        assert len(ids) == len(set(ids)), f"{email}: a digest twice"
