"""DigestWeekWorkflow: one week's facilitator digests, one short run a week started by a Temporal Schedule
(operations/weekly_digests.py makes it).

Each facilitator's digest is its own activity with its own retries: a mail server refusing one facilitator for a
morning delays nobody else's. Every digest sent, on the first attempt or a later one, is recorded as a PromptSent
of the prompts it carried, in a stream of its own per facilitator and week: a run that finds a digest already sent
(a retry after a crash, a second run in the same week) records the very same events, which the store takes once.
"""

import asyncio
import uuid
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from domain.cycle_clock import CycleClock
from domain.events import DomainEvent, PromptSent
from domain.london_time import at_london, london_date
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from workflows.cycle_time import cycle_now, sleep_until
from workflows.event_log import EventLog
from workflows.mail_queue import mail_queue

with workflow.unsafe.imports_passed_through():
    from activities.facilitator_digest import (
        DIGEST_RECIPIENTS,
        SEND_FACILITATOR_DIGEST,
        WEEKLY_NAMESPACE,
        DigestRun,
        DigestSent,
        FacilitatorDigestRun,
    )

WEEKLY_DIGEST_ID = "weekly-digest"
# A mail server may refuse for hours: keep trying, a little less often as it goes on.
SEND_RETRY = RetryPolicy(initial_interval=timedelta(minutes=1), maximum_interval=timedelta(minutes=30))


class DigestWeekInput(BaseModel):
    calendar: SchoolCalendar
    policy: SchedulePolicy = SchedulePolicy()
    clock: CycleClock = CycleClock()


def digest_moment_of_week(now: datetime, calendar: SchoolCalendar, policy: SchedulePolicy) -> datetime | None:
    """The digest's moment in the week of `now`: its first school day, at the start of the working day; None in a
    week with no school day (a holiday week has no digest)."""
    today = london_date(now)
    monday = today - timedelta(days=today.weekday())
    for day in (monday + timedelta(days=n) for n in range(5)):
        if calendar.is_school_day(day):
            return at_london(day, policy.working_hours[0])
    return None


@workflow.defn
class DigestWeekWorkflow:
    @workflow.run
    async def run(self, week: DigestWeekInput) -> list[DigestSent]:
        """Started on Monday morning (or, under a time scale, once per cycle week): waits for the week's first school
        day if it is still ahead, then sends. Started later in the week (`temporal schedule trigger`, a catch-up
        after an outage) it sends at once to whoever has not had this week's digest."""
        # The Schedule anchors a scaled clock when it is made; a run started by hand may bring an unanchored one.
        clock = week.clock.anchored(workflow.now(), workflow.now())
        now = cycle_now(clock)
        moment = digest_moment_of_week(now, week.calendar, week.policy)
        if moment is None:
            return []
        await sleep_until(clock, moment, lambda: False)
        return await send_digests(DigestRun(week_of=london_date(moment), dated=max(moment, now)), clock)


async def send_digests(run: DigestRun, clock: CycleClock) -> list[DigestSent]:
    """Every facilitator's digest for the week, side by side, each recorded as soon as it is sent."""
    queue = mail_queue()
    recipients = await workflow.execute_activity(
        DIGEST_RECIPIENTS,
        run,
        result_type=list[str],
        task_queue=queue,
        start_to_close_timeout=timedelta(minutes=2),
        retry_policy=SEND_RETRY,
    )
    outcomes = await asyncio.gather(*(_send_one(run, email, queue, clock) for email in recipients))
    return [sent for sent in outcomes if sent is not None]


async def _send_one(run: DigestRun, email: str, queue: str | None, clock: CycleClock) -> DigestSent | None:
    sent: DigestSent | None
    try:
        sent = await workflow.execute_activity(
            SEND_FACILITATOR_DIGEST,
            FacilitatorDigestRun(week_of=run.week_of, dated=run.dated, facilitator_email=email),
            result_type=DigestSent | None,  # type: ignore[arg-type]
            task_queue=queue,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=SEND_RETRY,
        )
    except ActivityError as refused:
        # Refused for good (an address or a message the server will never take): the others' digests go on; the
        # held prompts stay queued for next week's digest.
        workflow.logger.warning("weekly digest to %s not sent: %s", email, refused.cause)
        return None
    if sent is not None:
        await _record(sent, run.week_of, clock)
    return sent


async def _record(sent: DigestSent, week_of: date, clock: CycleClock) -> None:
    log = EventLog(stream_id=digest_stream_id(sent.facilitator_email, week_of), correlation_id=WEEKLY_DIGEST_ID)
    events: list[DomainEvent] = [
        PromptSent(
            cycle_id=cycle_id,
            at=cycle_now(clock),
            prompt_ids=ids,
            recipient_email=sent.facilitator_email,
            message_id=sent.message_id,
            digest=True,
        )
        for cycle_id, ids in sent.held_prompt_ids.items()
    ]
    await log.record(events, causation=f"weekly:{week_of}")


def digest_stream_id(facilitator: str, week_of: date) -> str:
    """One stream per facilitator and week (the address stays out of it): its events' ids follow from it, so the
    same digest recorded twice is stored once."""
    return f"{WEEKLY_DIGEST_ID}-{week_of.isoformat()}-{uuid.uuid5(WEEKLY_NAMESPACE, facilitator)}"
