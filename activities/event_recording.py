"""The activity that appends a workflow's domain events to the event store.

Prompts are events too (PromptIssued): their projection is the durable outbox, so
issuing a prompt and recording it are one transaction and one retry story.
"""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.events import AppendRequest
from store.errors import IdempotencyConflict, WrongExpectedVersion
from store.event_store import EventStore

RECORD_EVENTS = "record_events"


class EventRecorder:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn(name=RECORD_EVENTS)
    async def record_events(self, request: AppendRequest) -> int:
        """Append and return the stream's version; a retry of a batch already stored appends nothing."""
        try:
            result = await self._store.append(request)
        except (WrongExpectedVersion, IdempotencyConflict) as error:
            # Retrying cannot fix a diverged stream: fail loudly so an operator looks.
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
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
