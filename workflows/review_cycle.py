"""ReviewCycleWorkflow: one institution through the six stages of a review cycle.

A thin shell around the cycle's decider (domain/cycle_decider.py): it waits on timers,
receives Updates and signals, asks the decider what they mean, records the events it
returns and sends the messages that follow them. People act through Updates whose
validators ask the decider too, so bad input is refused before it reaches history.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from domain.cycle_decider import (
    LEADERSHIP_NEWS_PATCH,
    CorrectCalendar,
    CycleCommand,
    CycleDecision,
    Finished,
    Readdress,
    StartCycle,
    StartFollowUp,
    Wait,
    brings_leadership_news,
    decide,
    next_step,
    without_leadership_news,
)
from domain.cycle_spec import CycleByReference, CycleInput, CycleSpec, follow_up_workflow_id
from domain.cycle_state import CycleState, evolve_all, initial_state
from domain.cycle_views import cycle_view, follow_up_dates, milestone_views, search_values
from domain.decisions import Record, Signal
from domain.events import (
    CycleLapsed,
    CycleStartRefused,
    CycleWithdrawn,
    DeadlineExtended,
    ReviewArrangementChanged,
    StageOpened,
    StageOverdue,
)
from domain.london_time import at_london
from domain.maturity_model import MaturityModel
from domain.meeting_slots import MemberSlot
from domain.peer_group_messages import GroupExit, PeerFindings
from domain.refusals import Refusal, refusal_from
from domain.requests import (
    AttendanceRequest,
    CalendarCorrectionRequest,
    ContactsRequest,
    ExtendRequest,
    ReassignRequest,
    Receipt,
    ReviewDayRequest,
    ReviewTeamRequest,
    SubmitRequest,
    WithdrawRequest,
)
from domain.stages import CycleStatus, Stage
from domain.timeline import CycleView, MilestoneView
from workflows.content_resolution import (
    CONTENT_BY_REFERENCE_PATCH,
    ContentUnresolved,
    resolve_calendar,
    resolve_model,
)
from workflows.cycle_time import cycle_now, cycle_now_asked, sleep_until
from workflows.decided_update import decided_update
from workflows.event_log import EventLog
from workflows.follow_up import FollowUpWorkflow
from workflows.mail_posting import MailPoster
from workflows.search_attributes import (
    CIS_COHORT,
    CIS_DUE_DATE,
    CIS_OVERDUE,
    CIS_REVIEW_TYPE,
    CIS_STAGE,
    CIS_STATUS,
    CIS_URN,
)
from workflows.signalling import send

# Recording one of these moves what operators search for (stage, due date, overdue, review type).
SEARCHED = (StageOpened, StageOverdue, DeadlineExtended, CycleWithdrawn, CycleLapsed, ReviewArrangementChanged)


class CycleOutcome(BaseModel):
    cycle_id: str
    status: CycleStatus
    stage: Stage | None
    events_recorded: int
    prompts_issued: int


@workflow.defn
class ReviewCycleWorkflow:
    @workflow.init
    def __init__(self, spec: CycleInput) -> None:
        self._log = EventLog(stream_id=workflow.info().workflow_id, correlation_id=spec.cycle_id)
        # A cycle started with its model and calendar in full (before content by reference) has its state at once;
        # one started by reference has it once run() has resolved them, in its first workflow task.
        self._ready = False
        if isinstance(spec, CycleSpec):
            self._begin(spec)

    def _begin(self, spec: CycleSpec) -> None:
        clock = spec.clock.anchored(at_london(spec.start_date, spec.policy.working_hours[0]), workflow.now())
        self._state: CycleState = initial_state(spec, workflow.info().workflow_id, clock)
        self._mail = MailPoster(
            spec.cycle_id, spec.calendar, spec.policy, clock, lambda: self._state.directory, spec.deliver_mail
        )
        self._log.poster = self._mail
        self._ready = True

    async def _resolve(self, spec: CycleByReference) -> None:
        """The model and calendar the references name, checked against their checksums; when they cannot be had,
        the cycle records that it could not start (the dashboard shows it) and fails: retrying cannot help."""
        workflow.patched(CONTENT_BY_REFERENCE_PATCH)
        try:
            model = await resolve_model(spec.model_ref)
            calendar = await resolve_calendar(spec.calendar_ref)
            resolved = spec.resolved(model, calendar)
        except ContentUnresolved as problem:
            await self._refuse_start(spec, problem)
            raise
        except ValidationError as error:  # e.g. a start date the resolved calendar does not cover
            outside = ContentUnresolved(spec.calendar_ref.name, str(refusal_from(error)))
            await self._refuse_start(spec, outside)
            raise outside from None
        self._begin(resolved)

    async def _refuse_start(self, spec: CycleByReference, problem: ContentUnresolved) -> None:
        refused = CycleStartRefused(
            cycle_id=spec.cycle_id,
            at=at_london(spec.start_date, spec.policy.working_hours[0]),
            urn=spec.urn,
            name=spec.name,
            phase=spec.phase,
            review_type=spec.review_type,
            cohort=spec.cohort,
            start_date=spec.start_date,
            model_id=spec.model_ref.id,
            model_version=spec.model_ref.version,
            reference=problem.reference,
            reason=problem.message,
        )
        workflow.logger.error("cycle %s cannot start: %s", spec.cycle_id, problem.message)
        await self._log.record([refused])

    @workflow.run
    async def run(self, spec: CycleInput) -> CycleOutcome:
        if isinstance(spec, CycleByReference):
            await self._resolve(spec)
        await self.carry_out(self._decide(StartCycle()))
        while not isinstance(step := next_step(self._state, self._now()), Finished):
            if isinstance(step, Wait):
                await sleep_until(self._state.clock, step.until, self._woken(step))
            else:
                await self.carry_out(self._decide(step))
        self._update_search_attributes()
        await workflow.wait_condition(workflow.all_handlers_finished)
        state = self._state
        return CycleOutcome(
            cycle_id=state.cycle_id,
            status=state.status,
            stage=state.stage,
            events_recorded=self._log.recorded,
            prompts_issued=state.prompts,
        )

    def _woken(self, wait: Wait) -> Callable[[], bool]:
        return lambda: wait.interrupted_by(self._state)

    async def carry_out(self, decision: CycleDecision) -> Receipt | None:
        """Apply the decision to the state at once (later requests see it), then record and tell, in order."""
        if brings_leadership_news(decision) and not workflow.patched(LEADERSHIP_NEWS_PATCH):
            decision = without_leadership_news(decision)  # a cycle's history from before: it replays as it ran
        self._state = evolve_all(self._state, decision.facts)
        if any(isinstance(event, SEARCHED) for event in decision.events):
            self._update_search_attributes()
        for step in decision.steps:
            if isinstance(step, Record):
                await self._log.record(list(step.events), actor=step.actor, causation=step.causation)
            elif isinstance(step, Signal):
                await send(step)
            elif isinstance(step, Readdress):
                await self._mail.readdress(step.directory)
            elif isinstance(step, StartFollowUp):
                await workflow.start_child_workflow(
                    FollowUpWorkflow.run,
                    step.input,
                    id=follow_up_workflow_id(self._state.cycle_id),
                    parent_close_policy=ParentClosePolicy.ABANDON,
                )
        return decision.receipt

    def _decide(self, command: CycleCommand) -> CycleDecision:
        self._require_started()
        return decide(self._state, command, self._now())

    async def _started(self) -> None:
        """A signal that comes while the cycle resolves its content waits for it (a cycle with its state already
        awaits nothing here, so histories from before replay as they ran)."""
        if not self._ready:
            await workflow.wait_condition(lambda: self._ready)

    def _require_started(self) -> None:
        if not self._ready:
            raise Refusal.one("cycle", "is starting (its model and calendar are being resolved); try again shortly")

    # ----- people's requests -------------------------------------------------------------------------

    @decided_update
    def submit(self, request: SubmitRequest) -> CycleDecision:
        return self._decide(request)

    @decided_update
    def extend(self, request: ExtendRequest) -> CycleDecision:
        return self._decide(request)

    @decided_update
    def withdraw(self, request: WithdrawRequest) -> CycleDecision:
        return self._decide(request)

    @decided_update
    def reassign(self, request: ReassignRequest) -> CycleDecision:
        return self._decide(request)

    @decided_update
    def change_contacts(self, request: ContactsRequest) -> CycleDecision:
        return self._decide(request)

    @decided_update
    def assign_review_team(self, request: ReviewTeamRequest) -> CycleDecision:
        return self._decide(request)

    @decided_update
    def schedule_review_day(self, request: ReviewDayRequest) -> CycleDecision:
        return self._decide(request)

    @decided_update
    def expect_attendance(self, request: AttendanceRequest) -> CycleDecision:
        return self._decide(request)

    @workflow.update
    async def correct_calendar(self, request: CalendarCorrectionRequest) -> Receipt:
        """A decided update with one step before deciding: the corrected calendar is resolved from the registry
        (and its checksum checked) by a local activity, which a validator may not run."""
        calendar = await resolve_calendar(request.calendar)
        try:
            decision = self._decide(CorrectCalendar(request, calendar))
        except Refusal as refusal:
            raise ApplicationError(str(refusal), type="Refusal", non_retryable=True) from None
        receipt = await self.carry_out(decision)
        if receipt is None:
            raise ApplicationError("correct_calendar gave no answer to send back", non_retryable=True)
        self._mail.recalendar(self._state.spec.calendar)
        return receipt

    @correct_calendar.validator
    def _check_correction(self, request: CalendarCorrectionRequest) -> None:
        self._decide(request)

    # ----- what the cycle's peer group tells it ------------------------------------------------------

    @workflow.signal
    async def meeting_arranged(self, slot: MemberSlot) -> None:
        await self._started()
        await self.carry_out(self._decide(slot))

    @workflow.signal
    async def peer_findings(self, findings: PeerFindings) -> None:
        await self._started()
        await self.carry_out(self._decide(findings))

    @workflow.signal
    async def left_group(self, exit_: GroupExit) -> None:
        await self._started()
        await self.carry_out(self._decide(exit_))

    # ----- queries -------------------------------------------------------------------------------------

    @workflow.query
    def status(self, asked_at: datetime | None = None) -> CycleView:
        """`asked_at`: the caller's clock, so `today` is the cycle clock now rather than the last activity's time."""
        self._require_started()
        return cycle_view(self._state, cycle_now_asked(self._state.clock, asked_at))

    @workflow.query
    def maturity_model(self) -> MaturityModel:
        self._require_started()
        return self._state.spec.model

    @workflow.query
    def timeline(self) -> list[MilestoneView]:
        self._require_started()
        return milestone_views(self._state)

    @workflow.query
    def check_in_dates(self) -> list[date]:
        self._require_started()
        return follow_up_dates(self._state)

    # ----- helpers -------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return cycle_now(self._state.clock)

    def _update_search_attributes(self) -> None:
        if not self._state.spec.search_attributes:
            return
        values = search_values(self._state)
        updates: list[SearchAttributeUpdate[Any]] = [
            CIS_STATUS.value_set(values.status.value),
            CIS_COHORT.value_set(values.cohort),
            CIS_REVIEW_TYPE.value_set(values.review_type),
            CIS_URN.value_set(values.urn),
            CIS_OVERDUE.value_set(values.overdue),
        ]
        if values.stage is not None:
            updates.append(CIS_STAGE.value_set(values.stage.value))
            updates.append(CIS_DUE_DATE.value_set(values.due) if values.due else CIS_DUE_DATE.value_unset())
        workflow.upsert_search_attributes(updates)
