"""Posting a workflow's prompts to its mailbox, starting the mailbox when it is not running."""

from collections.abc import Callable

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

from domain.cycle_clock import CycleClock
from domain.events import DomainEvent
from domain.mail import MailboxInput, Outgoing, Readdress, mailbox_workflow_id
from domain.recipients import Directory
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import ContactRole
from workflows.mailbox import MailboxWorkflow, outgoing_from
from workflows.signalling import signal_if_running


class MailPoster:
    """`directory` is read when a mailbox starts: who hears of an undeliverable address is whoever it says then."""

    def __init__(
        self,
        subject_id: str,
        calendar: SchoolCalendar,
        policy: SchedulePolicy,
        clock: CycleClock,
        directory: Callable[[], Directory],
        enabled: bool,
    ) -> None:
        self._subject_id = subject_id
        self._calendar = calendar
        self._policy = policy
        self._clock = clock
        self._directory = directory
        self._enabled = enabled

    def recalendar(self, calendar: SchoolCalendar) -> None:
        """A mailbox started from now on follows the corrected calendar (one already running keeps its own)."""
        self._calendar = calendar

    def _mailbox_input(self, outgoing: list[Outgoing]) -> MailboxInput:
        directory = self._directory()
        return MailboxInput(
            subject_id=self._subject_id,
            calendar=self._calendar,
            policy=self._policy,
            clock=self._clock,
            escalate_to=directory.facilitator_email,
            cec_email=directory.cec_email,
            pending=outgoing,
        )

    @property
    def _workflow_id(self) -> str:
        return mailbox_workflow_id(self._subject_id)

    async def post(self, events: list[DomainEvent]) -> None:
        outgoing = outgoing_from(events)
        if not outgoing or not self._enabled:
            return
        if await self._signal("post", outgoing):
            return
        try:
            await workflow.start_child_workflow(
                MailboxWorkflow.run,
                self._mailbox_input(outgoing),
                id=self._workflow_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except Exception:  # started meanwhile by the cycle's other workflow: post to it after all
            await self._signal("post", outgoing)

    async def readdress(self, directory: Directory) -> None:
        if not self._enabled:
            return
        addresses = {role: email for role in ContactRole if (email := directory.address(role))}
        await self._signal("readdress", Readdress(addresses=addresses))

    async def _signal(self, signal: str, payload: object) -> bool:
        # No mailbox running means not started yet, or ended after a long quiet spell.
        return await signal_if_running(self._workflow_id, signal, payload)
