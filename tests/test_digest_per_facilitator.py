"""A week of facilitator digests as the Schedule runs it (DigestWeekWorkflow, on the time-skipping server: the
Schedule itself is tested on the dev server, tests/test_digest_schedule.py): each facilitator's digest is its own
send with its own retries (an address refused for good is not retried and holds up nobody), every digest sent is a
PromptSent of what it carried, and a second run in the same week sends nothing twice and records nothing twice."""

from collections.abc import AsyncIterator
from datetime import date, datetime, time

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.london_time import LONDON, at_london
from store.read_models import list_prompts
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import Engine, running_worker, save_history
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, dated
from workflows.digest_week import DigestWeekInput, DigestWeekWorkflow

START = date(2027, 1, 4)
MINE = "hub-lead@hub.example"  # tests/factories.py's facilitator
THEIRS = "other-hub@hub.example"
GONE = "left-the-hub@hub.example"  # an address the mail server refuses for good


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def engine(env: WorkflowEnvironment, pool: asyncpg.Pool) -> Engine:
    return Engine(env, pool)


async def digest_events(pool: asyncpg.Pool) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT data FROM events WHERE type = 'PromptSent' AND data->>'digest' = 'true' ORDER BY position"
    )
    return [dict(row["data"]) for row in rows]


async def test_each_facilitators_digest_goes_on_its_own_with_its_own_retries_and_is_recorded_once(
    engine: Engine, smtp: SmtpServer
) -> None:
    """One facilitator's mail server turns the digest away for a morning: nobody else waits, the retry sends it
    once, and each digest is a PromptSent of the escalation it carried. Run again that week (an operator's
    `temporal schedule trigger`), nothing goes twice and the same PromptSents are stored once."""
    mine = factories.cycle_spec(urn="100060", deliver_mail=True)
    theirs = factories.cycle_spec(urn="100061", deliver_mail=True, facilitator_email=THEIRS)
    gone = factories.cycle_spec(urn="100062", deliver_mail=True, facilitator_email=GONE)
    clock = CohortTime(engine.env, START)
    # As the Schedule makes it: cycle time on the test's dates, whatever day the test runs.
    week = DigestWeekInput(
        calendar=factories.CALENDAR,
        clock=factories.REAL_SPEED.anchored(at_london(START, time(8)), datetime.now(LONDON)),
    )
    smtp.inbox.busy_addresses.add(THEIRS)
    smtp.inbox.refused_addresses.add(GONE)
    async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
        await engine.start(mine)
        await engine.start(theirs)
        await engine.start(gone)
        await clock.on(date(2027, 1, 18), time(7))
        # Monday, before the working day: the Schedule's moment; the run waits for 08:00.
        run = await engine.client.start_workflow(
            DigestWeekWorkflow.run, week, id="weekly-digest-week-1", task_queue=engine.task_queue
        )
        await clock.on(date(2027, 1, 18), time(9))
        await eventually(lambda: bool(smtp.inbox.to(MINE)), "the first facilitator's digest")
        await clock.on(date(2027, 1, 18), time(11))
        assert not smtp.inbox.to(THEIRS), "refused for now"
        smtp.inbox.busy_addresses.clear()
        sent = await run.result()
        await save_history(run, "digest_week")

        assert sorted(s.facilitator_email for s in sent) == [MINE, THEIRS], "refused for good: not retried"
        recorded = await digest_events(engine.pool)
        assert len(recorded) == 2, recorded

        again = await engine.client.start_workflow(
            DigestWeekWorkflow.run, week, id="weekly-digest-week-2", task_queue=engine.task_queue
        )
        resent = await again.result()

    assert sorted(s.facilitator_email for s in resent) == [MINE, THEIRS], "found sent, returned as sent"
    assert [s.model_dump() for s in sorted(resent, key=lambda s: s.facilitator_email)] == [
        s.model_dump() for s in sorted(sent, key=lambda s: s.facilitator_email)
    ]
    assert await digest_events(engine.pool) == recorded, "the same PromptSents, stored once"
    assert len(smtp.inbox.to(MINE)) == 1 and len(smtp.inbox.to(THEIRS)) == 1
    assert dated(smtp.inbox.to(MINE)[0]).strftime("%a %Y-%m-%d %H:%M") == "Mon 2027-01-18 08:00"
    assert not smtp.inbox.to(GONE)
    held = next(r for r in await list_prompts(engine.pool, gone.cycle_id) if r.kind == "escalation")
    assert held.status == "queued", "still held, for next week's digest"
    by_recipient = {str(event["recipient_email"]): event for event in recorded}
    for spec, email in [(mine, MINE), (theirs, THEIRS)]:
        escalation = next(r for r in await list_prompts(engine.pool, spec.cycle_id) if r.kind == "escalation")
        assert escalation.status == "merged"
        event = by_recipient[email]
        assert event["cycle_id"] == spec.cycle_id and event["prompt_ids"] == [escalation.prompt_id]
        assert event["message_id"] == str(smtp.inbox.to(email)[0]["Message-ID"]) == escalation.message_id
