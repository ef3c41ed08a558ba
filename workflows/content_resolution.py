"""Resolving content references inside a workflow, and proving the answer is what the reference names.

A local activity reads the registry (its answer is a marker in history, so replay never asks again); the workflow
then recomputes the checksum of what came back. A missing reference or a checksum that does not match is
ContentUnresolved: non-retryable, since no retry makes the registry hold other content.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.boundary_types import storable_line
from domain.content_ref import Content, ContentRef, content_checksum
from domain.maturity_model import MaturityModel
from domain.school_calendar import SchoolCalendar

with workflow.unsafe.imports_passed_through():
    from activities.content_resolving import CONTENT_UNAVAILABLE, RESOLVE_CALENDAR, RESOLVE_MODEL

# Guards the commands a cycle started by reference gives (the resolving markers) against histories from before.
CONTENT_BY_REFERENCE_PATCH = "content-by-reference"
CONTENT_UNRESOLVED = "ContentUnresolved"

# The database may be restarting: keep asking a while; what is not there is not there (non-retryable).
RESOLVE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=[CONTENT_UNAVAILABLE],
)


class ContentUnresolved(ApplicationError):
    def __init__(self, reference: str, detail: str) -> None:
        self.reference = reference
        super().__init__(storable_line(f"{reference}: {detail}"), type=CONTENT_UNRESOLVED, non_retryable=True)


async def resolve_model(ref: ContentRef) -> MaturityModel:
    model = await _resolve(RESOLVE_MODEL, ref, MaturityModel)
    assert isinstance(model, MaturityModel)
    return model


async def resolve_calendar(ref: ContentRef) -> SchoolCalendar:
    calendar = await _resolve(RESOLVE_CALENDAR, ref, SchoolCalendar)
    assert isinstance(calendar, SchoolCalendar)
    return calendar


async def _resolve(activity: str, ref: ContentRef, shape: type[Content]) -> Content:
    try:
        content: Content = await workflow.execute_local_activity(
            activity,
            ref,
            result_type=shape,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RESOLVE_RETRY,
        )
    except ActivityError as error:
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
        raise ContentUnresolved(ref.name, reason) from None
    checksum = content_checksum(content)
    if checksum != ref.checksum:
        raise ContentUnresolved(ref.name, f"the registry's content has checksum {checksum}, not {ref.checksum}")
    return content
