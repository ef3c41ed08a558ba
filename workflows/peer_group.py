"""PeerGroupWorkflow: three to six institutions reviewed together at one facilitated meeting.

A thin shell around the group's decider (domain/peer_group_decider.py). Member cycles tell
the group when they join, when their self-evaluation is accepted and when they end early;
the group takes that news in order, then does what the decider says next. The facilitator
schedules the meeting, moves members who are not ready, and records each member's findings,
which the group hands to that member's cycle. Each member stays its own top-level workflow.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.decisions import Record, Signal
from domain.events import NeedsAttention
from domain.london_time import at_london
from domain.peer_group_decider import (
    Finished,
    FormGroup,
    GroupCommand,
    GroupDecision,
    Join,
    JoinLaterGroup,
    Wait,
    decide,
    group_formed,
    next_step,
)
from domain.peer_group_messages import Joiner, MemberLeft, MemberReady
from domain.peer_group_spec import PeerGroupByReference, PeerGroupInput, PeerGroupSpec
from domain.peer_group_state import GroupState, evolve_all, initial_state
from domain.peer_group_view import PeerGroupView, group_view
from domain.recipients import Directory
from domain.refusals import Refusal
from domain.requests import GroupFindingsRequest, MoveMemberRequest, Receipt, ScheduleMeetingRequest
from workflows.content_resolution import ContentUnresolved, resolve_calendar, resolve_model
from workflows.cycle_time import cycle_now, cycle_now_asked, sleep_until
from workflows.decided_update import decided_update
from workflows.event_log import EventLog
from workflows.mail_posting import MailPoster
from workflows.signalling import send

with workflow.unsafe.imports_passed_through():
    from activities.peer_group_joining import JOIN_PEER_GROUP

# Guards the commands a group started by reference gives (the resolving markers) against histories from before.
PEER_GROUP_CONTENT_BY_REFERENCE_PATCH = "peer-group-content-by-reference"


@workflow.defn
class PeerGroupWorkflow:
    @workflow.init
    def __init__(self, spec: PeerGroupInput) -> None:
        # The launch anchors the cohort's clock; a group started some other way anchors to its own start.
        self._clock = spec.clock.anchored(at_london(spec.cut_off, spec.policy.working_hours[0]), workflow.now())
        # What member cycles said, taken in order by the run: joins, then readiness, then departures.
        self._joins: list[Join] = [Join(m) for m in spec.members]
        self._ready: list[MemberReady] = []
        self._left: list[MemberLeft] = []
        self._log = EventLog(stream_id=workflow.info().workflow_id, correlation_id=spec.workflow_id)
        # A group started with its models and calendar in full (before content by reference) has its state at once;
        # one started by reference has it once run() has resolved them, in its first workflow task.
        self._by_reference = isinstance(spec, PeerGroupByReference)
        self._started = False
        if isinstance(spec, PeerGroupSpec):
            self._begin(spec)

    def _begin(self, spec: PeerGroupSpec) -> None:
        self._state: GroupState = initial_state(spec, workflow.info().workflow_id)
        directory = Directory(facilitator_email=spec.facilitator_email, cec_email=spec.cec_email)
        self._mail = MailPoster(
            spec.workflow_id, spec.calendar, spec.policy, self._clock, lambda: directory, spec.deliver_mail
        )
        self._log.poster = self._mail
        self._started = True

    async def _resolve(self, spec: PeerGroupByReference) -> None:
        """The models and calendar the references name, checked against their checksums; when they cannot be had,
        the group records that it needs attention (its page and the dashboard show it) and fails: retrying cannot
        help."""
        workflow.patched(PEER_GROUP_CONTENT_BY_REFERENCE_PATCH)
        try:
            models = {variant: await resolve_model(ref) for variant, ref in spec.model_refs.items()}
            calendar = await resolve_calendar(spec.calendar_ref)
        except ContentUnresolved as problem:
            await self._refuse_start(spec, problem)
            raise
        self._begin(spec.resolved(models, calendar))

    async def _refuse_start(self, spec: PeerGroupByReference, problem: ContentUnresolved) -> None:
        # Formed first, so the group has its row (cohort, hub: who may see it) for the attention to show on.
        refused = NeedsAttention(
            cycle_id=spec.workflow_id,
            at=self._now(),
            reason=problem.message,
            source=workflow.info().workflow_id,
        )
        workflow.logger.error("peer group %s cannot start: %s", spec.workflow_id, problem.message)
        await self._log.record([group_formed(spec, self._now()), refused])

    @workflow.run
    async def run(self, spec: PeerGroupInput) -> PeerGroupView:
        if isinstance(spec, PeerGroupByReference):
            await self._resolve(spec)
        await self.carry_out(self._decide(FormGroup()))
        while True:
            await self._take_news()
            step = next_step(self._state, self._now(), joins_waiting=bool(self._joins))
            if isinstance(step, Finished):
                break
            if isinstance(step, Wait):
                await self._wait(step)
            else:
                await self.carry_out(self._decide(step))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    async def _take_news(self) -> None:
        for inbox in (self._joins, self._ready, self._left):
            while inbox:
                await self.carry_out(self._decide(inbox.pop(0)))

    async def _wait(self, wait: Wait) -> None:
        """Until a cycle moment (or indefinitely), waking for any news or change."""
        interrupted = self._woken(wait)
        if wait.until is None:
            await workflow.wait_condition(interrupted)
        else:
            await sleep_until(self._clock, wait.until, interrupted)

    def _woken(self, wait: Wait) -> Callable[[], bool]:
        return lambda: bool(self._joins or self._ready or self._left) or wait.interrupted_by(self._state)

    async def carry_out(self, decision: GroupDecision) -> Receipt | None:
        for join in decision.first:
            await self._join_later_group(join)
        self._state = evolve_all(self._state, decision.facts)
        for step in decision.steps:
            if isinstance(step, Record):
                await self._log.record(list(step.events), actor=step.actor, causation=step.causation)
            elif isinstance(step, Signal):
                await send(step)
        return decision.receipt

    async def _join_later_group(self, join: JoinLaterGroup) -> None:
        request = join.request
        if self._by_reference and isinstance(request.spec, PeerGroupSpec):
            # A group started by reference starts its later groups by reference too (same content, same checksums).
            request = request.model_copy(update={"spec": request.spec.by_reference()})
        await workflow.execute_activity(
            JOIN_PEER_GROUP,
            request,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), non_retryable_error_types=["Refusal"]),
        )

    def _decide(self, command: GroupCommand) -> GroupDecision:
        self._require_started()
        return decide(self._state, command, self._now())

    def _require_started(self) -> None:
        if not self._started:
            raise Refusal.one("group", "is starting (its models and calendar are being resolved); try again shortly")

    # ----- what member cycles tell the group -------------------------------------------------------

    @workflow.signal
    def member_ready(self, ready: MemberReady) -> None:
        self._ready.append(ready)

    @workflow.signal
    def member_left(self, left: MemberLeft) -> None:
        self._left.append(left)

    @workflow.signal
    def member_joined(self, joiner: Joiner) -> None:
        self._joins.append(Join(joiner.member, joiner.from_group))
        if joiner.ready_on is not None:
            self._ready.append(MemberReady(cycle_id=joiner.member.cycle_id, on=joiner.ready_on))

    # ----- the facilitator's requests ----------------------------------------------------------------

    @decided_update
    def schedule_meeting(self, request: ScheduleMeetingRequest) -> GroupDecision:
        return self._decide(request)

    @decided_update
    def move_member(self, request: MoveMemberRequest) -> GroupDecision:
        return self._decide(request)

    @decided_update
    def record_findings(self, request: GroupFindingsRequest) -> GroupDecision:
        return self._decide(request)

    @workflow.query
    def status(self, asked_at: datetime | None = None) -> PeerGroupView:
        """`asked_at`: the caller's clock, so `today` and the phase are as of now, not of the last activity."""
        self._require_started()
        return group_view(self._state, cycle_now_asked(self._clock, asked_at))

    def _now(self) -> datetime:
        return cycle_now(self._clock)
