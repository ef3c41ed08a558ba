"""ReviewCycleWorkflow: one institution through the six stages of a review cycle.

Each stage opens on its scheduled day (or when the stage before it is done, if that
is later), waits for its submission with timers for reminders, the overdue mark and
escalation, and closes when the submission is accepted. The cycle completes after
re-evaluation or lapses on its closing date. People act through Updates whose
validators refuse bad input before anything reaches history or the store.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from domain.cycle_clock import CycleClock
from domain.cycle_rules import (
    SUBMISSION_STAGE,
    CycleFacts,
    check_contacts,
    check_extension,
    check_reassignment,
    check_submission,
    check_withdrawal,
)
from domain.cycle_spec import CycleSpec, follow_up_workflow_id
from domain.evaluation import indicator_changes, theme_changes, theme_levels
from domain.events import (
    ActionPlanAgreed,
    AgreedAction,
    ContactReassigned,
    ContactsChanged,
    CycleCompleted,
    CycleLapsed,
    CycleStarted,
    CycleWithdrawn,
    DeadlineExtended,
    DomainEvent,
    Escalated,
    MilestoneRecord,
    OnboardingCompleted,
    PromptIssued,
    ReEvaluationSubmitted,
    ReportPublished,
    ReviewArrangementChanged,
    ReviewDayScheduled,
    ReviewFindingsRecorded,
    ReviewMeetingArranged,
    ReviewTeamAssigned,
    SelfEvaluationSubmitted,
    StageClosed,
    StageOpened,
    StageOverdue,
)
from domain.follow_up import check_in_dates
from domain.london_time import at_london, london_date
from domain.maturity_model import MaturityModel
from domain.meeting_slots import MemberSlot
from domain.peer_group_ids import peer_group_workflow_id
from domain.peer_group_messages import GroupExit, MemberLeft, MemberReady, PeerFindings
from domain.peer_group_rules import Destination
from domain.prompts import PromptKind, prompt_events
from domain.recipients import Directory
from domain.requests import (
    ContactsRequest,
    ExtendRequest,
    ReassignRequest,
    Receipt,
    ReviewDayRequest,
    ReviewTeamRequest,
    SubmitRequest,
    WithdrawRequest,
)
from domain.review_team import check_review_day, check_review_team
from domain.schedule import Milestone, Schedule, build_schedule, extend_schedule, working_moment
from domain.stages import STAGE_ORDER, ContactRole, CycleStatus, ReviewType, Stage
from domain.submissions import (
    ActionPlan,
    Onboarding,
    ReEvaluation,
    Report,
    ReviewFindings,
    SelfEvaluation,
    SubmissionKind,
)
from domain.timeline import CycleView, MilestoneState, MilestoneView
from workflows.cycle_time import cycle_now, cycle_now_asked, sleep_until
from workflows.event_log import EventLog
from workflows.follow_up import FollowUpInput, FollowUpWorkflow
from workflows.mail_posting import MailPoster
from workflows.rechecked import rechecked
from workflows.search_attributes import (
    CIS_COHORT,
    CIS_DUE_DATE,
    CIS_OVERDUE,
    CIS_REVIEW_TYPE,
    CIS_STAGE,
    CIS_STATUS,
    CIS_URN,
)
from workflows.signalling import signal_if_running

# A timer fires at a real instant; its cycle moment can come out a hair early under a time scale.
ALARM_TOLERANCE = timedelta(minutes=1)


class CycleOutcome(BaseModel):
    cycle_id: str
    status: CycleStatus
    stage: Stage | None
    events_recorded: int
    prompts_issued: int


@dataclass(frozen=True)
class _Alarm:
    moment: datetime
    key: str
    what: str  # reminder | overdue | overdue_reminder | escalation | closing
    nudge: bool  # a nudge that is stale once its moment has passed unseen is skipped, not sent late


@workflow.defn
class ReviewCycleWorkflow:
    @workflow.init
    def __init__(self, spec: CycleSpec) -> None:
        self._spec = spec
        self._cycle_id = spec.cycle_id
        self._schedule: Schedule = build_schedule(spec.start_date, spec.policy, spec.calendar)
        self._clock: CycleClock = spec.clock.anchored(
            at_london(spec.start_date, spec.policy.working_hours[0]), workflow.now()
        )
        self._status = CycleStatus.ACTIVE
        self._stage: Stage | None = None
        self._open_stage: Stage | None = None
        self._opened_on: dict[Stage, date] = {}
        self._accepted_on: dict[Stage, date] = {}
        self._on_time: dict[Stage, bool] = {}
        self._overdue: set[Stage] = set()
        self._fired: set[str] = set()
        self._alarms_from: datetime = self._cycle_now()
        self._changes = 0
        self._self_evaluation: SelfEvaluation | None = None
        self._actions: list[AgreedAction] = []
        self._follow_up_started = False
        # How the institution is reviewed can change: a group member may move to a later group or to expert review.
        self._review_type: ReviewType = spec.review_type
        self._peer_group: str | None = spec.peer_group if spec.review_type is ReviewType.PEER else None
        self._review_members: list[str] = []
        self._review_starts: datetime | None = None
        self._meeting: MemberSlot | None = None
        self._peer_findings: PeerFindings | None = None
        self._prompts = 0
        self._escalations = 0
        self._directory = Directory(
            careers_leader_email=spec.careers_leader_email,
            facilitator_email=spec.facilitator_email,
            review_lead_email=spec.review_lead_email,
            cec_email=spec.cec_email,
        )
        self._mail = MailPoster(
            self._cycle_id, spec.calendar, spec.policy, self._clock, lambda: self._directory, spec.deliver_mail
        )
        self._log = EventLog(stream_id=workflow.info().workflow_id, correlation_id=self._cycle_id, poster=self._mail)

    # ----- the run -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, spec: CycleSpec) -> CycleOutcome:
        await self._log.record([self._started_event()])
        for stage in STAGE_ORDER:
            if not await self._run_stage(stage):
                break
            if stage is Stage.ACTION_PLANNING:
                await self._start_follow_up()
        else:
            self._status = CycleStatus.COMPLETED
            self._stage = Stage.RE_EVALUATION
            await self._log.record([CycleCompleted(cycle_id=self._cycle_id, at=self._cycle_now())])
        self._update_search_attributes()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CycleOutcome(
            cycle_id=self._cycle_id,
            status=self._status,
            stage=self._stage,
            events_recorded=self._log.recorded,
            prompts_issued=self._prompts,
        )

    async def _run_stage(self, stage: Stage) -> bool:
        """Open the stage, nudge until it is done; False when the cycle ended instead."""
        while True:
            # Re-read each time: an extension of an earlier stage moves this opening day too.
            opens_at = at_london(self._schedule.milestone(stage).opens, self._spec.policy.working_hours[0])
            if self._cycle_now() + ALARM_TOLERANCE >= opens_at:
                break
            await sleep_until(self._clock, opens_at, self._interrupts_wait(self._changes))
            if self._status is not CycleStatus.ACTIVE:
                return False
        if await self._lapse_if_closed():
            return False
        await self._open(stage)
        while True:
            if self._status is not CycleStatus.ACTIVE:
                return False
            if stage in self._accepted_on:
                return True
            if stage is Stage.REVIEW and self._peer_findings is not None:
                await self._accept_peer_findings(self._peer_findings)
                continue
            now = self._cycle_now()
            pending = self._pending_alarms(stage)
            for alarm in [a for a in pending if a.moment <= now + ALARM_TOLERANCE]:
                self._fired.add(alarm.key)
                if alarm.what == "closing":
                    await self._lapse(stage)
                    return False
                await self._sound(stage, alarm)
            upcoming = [a.moment for a in self._pending_alarms(stage)]
            await sleep_until(self._clock, min(upcoming), self._interrupts_stage(stage, self._changes))

    def _interrupts_wait(self, changes: int) -> Callable[[], bool]:
        return lambda: self._status is not CycleStatus.ACTIVE or self._changes != changes

    def _interrupts_stage(self, stage: Stage, changes: int) -> Callable[[], bool]:
        """Wake a stage's wait when it is submitted, the cycle ends, or its dates move."""
        return lambda: stage in self._accepted_on or self._status is not CycleStatus.ACTIVE or self._changes != changes

    def _pending_alarms(self, stage: Stage) -> list[_Alarm]:
        milestone = self._schedule.milestone(stage)
        alarms = [_Alarm(r, f"{stage}:reminder:{r.isoformat()}", "reminder", nudge=True) for r in milestone.reminders]
        alarms.append(_Alarm(milestone.overdue_at, f"{stage}:overdue:{milestone.due}", "overdue", nudge=False))
        alarms += [
            _Alarm(r, f"{stage}:overdue_reminder:{r.isoformat()}", "overdue_reminder", nudge=True)
            for r in milestone.overdue_reminders
        ]
        alarms.append(_Alarm(milestone.escalation, f"{stage}:escalation:{milestone.due}", "escalation", nudge=False))
        alarms.append(_Alarm(self._schedule.closes_at, f"closing:{self._schedule.closing_date}", "closing", False))
        pending = []
        for alarm in alarms:
            if alarm.key in self._fired:
                continue
            if alarm.nudge and alarm.moment < self._alarms_from - ALARM_TOLERANCE:
                # Decided before the stage opened or before its dates moved: no late, stale nudges.
                self._fired.add(alarm.key)
                continue
            pending.append(alarm)
        return pending

    async def _sound(self, stage: Stage, alarm: _Alarm) -> None:
        milestone = self._schedule.milestone(stage)
        now = self._cycle_now()
        if alarm.what == "reminder":
            kind = PromptKind.DUE_TODAY if alarm.moment.date() == milestone.due else PromptKind.REMINDER
            await self._log.record(self._prompts_for(kind, stage, alarm.moment, milestone.due), causation=alarm.key)
        elif alarm.what == "overdue":
            self._overdue.add(stage)
            self._update_search_attributes()
            await self._log.record(
                [StageOverdue(cycle_id=self._cycle_id, at=now, stage=stage, due=milestone.due)], causation=alarm.key
            )
        elif alarm.what == "overdue_reminder":
            await self._log.record(
                self._prompts_for(PromptKind.OVERDUE, stage, alarm.moment, milestone.due), causation=alarm.key
            )
        elif alarm.what == "escalation":
            self._escalations += 1
            days = self._spec.calendar.school_days_between(milestone.due, london_date(now))
            event = Escalated(
                cycle_id=self._cycle_id,
                at=now,
                stage=stage,
                reason=f"{stage.label} was due on {milestone.due.isoformat()} and has not been submitted",
                school_days_overdue=days,
                recipient_role=self._directory.route(self._spec.policy.reminders.escalate_to)[0][0],
            )
            prompts = self._prompts_for(
                PromptKind.ESCALATION, stage, alarm.moment, milestone.due, roles=self._spec.policy.reminders.escalate_to
            )
            await self._log.record([event, *prompts], causation=alarm.key)

    async def _open(self, stage: Stage) -> None:
        now = self._cycle_now()
        milestone = self._schedule.milestone(stage)
        self._stage = stage
        self._open_stage = stage
        self._opened_on[stage] = london_date(now)
        self._alarms_from = now
        self._update_search_attributes()
        events: list[DomainEvent] = [StageOpened(cycle_id=self._cycle_id, at=now, stage=stage, due=milestone.due)]
        send_at = working_moment(now, self._spec.policy, self._spec.calendar)
        if stage is Stage.ONBOARDING:
            events += self._prompts_for(PromptKind.TIMELINE, None, send_at, milestone.due, key=stage.value)
        events += self._prompts_for(PromptKind.STAGE_OPENED, stage, send_at, milestone.due)
        if (
            stage is Stage.REVIEW
            and self._review_type is ReviewType.EXPERT
            and self._directory.review_lead_email is None
        ):
            events += self._prompts_for(PromptKind.REVIEW_TEAM_NEEDED, stage, send_at, milestone.due)
        await self._log.record(events, causation=f"{stage}:open")

    async def _lapse_if_closed(self) -> bool:
        if self._cycle_now() + ALARM_TOLERANCE >= self._schedule.closes_at and self._stage is not None:
            await self._lapse(self._stage)
            return True
        return False

    async def _lapse(self, stage: Stage) -> None:
        self._status = CycleStatus.LAPSED
        self._open_stage = None
        now = self._cycle_now()
        self._update_search_attributes()
        events: list[DomainEvent] = [
            CycleLapsed(cycle_id=self._cycle_id, at=now, stage=stage, closing_date=self._schedule.closing_date)
        ]
        send_at = working_moment(now, self._spec.policy, self._spec.calendar)
        events += self._prompts_for(PromptKind.CYCLE_LAPSED, None, send_at, None, key="lapsed")
        await self._log.record(events, causation="closing")
        await self._tell_group("member_left", MemberLeft(cycle_id=self._cycle_id, reason="the cycle lapsed"))

    async def _start_follow_up(self) -> None:
        if self._follow_up_started or not self._actions:
            return
        self._follow_up_started = True
        start = self._accepted_on[Stage.ACTION_PLANNING]
        await workflow.start_child_workflow(
            FollowUpWorkflow.run,
            FollowUpInput(
                cycle_id=self._cycle_id,
                review_type=self._review_type,
                actions=self._actions,
                start_date=start,
                policy=self._spec.follow_up,
                calendar=self._spec.calendar,
                schedule_policy=self._spec.policy,
                clock=self._clock,
                directory=self._directory,
                deliver_mail=self._spec.deliver_mail,
            ),
            id=follow_up_workflow_id(self._cycle_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    # ----- prompts and events ---------------------------------------------------------------------

    def _prompts_for(
        self,
        kind: PromptKind,
        stage: Stage | None,
        when: datetime,
        due: date | None,
        key: str | None = None,
        roles: tuple[ContactRole, ...] | None = None,
    ) -> list[DomainEvent]:
        key = key or f"{stage}:{when.isoformat()}"
        prompts: list[DomainEvent] = list(
            prompt_events(
                workflow_id=workflow.info().workflow_id,
                cycle_id=self._cycle_id,
                at=self._cycle_now(),
                kind=kind,
                stage=stage,
                review_type=self._review_type,
                directory=self._directory,
                scheduled_for=when,
                due=due,
                key=key,
                roles=roles,
            )
        )
        self._prompts += len(prompts)
        return prompts

    def _milestone_records(self) -> list[MilestoneRecord]:
        return [_record_of(m) for m in self._schedule.milestones]

    def _started_event(self) -> CycleStarted:
        spec = self._spec
        return CycleStarted(
            cycle_id=self._cycle_id,
            at=self._cycle_now(),
            urn=spec.urn,
            name=spec.name,
            phase=spec.phase,
            review_type=spec.review_type,
            cohort=spec.cohort,
            start_date=spec.start_date,
            model_id=spec.model.id,
            model_version=spec.model.version,
            milestones=self._milestone_records(),
            closing_date=self._schedule.closing_date,
            careers_leader_email=spec.careers_leader_email,
            facilitator_email=spec.facilitator_email,
            seconds_per_week=spec.clock.seconds_per_week,
            region=spec.region,
            careers_hub=spec.careers_hub,
            trust=spec.trust,
            peer_group=spec.peer_group,
            review_lead_email=spec.review_lead_email,
            clock=self._clock,
        )

    def _submission_events(self, kind: SubmissionKind, submission: BaseModel, actor: str) -> list[DomainEvent]:
        at = self._cycle_now()
        cid = self._cycle_id
        if isinstance(submission, Onboarding):
            self._directory = self._directory.with_contacts(submission.contacts)
            return [OnboardingCompleted(cycle_id=cid, at=at, contacts=submission.contacts, actor=actor)]
        if isinstance(submission, ReEvaluation):
            assert self._self_evaluation is not None
            before = self._self_evaluation
            after_themes = theme_levels(submission, self._spec.model)
            return [
                ReEvaluationSubmitted(
                    cycle_id=cid,
                    at=at,
                    ratings=submission.ratings,
                    theme_levels=after_themes,
                    contributors=submission.contributors,
                    indicator_changes=indicator_changes(before.ratings, submission.ratings),
                    theme_changes=theme_changes(theme_levels(before, self._spec.model), after_themes),
                    actor=actor,
                )
            ]
        if isinstance(submission, SelfEvaluation):
            self._self_evaluation = submission
            return [
                SelfEvaluationSubmitted(
                    cycle_id=cid,
                    at=at,
                    ratings=submission.ratings,
                    theme_levels=theme_levels(submission, self._spec.model),
                    contributors=submission.contributors,
                    actor=actor,
                )
            ]
        if isinstance(submission, ReviewFindings):
            return [
                ReviewFindingsRecorded(
                    cycle_id=cid, at=at, actor=actor, **submission.model_dump(mode="python", exclude=set())
                )
            ]
        if isinstance(submission, Report):
            return [ReportPublished(cycle_id=cid, at=at, actor=actor, **submission.model_dump(mode="python"))]
        if isinstance(submission, ActionPlan):
            self._actions = [
                AgreedAction(
                    action_id=action.id or f"A{n}",
                    title=action.title,
                    indicator_ids=action.indicator_ids,
                    owner_role=action.owner_role,
                    due=action.due,
                    success_measure=action.success_measure,
                )
                for n, action in enumerate(submission.actions, start=1)
            ]
            return [ActionPlanAgreed(cycle_id=cid, at=at, actions=self._actions, actor=actor)]
        raise ApplicationError(f"no event for submission kind {kind}", non_retryable=True)

    # ----- updates ----------------------------------------------------------------------------------

    @workflow.update
    async def submit(self, request: SubmitRequest) -> Receipt:
        kind, submission = rechecked(lambda: check_submission(self._facts(), request.kind, request.data, request.actor))
        stage = SUBMISSION_STAGE[kind]
        today = self._today()
        due = self._schedule.milestone(stage).due
        on_time = stage not in self._overdue
        events = self._submission_events(kind, submission, request.actor)
        events.append(StageClosed(cycle_id=self._cycle_id, at=self._cycle_now(), stage=stage, due=due, on_time=on_time))
        if kind is SubmissionKind.REPORT:
            send_at = working_moment(self._cycle_now(), self._spec.policy, self._spec.calendar)
            events += self._prompts_for(PromptKind.REPORT_PUBLISHED, Stage.REPORT, send_at, None, key="published")
        self._accepted_on[stage] = today
        self._on_time[stage] = on_time
        self._open_stage = None
        self._overdue.discard(stage)
        await self._log.record(events, actor=request.actor, causation=f"submit:{kind}")
        if kind is SubmissionKind.ONBOARDING:
            await self._mail.readdress(self._directory)
        if stage is Stage.SELF_EVALUATION:
            await self._tell_group("member_ready", MemberReady(cycle_id=self._cycle_id, on=today))
        next_stage = stage.next
        message = f"{kind.value} accepted for {self._spec.name} on {today.isoformat()}"
        if next_stage is not None:
            opens = max(self._schedule.milestone(next_stage).opens, today)
            message += f"; {next_stage.label.lower()} opens on {opens.isoformat()}"
        else:
            message += "; the cycle is complete"
        return Receipt(cycle_id=self._cycle_id, message=message, stage=stage, next_stage=next_stage, on=today)

    @submit.validator
    def _validate_submit(self, request: SubmitRequest) -> None:
        check_submission(self._facts(), request.kind, request.data, request.actor)

    @workflow.update
    async def extend(self, request: ExtendRequest) -> Receipt:
        stage = rechecked(lambda: check_extension(self._facts(), request.stage, request.to, request.reason))
        previous = self._schedule.milestone(stage).due
        self._schedule = extend_schedule(self._schedule, stage, request.to, self._spec.policy, self._spec.calendar)
        new_due = self._schedule.milestone(stage).due
        self._overdue.discard(stage)
        self._alarms_from = self._cycle_now()
        self._changes += 1
        self._update_search_attributes()
        send_at = working_moment(self._cycle_now(), self._spec.policy, self._spec.calendar)
        events: list[DomainEvent] = [
            DeadlineExtended(
                cycle_id=self._cycle_id,
                at=self._cycle_now(),
                stage=stage,
                previous_due=previous,
                new_due=new_due,
                closing_date=self._schedule.closing_date,
                milestones=self._milestone_records(),
                reason=request.reason,
                actor=request.actor,
            )
        ]
        events += self._prompts_for(PromptKind.DEADLINE_CHANGED, stage, send_at, new_due, key=f"{stage}:{new_due}")
        await self._log.record(events, actor=request.actor, causation="extend")
        return Receipt(
            cycle_id=self._cycle_id,
            message=f"{stage.label} is now due on {new_due.isoformat()}; "
            f"the cycle closes on {self._schedule.closing_date.isoformat()}",
            stage=stage,
            on=self._today(),
        )

    @extend.validator
    def _validate_extend(self, request: ExtendRequest) -> None:
        check_extension(self._facts(), request.stage, request.to, request.reason)

    @workflow.update
    async def withdraw(self, request: WithdrawRequest) -> Receipt:
        rechecked(lambda: check_withdrawal(self._facts(), request.reason))
        self._status = CycleStatus.WITHDRAWN
        self._open_stage = None
        self._update_search_attributes()
        event = CycleWithdrawn(
            cycle_id=self._cycle_id,
            at=self._cycle_now(),
            stage=self._stage or Stage.ONBOARDING,
            reason=request.reason,
            actor=request.actor,
        )
        await self._log.record([event], actor=request.actor, causation="withdraw")
        await self._tell_group(
            "member_left", MemberLeft(cycle_id=self._cycle_id, reason=f"withdrawn: {request.reason}")
        )
        await self._tell_follow_up("stop", request.reason)
        return Receipt(cycle_id=self._cycle_id, message=f"withdrawn: {request.reason}", on=self._today())

    @withdraw.validator
    def _validate_withdraw(self, request: WithdrawRequest) -> None:
        check_withdrawal(self._facts(), request.reason)

    @workflow.update
    async def reassign(self, request: ReassignRequest) -> Receipt:
        role, email = rechecked(lambda: check_reassignment(self._facts(), request.role, request.email))
        previous = self._directory.address(role)
        self._directory = self._directory.with_role(role, email)
        event = ContactReassigned(
            cycle_id=self._cycle_id,
            at=self._cycle_now(),
            role=role,
            email=email,
            previous_email=previous,
            actor=request.actor,
        )
        await self._log.record([event], actor=request.actor, causation="reassign")
        await self._mail.readdress(self._directory)
        await self._follow_up_contacts_changed()
        return Receipt(
            cycle_id=self._cycle_id,
            message=f"{role.value.replace('_', ' ')} is now {email}; prompts from now on go to them",
            on=self._today(),
        )

    @reassign.validator
    def _validate_reassign(self, request: ReassignRequest) -> None:
        check_reassignment(self._facts(), request.role, request.email)

    @workflow.update
    async def change_contacts(self, request: ContactsRequest) -> Receipt:
        contacts = rechecked(lambda: check_contacts(self._facts(), request.contacts))
        self._directory = self._directory.with_contacts(contacts)
        event = ContactsChanged(cycle_id=self._cycle_id, at=self._cycle_now(), contacts=contacts, actor=request.actor)
        await self._log.record([event], actor=request.actor, causation="contacts")
        await self._mail.readdress(self._directory)
        await self._follow_up_contacts_changed()
        return Receipt(
            cycle_id=self._cycle_id,
            message=f"contacts updated; prompts from now on go to {contacts.careers_leader.email}",
            on=self._today(),
        )

    @change_contacts.validator
    def _validate_change_contacts(self, request: ContactsRequest) -> None:
        check_contacts(self._facts(), request.contacts)

    @workflow.update
    async def assign_review_team(self, request: ReviewTeamRequest) -> Receipt:
        team = rechecked(lambda: check_review_team(self._facts(), request.lead, request.members))
        previous = self._directory.review_lead_email
        self._directory = self._directory.with_role(ContactRole.REVIEW_LEAD, team.lead_email)
        self._review_members = list(team.member_emails)
        event = ReviewTeamAssigned(
            cycle_id=self._cycle_id,
            at=self._cycle_now(),
            lead_email=team.lead_email,
            member_emails=team.member_emails,
            previous_lead_email=previous,
            actor=request.actor,
        )
        await self._log.record([event], actor=request.actor, causation="review-team")
        await self._mail.readdress(self._directory)
        await self._follow_up_contacts_changed()
        members = f" with {', '.join(team.member_emails)}" if team.member_emails else ""
        return Receipt(
            cycle_id=self._cycle_id,
            message=f"review team: {team.lead_email} leads{members}; the lead schedules the review day next",
            on=self._today(),
        )

    @assign_review_team.validator
    def _validate_assign_review_team(self, request: ReviewTeamRequest) -> None:
        check_review_team(self._facts(), request.lead, request.members)

    @workflow.update
    async def schedule_review_day(self, request: ReviewDayRequest) -> Receipt:
        day = rechecked(lambda: check_review_day(self._facts(), request.actor, request.on, request.start))
        previous = self._review_starts
        self._review_starts = at_london(day.on, day.start)
        self._changes += 1
        now = self._cycle_now()
        event = ReviewDayScheduled(
            cycle_id=self._cycle_id, at=now, starts=self._review_starts, previous_starts=previous, actor=request.actor
        )
        send_at = working_moment(now, self._spec.policy, self._spec.calendar)
        invites = self._prompts_for(
            PromptKind.MEETING_INVITE,
            Stage.REVIEW,
            send_at,
            day.on,
            key=f"review-day:{self._review_starts.isoformat()}",
        )
        await self._log.record([event, *invites], actor=request.actor, causation="review-day")
        return Receipt(
            cycle_id=self._cycle_id,
            message=f"review day: {day.on.isoformat()} from {day.start.strftime('%H:%M')}; "
            f"invitations sent to {', '.join(_addressees(invites))}",
            on=self._today(),
        )

    @schedule_review_day.validator
    def _validate_schedule_review_day(self, request: ReviewDayRequest) -> None:
        check_review_day(self._facts(), request.actor, request.on, request.start)

    # ----- signals from the cycle's peer group --------------------------------------------------------

    @workflow.signal
    async def meeting_arranged(self, slot: MemberSlot) -> None:
        if self._status is not CycleStatus.ACTIVE or slot.group != self._peer_group:
            return
        self._meeting = slot
        self._review_starts = slot.meeting_starts
        now = self._cycle_now()
        event = ReviewMeetingArranged(
            cycle_id=self._cycle_id,
            at=now,
            peer_group=slot.group,
            meeting_starts=slot.meeting_starts,
            slot_starts=slot.slot_starts,
            slot_ends=slot.slot_ends,
            themes_in_scope=slot.themes_in_scope,
        )
        send_at = working_moment(now, self._spec.policy, self._spec.calendar)
        invites = self._prompts_for(
            PromptKind.MEETING_INVITE,
            Stage.REVIEW,
            send_at,
            slot.meeting_starts.date(),
            key=f"{slot.group}:{slot.slot_starts.isoformat()}",
        )
        await self._log.record([event, *invites], actor=slot.facilitator_email, causation=f"meeting:{slot.group}")

    @workflow.signal
    def peer_findings(self, findings: PeerFindings) -> None:
        if findings.group != self._peer_group or Stage.REVIEW in self._accepted_on:
            return
        # Kept until the review stage is open: a group can meet before a member's own review stage opens.
        self._peer_findings = findings
        self._changes += 1

    @workflow.signal
    async def left_group(self, exit_: GroupExit) -> None:
        if exit_.group != self._peer_group or self._status is not CycleStatus.ACTIVE:
            return
        previous = self._peer_group
        if exit_.to is Destination.EXPERT_REVIEW:
            self._review_type = ReviewType.EXPERT
            self._peer_group = None
        else:
            self._peer_group = exit_.later_group
        self._update_search_attributes()
        event = ReviewArrangementChanged(
            cycle_id=self._cycle_id,
            at=self._cycle_now(),
            review_type=self._review_type,
            peer_group=self._peer_group,
            previous_peer_group=previous,
            reason=exit_.reason,
            actor=exit_.actor,
        )
        await self._log.record([event], actor=exit_.actor, causation=f"left:{previous}")
        accepted = self._accepted_on.get(Stage.SELF_EVALUATION)
        if accepted is not None:
            # Ready before the move reached us: the new group must hear it too.
            await self._tell_group("member_ready", MemberReady(cycle_id=self._cycle_id, on=accepted))
        if (
            self._open_stage is Stage.REVIEW
            and self._review_type is ReviewType.EXPERT
            and self._directory.review_lead_email is None
        ):
            send_at = working_moment(self._cycle_now(), self._spec.policy, self._spec.calendar)
            due = self._schedule.milestone(Stage.REVIEW).due
            prompts = self._prompts_for(PromptKind.REVIEW_TEAM_NEEDED, Stage.REVIEW, send_at, due, key="moved")
            await self._log.record(prompts, causation="moved")

    async def _accept_peer_findings(self, delivered: PeerFindings) -> None:
        self._peer_findings = None
        findings = delivered.findings
        at = self._cycle_now()
        due = self._schedule.milestone(Stage.REVIEW).due
        on_time = Stage.REVIEW not in self._overdue
        events: list[DomainEvent] = [
            ReviewFindingsRecorded(cycle_id=self._cycle_id, at=at, actor=delivered.actor, **findings.model_dump()),
            StageClosed(cycle_id=self._cycle_id, at=at, stage=Stage.REVIEW, due=due, on_time=on_time),
        ]
        self._accepted_on[Stage.REVIEW] = self._today()
        self._on_time[Stage.REVIEW] = on_time
        self._open_stage = None
        self._overdue.discard(Stage.REVIEW)
        await self._log.record(events, actor=delivered.actor, causation=f"findings:{delivered.group}")

    async def _tell_group(self, signal: str, payload: object) -> None:
        if self._review_type is not ReviewType.PEER or self._peer_group is None:
            return
        group_id = peer_group_workflow_id(self._spec.cohort, self._peer_group)
        if not await signal_if_running(group_id, signal, payload):
            # No such group (a cycle started on its own with a group name), or it has closed: nothing waits on us.
            workflow.logger.warning("peer group %s could not be signalled (%s)", self._peer_group, signal)

    async def _follow_up_contacts_changed(self) -> None:
        await self._tell_follow_up("contacts_changed", self._directory)

    async def _tell_follow_up(self, signal: str, payload: object) -> None:
        """The follow-up may have finished its rounds long ago: the change is recorded either way, so a
        follow-up that is no longer there must not turn the Update that made it into a failure."""
        if self._follow_up_started and not await signal_if_running(
            follow_up_workflow_id(self._cycle_id), signal, payload
        ):
            workflow.logger.info("follow-up of %s has ended; %s not delivered", self._cycle_id, signal)

    # ----- queries ----------------------------------------------------------------------------------

    @workflow.query
    def status(self, asked_at: datetime | None = None) -> CycleView:
        """`asked_at`: the caller's clock, so `today` is the cycle clock now rather than the last activity's time."""
        now = cycle_now_asked(self._clock, asked_at)
        spec = self._spec
        stage = self._stage
        due = self._schedule.milestone(stage).due if stage is not None and self._open_stage is not None else None
        return CycleView(
            cycle_id=self._cycle_id,
            urn=spec.urn,
            name=spec.name,
            phase=spec.phase,
            review_type=self._review_type,
            cohort=spec.cohort,
            status=self._status,
            stage=stage,
            due=due,
            overdue=bool(self._overdue),
            today=london_date(now),
            now=now,
            start_date=spec.start_date,
            closing_date=self._schedule.closing_date,
            model_id=spec.model.id,
            model_version=spec.model.version,
            milestones=self._milestone_views(),
            prompts_issued=self._prompts,
            escalations=self._escalations,
            follow_up_id=follow_up_workflow_id(self._cycle_id) if self._follow_up_started else None,
            peer_group=self._peer_group,
            review_lead=self._directory.review_lead_email,
            review_starts=self._review_starts,
        )

    @workflow.query
    def maturity_model(self) -> MaturityModel:
        return self._spec.model

    @workflow.query
    def timeline(self) -> list[MilestoneView]:
        return self._milestone_views()

    @workflow.query
    def check_in_dates(self) -> list[date]:
        start = self._accepted_on.get(Stage.ACTION_PLANNING)
        if start is None:
            start = self._schedule.milestone(Stage.ACTION_PLANNING).due
        return check_in_dates(start, self._spec.follow_up, self._spec.calendar)

    def _milestone_views(self) -> list[MilestoneView]:
        views = []
        for m in self._schedule.milestones:
            if m.stage in self._accepted_on:
                state = MilestoneState.DONE
            elif m.stage is self._open_stage:
                state = MilestoneState.OVERDUE if m.stage in self._overdue else MilestoneState.OPEN
            elif self._status is not CycleStatus.ACTIVE:
                state = MilestoneState.NOT_REACHED
            else:
                state = MilestoneState.UPCOMING
            views.append(
                MilestoneView(
                    stage=m.stage,
                    opens=m.opens,
                    due=m.due,
                    state=state,
                    opened_on=self._opened_on.get(m.stage),
                    closed_on=self._accepted_on.get(m.stage),
                    on_time=self._on_time.get(m.stage),
                )
            )
        return views

    # ----- helpers ----------------------------------------------------------------------------------

    def _cycle_now(self) -> datetime:
        return cycle_now(self._clock)

    def _today(self) -> date:
        return london_date(self._cycle_now())

    def _facts(self) -> CycleFacts:
        follow_up = self._spec.follow_up
        return CycleFacts(
            status=self._status,
            review_type=self._review_type,
            model=self._spec.model,
            schedule=self._schedule,
            open_stage=self._open_stage,
            accepted_on=self._accepted_on,
            today=self._today(),
            calendar=self._spec.calendar,
            policy=self._spec.policy,
            peer_group=self._peer_group,
            review_lead=self._directory.review_lead_email,
            review_day=self._review_starts if self._review_type is ReviewType.EXPERT else None,
            now=self._cycle_now(),
            plan_horizon=self._schedule.milestone(Stage.ACTION_PLANNING).due
            + timedelta(weeks=follow_up.interval_weeks * follow_up.rounds),
        )

    def _update_search_attributes(self) -> None:
        if not self._spec.search_attributes:
            return
        stage = self._stage
        updates: list[SearchAttributeUpdate[Any]] = [
            CIS_STATUS.value_set(self._status.value),
            CIS_COHORT.value_set(self._spec.cohort),
            CIS_REVIEW_TYPE.value_set(self._review_type.value),
            CIS_URN.value_set(self._spec.urn),
            CIS_OVERDUE.value_set(bool(self._overdue) and self._status is CycleStatus.ACTIVE),
        ]
        if stage is not None:
            updates.append(CIS_STAGE.value_set(stage.value))
            if self._open_stage is not None:
                due = self._schedule.milestone(stage).due
                updates.append(CIS_DUE_DATE.value_set(at_london(due, self._spec.policy.due_time)))
            else:
                updates.append(CIS_DUE_DATE.value_unset())
        workflow.upsert_search_attributes(updates)


def _addressees(prompts: list[DomainEvent]) -> list[str]:
    return [p.recipient_email or "CEC (no address)" for p in prompts if isinstance(p, PromptIssued)]


def _record_of(milestone: Milestone) -> MilestoneRecord:
    return MilestoneRecord(
        stage=milestone.stage,
        opens=milestone.opens,
        due=milestone.due,
        reminders=list(milestone.reminders),
        escalation=milestone.escalation,
    )
