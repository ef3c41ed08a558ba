"""WeeklyDigestWorkflow: every week, on its first school day at 08:00, each facilitator gets one email
listing their overdue and stalled institutions, instead of an escalation email per institution.

One run per week (continue-as-new), so its history never grows. Since the digest runs on a Temporal Schedule
(workflows/digest_week.py), this loop is no longer started: a loop already running sends its next week the new way
(per facilitator, workflow.patched) and ends there, the Schedule carrying on; histories from before replay as they
ran.
"""

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

from domain.cycle_clock import CycleClock
from domain.events import DomainEvent, PromptSent
from domain.london_time import at_london, london_date
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from workflows.cycle_time import cycle_now, sleep_until
from workflows.digest_week import SEND_RETRY, WEEKLY_DIGEST_ID, send_digests
from workflows.event_log import EventLog
from workflows.mail_queue import mail_queue

with workflow.unsafe.imports_passed_through():
    from activities.facilitator_digest import SEND_WEEKLY_DIGESTS, DigestRun, DigestSent

# A loop that reaches its next week on this code sends it per facilitator and ends: the Schedule has taken over.
HANDED_TO_SCHEDULE = "digest-on-a-schedule"


class WeeklyDigestInput(BaseModel):
    calendar: SchoolCalendar
    policy: SchedulePolicy = SchedulePolicy()
    clock: CycleClock = CycleClock()
    stream_version: int = 0


def next_digest_moment(after: datetime, calendar: SchoolCalendar, policy: SchedulePolicy) -> datetime:
    """The first school day of the next week that has one, at the start of the working day."""
    today = london_date(after)
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
    for week in range(8):
        start = monday + timedelta(weeks=week)
        for day in (start + timedelta(days=n) for n in range(5)):
            if calendar.is_school_day(day):
                return at_london(day, policy.working_hours[0])
    return at_london(monday, policy.working_hours[0])


@workflow.defn
class WeeklyDigestWorkflow:
    @workflow.run
    async def run(self, schedule: WeeklyDigestInput) -> None:
        # Under a time scale (the dev stack), weeks pass quickly from the moment the digest first started.
        clock = schedule.clock.anchored(workflow.now(), workflow.now())
        log = EventLog(
            stream_id=f"{WEEKLY_DIGEST_ID}-{workflow.info().first_execution_run_id[:8]}",
            correlation_id=WEEKLY_DIGEST_ID,
            version=schedule.stream_version,
        )
        moment = next_digest_moment(cycle_now(clock), schedule.calendar, schedule.policy)
        await sleep_until(clock, moment, lambda: False)
        run = DigestRun(week_of=london_date(moment), dated=moment)
        if workflow.patched(HANDED_TO_SCHEDULE):
            await send_digests(run, clock)
            return
        sent = await workflow.execute_activity(
            SEND_WEEKLY_DIGESTS,
            run,
            result_type=list[DigestSent],
            task_queue=mail_queue(),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=SEND_RETRY,
        )
        events: list[DomainEvent] = [
            PromptSent(
                cycle_id=cycle_id,
                at=cycle_now(clock),
                prompt_ids=ids,
                recipient_email=digest.facilitator_email,
                message_id=digest.message_id,
                digest=True,
            )
            for digest in sent
            for cycle_id, ids in digest.held_prompt_ids.items()
        ]
        await log.record(events, causation=f"weekly:{london_date(moment)}")
        workflow.continue_as_new(schedule.model_copy(update={"clock": clock, "stream_version": log.version}))
