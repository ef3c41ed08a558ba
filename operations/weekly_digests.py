"""The facilitators' weekly digest as a Temporal Schedule, made or brought up to date idempotently by `cis setup`
and `cis dev` (the deploy step, run once, not every worker: two workers starting together would race to update it).

Without a time scale the Schedule starts a DigestWeekWorkflow every Monday at the start of the working day, London
time (the run waits for the week's first school day when Monday is a holiday). Under a time scale (the dev stack:
`seconds_per_week`) a Schedule cannot follow cycle time, so it starts one every `seconds_per_week` seconds of real
time, with the workflow's clock anchored when the Schedule was made: one run per cycle week, whatever its weekday.
`temporal schedule list` shows it; `temporal schedule trigger --schedule-id weekly-digest` sends the week's digests
now to whoever has not had them.
"""

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Literal

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.client import SchedulePolicy as TemporalSchedulePolicy

from domain.cycle_clock import CycleClock
from domain.london_time import LONDON
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from workflows.digest_week import DigestWeekInput, DigestWeekWorkflow

WEEKLY_DIGEST_SCHEDULE_ID = "weekly-digest"
# Temporal names each run after this and the moment it was due (weekly-digest-week-2027-01-18T08:00:00Z).
DIGEST_WEEK_WORKFLOW_ID = "weekly-digest-week"
MONDAY = 1  # Temporal counts days of the week from Sunday, 0
# Missed while Temporal was down: still sent within the week (the run sends the week's digest whenever it starts).
CATCHUP_REAL_TIME = timedelta(days=4)
# The server's smallest catch-up window.
CATCHUP_AT_LEAST = timedelta(seconds=10)

Outcome = Literal["created", "updated", "unchanged"]


def digest_week_input(calendar: SchoolCalendar, clock: CycleClock) -> DigestWeekInput:
    return DigestWeekInput(calendar=calendar, policy=SchedulePolicy(), clock=clock)


def digest_schedule(task_queue: str, week: DigestWeekInput) -> Schedule:
    action = ScheduleActionStartWorkflow(
        DigestWeekWorkflow.run, week, id=DIGEST_WEEK_WORKFLOW_ID, task_queue=task_queue
    )
    time_scale = week.clock.seconds_per_week
    if time_scale is None:
        starts = week.policy.working_hours[0]
        spec = ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_week=[ScheduleRange(MONDAY)],
                    hour=[ScheduleRange(starts.hour)],
                    minute=[ScheduleRange(starts.minute)],
                )
            ],
            time_zone_name=str(LONDON),
        )
        catchup = CATCHUP_REAL_TIME
    else:
        cycle_week = timedelta(seconds=time_scale)
        spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=cycle_week)])
        catchup = max(cycle_week, CATCHUP_AT_LEAST)
    # A run still retrying a refusing mail server when the next is due: the next is skipped, not piled up.
    return Schedule(
        action=action,
        spec=spec,
        policy=TemporalSchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=catchup),
    )


async def ensure_weekly_digest(
    client: Client, task_queue: str, calendar: SchoolCalendar, time_scale: float | None = None
) -> Outcome:
    """Make the Schedule, or bring an existing one up to date; an up-to-date one is left alone (a scaled clock keeps
    its anchor, so restarting the dev stack does not take its digest back to weeks already sent), and so is its
    state (an operator's pause stays)."""
    # A scaled clock is anchored now: cycle time equals real time at the Schedule's making.
    now = datetime.now(UTC)
    clock = CycleClock(seconds_per_week=time_scale).anchored(now, now)
    try:
        await client.create_schedule(
            WEEKLY_DIGEST_SCHEDULE_ID, digest_schedule(task_queue, digest_week_input(calendar, clock))
        )
    except ScheduleAlreadyRunningError:
        pass
    else:
        return "created"
    outcome: Outcome = "unchanged"

    async def bring_up_to_date(current: ScheduleUpdateInput) -> ScheduleUpdate | None:
        nonlocal outcome
        schedule = current.description.schedule
        action = schedule.action
        week = digest_week_input(calendar, clock)
        if isinstance(action, ScheduleActionStartWorkflow) and action.workflow == DigestWeekWorkflow.__name__:
            [running] = await client.data_converter.decode(list(action.args), [DigestWeekInput])
            if isinstance(running, DigestWeekInput) and running.clock.seconds_per_week == time_scale:
                week = digest_week_input(calendar, running.clock)
                if running == week and action.task_queue == task_queue:
                    outcome = "unchanged"
                    return None
        outcome = "updated"
        return ScheduleUpdate(schedule=dataclasses.replace(digest_schedule(task_queue, week), state=schedule.state))

    await client.get_schedule_handle(WEEKLY_DIGEST_SCHEDULE_ID).update(bring_up_to_date)
    return outcome
