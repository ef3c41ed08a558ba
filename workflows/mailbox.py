"""MailboxWorkflow: sends a cycle's prompts as email, at sensible times, at most once a day per person.

The cycle, its follow-up and its peer group post prompts here as they issue them. The
mailbox waits for each person's next good moment (a school day, working hours, not a
day they already had mail from this cycle), sends everything of theirs that is due as
one message (a digest when there are several), and records what happened as events.
A mailbox idle for a long time ends; a later post starts it again.
"""

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.boundary_types import storable_line
from domain.events import DomainEvent, NeedsAttention, PromptFailed, PromptIssued, PromptSent, PromptSuppressed
from domain.london_time import london_date
from domain.mail import (
    DeliveryRequest,
    DeliveryResult,
    DeliveryStatus,
    MailboxInput,
    Outgoing,
    Readdress,
    due_batches,
    held_for_weekly_digest,
    mail_key,
    mailbox_workflow_id,
    message_id_for,
    next_moment,
)
from domain.prompts import PromptKind, prompt_events
from domain.recipients import Directory
from domain.stages import ContactRole, ReviewType
from workflows.cycle_time import cycle_now, sleep_until
from workflows.event_log import EventLog
from workflows.mail_queue import mail_queue

with workflow.unsafe.imports_passed_through():
    from activities.mail_delivery import DELIVER_MAIL

# A refused or unreachable server is retried with backoff, for days if need be: a prompt is never dropped.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=30), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=30)
)
IDLE_LIMIT = timedelta(days=120)


