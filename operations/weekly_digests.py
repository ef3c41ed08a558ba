"""Keep the facilitators' weekly digest running: started once per deployment, idempotently."""

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from domain.cycle_clock import CycleClock
from domain.school_calendar import SchoolCalendar
from workflows.weekly_digest import WEEKLY_DIGEST_ID, WeeklyDigestInput, WeeklyDigestWorkflow


async def ensure_weekly_digest(
    client: Client, task_queue: str, calendar: SchoolCalendar, time_scale: float | None = None
) -> None:
    await client.start_workflow(
        WeeklyDigestWorkflow.run,
        WeeklyDigestInput(calendar=calendar, clock=CycleClock(seconds_per_week=time_scale)),
        id=WEEKLY_DIGEST_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
