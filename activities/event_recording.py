"""The activity that appends a workflow's domain events to the event store.

Prompts are events too (PromptIssued): their projection is the durable outbox, so
issuing a prompt and recording it are one transaction and one retry story.

Three ways an append can fail, three answers:
- the store is down or busy: the activity fails and Temporal retries it, for as long as it takes;
- the facts cannot be stored as they are (a value PostgreSQL refuses): retrying cannot help, so the failure
  is non-retryable (PERMANENT_RECORDING_FAILURE) and the workflow records that it needs attention;
- the stream is not where the workflow thinks (WrongExpectedVersion, IdempotencyConflict): non-retryable
  too; the workflow fails its task, so Temporal shows it and an operator looks, and the cycle does not end.
"""

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.events import AppendRequest
from store.errors import IdempotencyConflict, WrongExpectedVersion
from store.event_store import EventStore

RECORD_EVENTS = "record_events"
PERMANENT_RECORDING_FAILURE = "PermanentRecordingFailure"
STORE_ANOMALIES = (WrongExpectedVersion.__name__, IdempotencyConflict.__name__)


class EventRecorder:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn(name=RECORD_EVENTS)
    async def record_events(self, request: AppendRequest) -> int:
        """Append and return the stream's version; a retry of a batch already stored appends nothing."""
        try:
            result = await self._store.append(request)
        except (WrongExpectedVersion, IdempotencyConflict) as error:
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
        except (asyncpg.DataError, UnicodeError) as error:
            # Class 22 (a NUL, a date out of range, an unpaired surrogate): the same batch fails the same way.
            types = ", ".join(sorted({new.event.type for new in request.events}))
            raise ApplicationError(
                f"{types} could not be stored: {type(error).__name__}: {error}",
                type=PERMANENT_RECORDING_FAILURE,
                non_retryable=True,
            ) from error
        activity.logger.info(
            "events recorded",
            extra={
                "cycle_id": request.events[0].event.cycle_id,
                "stream_id": request.stream_id,
                "version": result.version,
                "duplicate": result.duplicate,
            },
        )
        return result.version