@workflow.defn
class MailboxWorkflow:
    @workflow.init
    def __init__(self, mailbox: MailboxInput) -> None:
        self._input = mailbox
        self._pending: list[Outgoing] = list(mailbox.pending)
        self._last_sent: dict[str, date] = dict(mailbox.last_sent)
        self._escalate_to = mailbox.escalate_to
        self._changes = 0
        self._in_flight: set[str] = set()
        self._deliveries: list[asyncio.Task[None]] = []
        stream = mailbox.stream_id or f"{workflow.info().workflow_id}-{workflow.info().first_execution_run_id[:8]}"
        self._log = EventLog(stream_id=stream, correlation_id=mailbox.subject_id, version=mailbox.stream_version)
        self._clock = mailbox.clock

    @workflow.run
    async def run(self, mailbox: MailboxInput) -> None:
        while True:
            now = cycle_now(self._clock)
            waiting = [p for p in self._pending if mail_key(p) not in self._in_flight]
            batches = due_batches(waiting, now, self._last_sent, mailbox.policy, mailbox.calendar)
            for recipient, prompts in batches.items():
                # One person's server refusing for hours must not hold up everyone else's mail.
                self._in_flight.add(recipient)
                self._deliveries.append(asyncio.create_task(self._deliver(recipient, prompts)))
            self._deliveries = [task for task in self._deliveries if not task.done()]
            if batches:
                continue
            idle = not self._in_flight and workflow.all_handlers_finished()
            if idle and workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(self._carried_over())
            moment = next_moment(waiting, now, self._last_sent, mailbox.policy, mailbox.calendar)
            news = self._news_since(self._changes)
            if moment is None:
                try:
                    await workflow.wait_condition(news, timeout=IDLE_LIMIT)
                except TimeoutError:
                    if not self._pending and not self._in_flight and workflow.all_handlers_finished():
                        return
            else:
                await sleep_until(self._clock, moment, news)

    def _news_since(self, changes: int) -> Callable[[], bool]:
        return lambda: self._changes != changes

    @workflow.signal
    def post(self, prompts: list[Outgoing]) -> None:
        known = {p.prompt_id for p in self._pending}
        # Unaddressed prompts (nobody known for the role) stay on record but cannot be sent; CEC's are sent to
        # the address the sender is configured with (CIS_CEC_EMAIL), decided at delivery.
        self._pending += [
            p for p in prompts if p.prompt_id not in known and mail_key(p) and not held_for_weekly_digest(p)
        ]
        self._changes += 1

    @workflow.signal
    def readdress(self, change: Readdress) -> None:
        """Contact changes apply to prompts not yet sent."""
        addresses = change.addresses
        self._pending = [
            p.model_copy(update={"recipient_email": addresses[p.recipient_role]})
            if p.recipient_role in addresses
            else p
            for p in self._pending
        ]
        self._escalate_to = addresses.get(ContactRole.FACILITATOR, self._escalate_to)
        self._changes += 1

    async def _deliver(self, recipient: str, prompts: list[Outgoing]) -> None:
        try:
            await self._send(recipient, prompts)
        finally:
            self._in_flight.discard(recipient)
            self._changes += 1

    async def _send(self, recipient: str, prompts: list[Outgoing]) -> None:
        ids = [p.prompt_id for p in prompts]
        request = DeliveryRequest(
            recipient_email=recipient, prompts=prompts, message_id=message_id_for(ids), clock=self._clock
        )
        try:
            result = await workflow.execute_activity(
                DELIVER_MAIL,
                request,
                result_type=DeliveryResult,
                task_queue=mail_queue(),
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as error:
            # Only what retrying cannot fix ends here (a message that cannot be built): never dispatch it
            # again, and say so where people look.
            await self._unsendable(recipient, ids, error)
            return
        self._pending = [p for p in self._pending if p.prompt_id not in ids]
        now = cycle_now(self._clock)
        if result.status is DeliveryStatus.UNADDRESSED:
            workflow.logger.warning("no CEC address configured (CIS_CEC_EMAIL): %s unaddressed", ", ".join(ids))
            return
        if result.status in (DeliveryStatus.SENT, DeliveryStatus.ALREADY_SENT):
            self._last_sent[recipient] = london_date(now)
        address = result.recipient_email or recipient
        events: list[DomainEvent] = []
        subject = self._input.subject_id
        if result.sent_prompt_ids:
            events.append(
                PromptSent(
                    cycle_id=subject,
                    at=now,
                    prompt_ids=result.sent_prompt_ids,
                    recipient_email=address,
                    message_id=result.message_id,
                )
            )
        if result.suppressed_prompt_ids:
            events.append(
                PromptSuppressed(
                    cycle_id=subject, at=now, prompt_ids=result.suppressed_prompt_ids, recipient_email=address
                )
            )
        if result.status is DeliveryStatus.FAILED:
            failed = [i for i in ids if i not in result.suppressed_prompt_ids]
            events.append(
                PromptFailed(
                    cycle_id=subject, at=now, prompt_ids=failed, recipient_email=address, reason=result.error or ""
                )
            )
            if not any(p.kind is PromptKind.DELIVERY_FAILED for p in prompts):
                # A notice about a failure that itself fails would start a chain of notices: it stops here.
                events += self._escalate_failure(address, failed[0], now)
        await self._log.record(events, causation=f"mail:{request.message_id}")

    async def _unsendable(self, recipient: str, ids: list[str], error: ActivityError) -> None:
        self._pending = [p for p in self._pending if p.prompt_id not in ids]
        reason = storable_line(str(error.cause.message if isinstance(error.cause, ApplicationError) else error))
        now = cycle_now(self._clock)
        subject = self._input.subject_id
        failed = PromptFailed(cycle_id=subject, at=now, prompt_ids=ids, recipient_email=recipient, reason=reason)
        attention = NeedsAttention(
            cycle_id=subject,
            at=now,
            reason=f"mail to {recipient} cannot be sent: {reason}",
            source=workflow.info().workflow_id,
            failed_types=["PromptSent"],
        )
        await self._log.record([failed, attention], causation=f"unsendable:{message_id_for(ids)}")

    def _escalate_failure(self, recipient: str, first_prompt: str, now: datetime) -> list[DomainEvent]:
        """Tell the facilitator (or CEC) that an address does not work, unless it is theirs that failed."""

        def unless_failed(address: str | None) -> str | None:
            return None if address is None or address.lower() == recipient.lower() else address

        directory = Directory(
            facilitator_email=unless_failed(self._escalate_to), cec_email=unless_failed(self._input.cec_email)
        )
        issued: list[DomainEvent] = list(
            prompt_events(
                workflow_id=workflow.info().workflow_id,
                cycle_id=self._input.subject_id,
                at=now,
                kind=PromptKind.DELIVERY_FAILED,
                stage=None,
                review_type=ReviewType.EXPERT,  # fixed route: the review type plays no part
                directory=directory,
                scheduled_for=now,
                due=None,
                key=first_prompt,
            )
        )
        self._pending += [p for p in outgoing_from(issued) if mail_key(p)]
        return issued

    def _carried_over(self) -> MailboxInput:
        return self._input.model_copy(
            update={
                "pending": self._pending,
                "last_sent": self._last_sent,
                "escalate_to": self._escalate_to,
                "stream_id": self._log.stream_id,
                "stream_version": self._log.version,
            }
        )


def outgoing_from(events: list[DomainEvent]) -> list[Outgoing]:
    return [
        Outgoing(
            prompt_id=e.prompt_id,
            cycle_id=e.cycle_id,
            kind=PromptKind(e.kind),
            stage=e.stage,
            recipient_role=e.recipient_role,
            recipient_email=e.recipient_email,
            scheduled_for=e.scheduled_for,
            due=e.due,
        )
        for e in events
        if isinstance(e, PromptIssued)
    ]


__all__ = ["MailboxWorkflow", "mailbox_workflow_id", "outgoing_from"]
