"""Start a cycle, send it people's input, read it: the client side of ReviewCycleWorkflow."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.cycle_spec import CycleSpec, cycle_workflow_id, follow_up_workflow_id
from domain.maturity_model import MaturityModel
from domain.requests import (
    AttendanceRequest,
    CalendarCorrectionRequest,
    ContactsRequest,
    ExtendRequest,
    FollowUpMeetingRequest,
    FollowUpNotesRequest,
    ReassignRequest,
    Receipt,
    ReviewDayRequest,
    ReviewTeamRequest,
    SubmitRequest,
    WithdrawRequest,
)
from domain.submissions import SubmissionKind
from domain.timeline import CycleView
from workflows.follow_up import FollowUpView, FollowUpWorkflow
from workflows.review_cycle import CycleOutcome, ReviewCycleWorkflow


class Refused(Exception):
    """The workflow turned the request down; the message names the field and the rule."""


class UnknownCycle(LookupError):
    """No such cycle (or follow-up) in Temporal."""


class CycleUnavailable(Exception):
    """The cycle's workflow exists but cannot answer now (its task is failing, or Temporal is busy):
    readers show what the store holds instead."""


# A query answers in milliseconds; one that does not is stuck, and a page must not wait on it.
QUERY_TIMEOUT = timedelta(seconds=3)


class StartResult(BaseModel):
    cycle_id: str
    workflow_id: str
    started: bool


async def start_once(client: Client, workflow: Any, argument: BaseModel, workflow_id: str, task_queue: str) -> bool:
    """Start a workflow unless one with this id was ever started; True when this call started it."""
    try:
        await client.start_workflow(
            workflow,
            argument,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except Exception as error:  # the SDK raises WorkflowAlreadyStartedError, or an RPCError from some servers
        if type(error).__name__ == "WorkflowAlreadyStartedError" or (
            isinstance(error, RPCError) and "already" in str(error).lower()
        ):
            return False
        raise
    return True


async def start_cycle(client: Client, spec: CycleSpec, task_queue: str) -> StartResult:
    """Start one cycle; a cycle with the same business key is never started twice. Its input names the model and
    calendar by reference (about 1.7 KB instead of 18 KB); the worker registered that content when it started
    (operations/content_registration.py) and the cycle resolves it from there."""
    workflow_id = cycle_workflow_id(spec.cycle_id)
    started = await start_once(client, ReviewCycleWorkflow.run, spec.by_reference(), workflow_id, task_queue)
    return StartResult(cycle_id=spec.cycle_id, workflow_id=workflow_id, started=started)


def cycle_handle(client: Client, cycle_id: str) -> WorkflowHandle[ReviewCycleWorkflow, CycleOutcome]:
    return client.get_workflow_handle_for(ReviewCycleWorkflow.run, cycle_workflow_id(cycle_id))


def _refusal_text(error: WorkflowUpdateFailedError) -> str:
    cause = error.cause
    if isinstance(cause, ApplicationError) or cause is not None:
        return str(cause.message if isinstance(cause, ApplicationError) else cause)
    return str(error)


async def update_workflow(handle: WorkflowHandle[Any, Any], update: Any, request: BaseModel) -> Receipt:
    try:
        result: Receipt = await handle.execute_update(update, request, result_type=Receipt)
    except WorkflowUpdateFailedError as error:
        raise Refused(_refusal_text(error)) from None
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise UnknownCycle(f"no running workflow {handle.id}") from None
        raise CycleUnavailable(f"{handle.id} cannot take this just now ({error.status.name})") from None
    return result


async def update_cycle(client: Client, cycle_id: str, update: Any, request: BaseModel) -> Receipt:
    """An Update to a cycle. One that has ended refuses it in the words its validator uses while it is ending
    ("cycle: is lapsed; ..."), so whoever sends it just too late is told why, not that no workflow runs."""
    handle = cycle_handle(client, cycle_id)
    try:
        return await update_workflow(handle, update, request)
    except UnknownCycle:
        ended = await ended_as(handle)
        if ended is None:
            raise
        raise Refused(f"cycle: is {ended}; nothing more can be changed") from None


async def ended_as(handle: WorkflowHandle[ReviewCycleWorkflow, CycleOutcome]) -> str | None:
    """How a cycle that no longer runs ended (completed, lapsed, withdrawn; or how Temporal stopped it);
    None when there is no such cycle (never started, or its history is past the namespace's retention)."""
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    if description.status is None or description.status is WorkflowExecutionStatus.RUNNING:
        return None
    if description.status is WorkflowExecutionStatus.COMPLETED:
        return str((await handle.result()).status)
    return f"stopped ({description.status.name.lower().replace('_', ' ')} in Temporal)"


async def submit(client: Client, cycle_id: str, kind: str, data: dict[str, Any], actor: str = "institution") -> Receipt:
    request = SubmitRequest(kind=kind, data=data, actor=actor)
    if kind == SubmissionKind.CHECK_IN.value:
        follow_up = client.get_workflow_handle_for(FollowUpWorkflow.run, follow_up_workflow_id(cycle_id))
        try:
            return await update_workflow(follow_up, FollowUpWorkflow.check_in, request)
        except UnknownCycle:
            raise Refused(
                f"check-in: {cycle_id} has no follow-up running; it starts when the action plan is agreed"
            ) from None
    return await update_cycle(client, cycle_id, ReviewCycleWorkflow.submit, request)


async def _follow_up_update(client: Client, cycle_id: str, update: Any, request: BaseModel) -> Receipt:
    follow_up = client.get_workflow_handle_for(FollowUpWorkflow.run, follow_up_workflow_id(cycle_id))
    try:
        return await update_workflow(follow_up, update, request)
    except UnknownCycle:
        raise Refused(
            f"meeting: {cycle_id} has no follow-up running; it runs from the action plan to the last check-in"
        ) from None


async def schedule_follow_up_meeting(client: Client, cycle_id: str, request: FollowUpMeetingRequest) -> Receipt:
    """The facilitator or review lead schedules (or moves) the follow-up meeting on the action plan."""
    return await _follow_up_update(client, cycle_id, FollowUpWorkflow.schedule_meeting, request)


async def follow_up_view(client: Client, cycle_id: str) -> FollowUpView | None:
    """Where the follow-up stands (its round, its meeting); None when it is not running."""
    handle = client.get_workflow_handle_for(FollowUpWorkflow.run, follow_up_workflow_id(cycle_id))
    try:
        return await handle.query(FollowUpWorkflow.status, datetime.now(UTC), rpc_timeout=QUERY_TIMEOUT)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return None
        raise CycleUnavailable(f"{handle.id} cannot answer just now ({error.status.name})") from None
    except WorkflowQueryFailedError:
        return None  # a follow-up that has finished its rounds


async def record_follow_up_notes(client: Client, cycle_id: str, request: FollowUpNotesRequest) -> Receipt:
    return await _follow_up_update(client, cycle_id, FollowUpWorkflow.record_meeting_notes, request)


async def extend(client: Client, cycle_id: str, request: ExtendRequest) -> Receipt:
    return await update_cycle(client, cycle_id, ReviewCycleWorkflow.extend, request)


async def withdraw(client: Client, cycle_id: str, request: WithdrawRequest) -> Receipt:
    return await update_cycle(client, cycle_id, ReviewCycleWorkflow.withdraw, request)


async def reassign(client: Client, cycle_id: str, request: ReassignRequest) -> Receipt:
    return await update_cycle(client, cycle_id, ReviewCycleWorkflow.reassign, request)


async def change_contacts(client: Client, cycle_id: str, request: ContactsRequest) -> Receipt:
    return await update_cycle(client, cycle_id, ReviewCycleWorkflow.change_contacts, request)


async def assign_review_team(client: Client, cycle_id: str, request: ReviewTeamRequest) -> Receipt:
    return await update_cycle(client, cycle_id, ReviewCycleWorkflow.assign_review_team, request)


async def schedule_review_day(client: Client, cycle_id: str, request: ReviewDayRequest) -> Receipt:
    return await update_cycle(client, cycle_id, ReviewCycleWorkflow.schedule_review_day, request)


async def _query[T](
    client: Client, cycle_id: str, ask: Callable[[WorkflowHandle[ReviewCycleWorkflow, CycleOutcome]], Awaitable[T]]
) -> T:
    try:
        return await ask(cycle_handle(client, cycle_id))
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise UnknownCycle(f"no cycle {cycle_id}") from None
        raise CycleUnavailable(f"{cycle_id} cannot answer just now ({error.status.name})") from None
    except WorkflowQueryFailedError as error:
        raise CycleUnavailable(f"{cycle_id} cannot answer just now ({error.message})") from None


async def cycle_view(client: Client, cycle_id: str, asked_at: datetime | None = None) -> CycleView:
    """`asked_at`: the moment asked about, this machine's clock by default (inside a query the workflow's own
    clock stands at its last activity); a test on the time-skipping server passes the server's time."""
    moment = asked_at or datetime.now(UTC)
    return await _query(
        client,
        cycle_id,
        lambda handle: handle.query(ReviewCycleWorkflow.status, moment, rpc_timeout=QUERY_TIMEOUT),
    )


async def cycle_model(client: Client, cycle_id: str) -> MaturityModel:
    """The maturity model the cycle was started with (and records)."""
    return await _query(
        client, cycle_id, lambda handle: handle.query(ReviewCycleWorkflow.maturity_model, rpc_timeout=QUERY_TIMEOUT)
    )


async def correct_calendar(client: Client, cycle_id: str, request: CalendarCorrectionRequest) -> Receipt:
    """Move a running cycle onto a corrected version of its calendar; its dates still to come follow it."""
    return await update_cycle(client, cycle_id, ReviewCycleWorkflow.correct_calendar, request)


async def expect_attendance(client: Client, cycle_id: str, request: AttendanceRequest) -> Receipt:
    return await update_workflow(cycle_handle(client, cycle_id), ReviewCycleWorkflow.expect_attendance, request)
