"""A workflow's side of its event stream: ordered, numbered, idempotent appends.

Event ids derive from the stream and the event's version, which the workflow knows
deterministically (it is the only writer of its stream), so an activity retried
after a crash, or a workflow task replayed, appends nothing twice.
"""

import asyncio
import uuid
from datetime import timedelta
from typing import Protocol

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.boundary_types import storable_line
from domain.events import AppendRequest, DomainEvent, EventMetadata, NeedsAttention, NewEvent

with workflow.unsafe.imports_passed_through():
    from activities.event_recording import PERMANENT_RECORDING_FAILURE, RECORD_EVENTS, STORE_ANOMALIES

EVENT_NAMESPACE = uuid.UUID("0b6a3f0e-8d6e-4f77-9d38-2f6f2b7d9a41")

# The store may be down for a while (a restart, a failover): keep trying, with backoff, rather than lose a fact.
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[*STORE_ANOMALIES, PERMANENT_RECORDING_FAILURE],
)
# An append is one short transaction. When the worker running it dies (a deploy, the OOM killer), Temporal only
# retries it once this has passed, and the cycle (and any person whose Update waits on it) waits that long: 10 s,
# not 30. An attempt that outlasts it is harmless: the retry appends the same event ids, stored once.
RECORD_TIMEOUT = timedelta(seconds=10)


class StoreAnomaly(RuntimeError):
    """The stream is not where this workflow left it. Deliberately not an ApplicationError: it fails the
    workflow *task*, which Temporal retries and shows, instead of ending a cycle that has months to run."""


class NotRecorded(ApplicationError):
    """Raised out of an Update whose facts could not be stored: the person is told, the cycle carries on."""


def event_id(stream_id: str, version: int) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{stream_id}/{version}"))


class PromptPoster(Protocol):
    async def post(self, events: list[DomainEvent]) -> None: ...


class EventLog:
    def __init__(
        self, stream_id: str, correlation_id: str, version: int = 0, poster: PromptPoster | None = None
    ) -> None:
        self.stream_id = stream_id
        self.correlation_id = correlation_id
        self.version = version
        self.recorded = 0
        self.poster = poster
        self._lock = asyncio.Lock()

    async def record(self, events: list[DomainEvent], actor: str = "system", causation: str | None = None) -> None:
        if not events:
            return
        async with self._lock:
            info = workflow.info()
            metadata = EventMetadata(
                actor=actor,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                correlation_id=self.correlation_id,
                causation_id=causation,
            )
            batch = [
                NewEvent(event_id=event_id(self.stream_id, self.version + i + 1), event=event, metadata=metadata)
                for i, event in enumerate(events)
            ]
            try:
                await self._append(batch)
            except ActivityError as error:
                cause = error.cause
                kind = cause.type if isinstance(cause, ApplicationError) else None
                if kind in STORE_ANOMALIES:
                    raise StoreAnomaly(f"{self.stream_id}: {cause}") from error
                if kind != PERMANENT_RECORDING_FAILURE:
                    raise
                await self._needs_attention(events, str(cause.message if isinstance(cause, ApplicationError) else ""))
                if workflow.current_update_info() is not None:
                    raise NotRecorded(
                        "this could not be recorded and nothing was changed in the record; the team has been alerted",
                        type="NotRecorded",
                        non_retryable=True,
                    ) from None
                return
            # Recorded first, then posted: a prompt is in the outbox before anyone tries to send it.
            if self.poster is not None:
                await self.poster.post(events)

    async def _append(self, batch: list[NewEvent]) -> None:
        request = AppendRequest(stream_id=self.stream_id, expected_version=self.version, events=batch)
        await workflow.execute_activity(
            RECORD_EVENTS,
            request,
            result_type=int,
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RECORD_RETRY,
        )
        self.version += len(batch)
        self.recorded += len(batch)

    async def _needs_attention(self, failed: list[DomainEvent], error: str) -> None:
        """Record, in place of facts the store refused, that a person must look; the workflow carries on."""
        info = workflow.info()
        event = NeedsAttention(
            cycle_id=self.correlation_id,
            at=failed[0].at,
            reason=storable_line(error),
            source=info.workflow_id,
            failed_types=sorted({e.type for e in failed}),
        )
        metadata = EventMetadata(
            actor="system", workflow_id=info.workflow_id, run_id=info.run_id, correlation_id=self.correlation_id
        )
        workflow.logger.error("needs attention: %s", event.reason)
        new = NewEvent(event_id=event_id(self.stream_id, self.version + 1), event=event, metadata=metadata)
        try:
            await self._append([new])
        except ActivityError as error:
            # Not even a bounded, clean notice can be stored: only an operator can help now.
            raise StoreAnomaly(f"{self.stream_id}: needs attention, and that could not be recorded either") from error
