"""The review cycle's decisions: `decide(state, command, now)` returns what to record and whom to tell,
or raises a Refusal naming the field and the rule; `next_step(state, now)` says what the cycle does next.

Commands are people's requests (the Update models), what the cycle's peer group tells it
(the signal models), and the cycle's own steps (open a stage, sound an alarm, lapse, ...).
Nothing here waits, reads a clock or touches the outside world.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from domain.content_ref import ContentKind
from domain.cycle_alarms import ALARM_TOLERANCE, Alarm, AlarmKind, pending_alarms
from domain.cycle_rules import (
    SUBMISSION_STAGE,
    CycleFacts,
    check_contacts,
    check_extension,
    check_reassignment,
    check_submission,
    check_withdrawal,
)
from domain.cycle_spec import follow_up_workflow_id
from domain.cycle_state import (
    AlarmSounded,
    CalendarReplaced,
    CycleNote,
    CycleState,
    FindingsHeld,
    FollowUpBegun,
    evolve_all,
)
from domain.decisions import Decision, Record, Signal
from domain.evaluation import findings_recorded, indicator_changes, theme_changes, theme_levels
from domain.events import (
    ActionPlanAgreed,
    AgreedAction,
    AttendanceExpected,
    CalendarCorrected,
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
    ReviewMeetingArranged,
    ReviewTeamAssigned,
    SelfEvaluationSubmitted,
    StageClosed,
    StageOpened,
    StageOverdue,
)
from domain.follow_up import FollowUpInput
from domain.london_time import at_london, london_date
from domain.meeting_slots import MemberSlot
from domain.peer_group_ids import peer_group_workflow_id
from domain.peer_group_messages import GroupExit, MemberLeft, MemberReady, PeerFindings
from domain.peer_group_rules import Destination
from domain.prompts import PromptKind, prompt_events
from domain.recipients import Directory
from domain.refusals import Refusal
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
from domain.review_team import check_review_day, check_review_team
from domain.schedule import Schedule, extend_schedule, recalendar_schedule, working_moment
from domain.school_calendar import SchoolCalendar
from domain.stages import STAGE_ORDER, ContactRole, ReviewType, Stage
from domain.submissions import (
    ActionPlan,
    Onboarding,
    ReEvaluation,
    Report,
    ReviewFindings,
    SelfEvaluation,
    SubmissionKind,
    has_senior_leader,
)

# What the senior leader and the governor hear of, beyond the report: the agreed plan and the re-evaluation.
LEADERSHIP_NEWS: dict[SubmissionKind, PromptKind] = {
    SubmissionKind.ACTION_PLAN: PromptKind.ACTION_PLAN_AGREED,
    SubmissionKind.RE_EVALUATION: PromptKind.RE_EVALUATION_RESULT,
}
# The workflow.patched id under which a cycle sends them: histories recorded before (issue 17) replay without.
LEADERSHIP_NEWS_PATCH = "leadership-news"
_NEWS_KINDS = frozenset(kind.value for kind in LEADERSHIP_NEWS.values())


def brings_leadership_news(decision: "CycleDecision") -> bool:
    return any(isinstance(e, PromptIssued) and e.kind in _NEWS_KINDS for e in decision.events)


def without_leadership_news(decision: "CycleDecision") -> "CycleDecision":
    """The decision as it was before the senior leader and the governor heard of the plan and the re-evaluation:
    what a cycle started before then records, so its history replays as it ran."""

    def kept(event: DomainEvent) -> bool:
        return not (isinstance(event, PromptIssued) and event.kind in _NEWS_KINDS)

    steps = tuple(
        replace(step, events=tuple(filter(kept, step.events))) if isinstance(step, Record) else step
        for step in decision.steps
    )
    return replace(decision, steps=steps)


# ----- the cycle's own commands, and what it does between them ---------------------------------------


@dataclass(frozen=True)
class StartCycle:
    pass


@dataclass(frozen=True)
class OpenStage:
    stage: Stage


@dataclass(frozen=True)
class SoundAlarm:
    alarm: Alarm


@dataclass(frozen=True)
class Lapse:
    stage: Stage


@dataclass(frozen=True)
class Complete:
    pass


@dataclass(frozen=True)
class BeginFollowUp:
    pass


@dataclass(frozen=True)
class AcceptHeldFindings:
    pass


@dataclass(frozen=True)
class CorrectCalendar:
    """A calendar correction whose reference the workflow has resolved and checked: the calendar itself."""

    request: CalendarCorrectionRequest
    calendar: SchoolCalendar


@dataclass(frozen=True)
class Wait:
    """Sleep until `until`, unless the cycle ends, `stage` is accepted, or a date it waits for moves."""

    until: datetime
    stage: Stage
    revision: int

    def interrupted_by(self, state: CycleState) -> bool:
        return not state.active or self.stage in state.accepted_on or state.revision != self.revision


@dataclass(frozen=True)
class Finished:
    pass


# ----- what a decision asks the workflow to do besides recording ------------------------------------


@dataclass(frozen=True)
class Readdress:
    """Prompts not sent yet go to the people the directory now names."""

    directory: Directory


@dataclass(frozen=True)
class StartFollowUp:
    input: FollowUpInput


type CycleMessage = Readdress | StartFollowUp
type CycleDecision = Decision[CycleNote, CycleMessage]
type Step = StartCycle | OpenStage | SoundAlarm | Lapse | Complete | BeginFollowUp | AcceptHeldFindings
type Request = (
    SubmitRequest
    | ExtendRequest
    | WithdrawRequest
    | ReassignRequest
    | ContactsRequest
    | ReviewTeamRequest
    | ReviewDayRequest
    | AttendanceRequest
    | CalendarCorrectionRequest
)
type FromGroup = MemberSlot | PeerFindings | GroupExit
type CycleCommand = Step | Request | FromGroup | CorrectCalendar


def next_step(state: CycleState, now: datetime) -> Step | Wait | Finished:
    """Stages in order: each opens on its day (or once the one before is done, if later), then its alarms sound
    until it is accepted; after the action plan the follow-up begins; after re-evaluation the cycle completes."""
    if not state.active:
        return Finished()
    if Stage.ACTION_PLANNING in state.accepted_on and not state.follow_up_started and state.actions:
        return BeginFollowUp()
    stage = next((s for s in STAGE_ORDER if s not in state.accepted_on), None)
    if stage is None:
        return Complete()
    if stage not in state.opened_on:
        # Read afresh each time: an extension of an earlier stage moves this opening day too.
        opens_at = at_london(state.schedule.milestone(stage).opens, state.spec.policy.working_hours[0])
        if now + ALARM_TOLERANCE < opens_at:
            return Wait(opens_at, stage, state.revision)
        if now + ALARM_TOLERANCE >= state.schedule.closes_at and state.stage is not None:
            return Lapse(state.stage)
        return OpenStage(stage)
    if stage is Stage.REVIEW and state.held_findings is not None:
        return AcceptHeldFindings()
    pending = pending_alarms(state, stage)
    for alarm in pending:
        if alarm.moment <= now + ALARM_TOLERANCE:
            return Lapse(stage) if alarm.kind is AlarmKind.CLOSING else SoundAlarm(alarm)
    return Wait(min(a.moment for a in pending), stage, state.revision)


def facts(state: CycleState, now: datetime) -> CycleFacts:
    """What the rules need to know at the moment of a request."""
    spec = state.spec
    follow_up = spec.follow_up
    return CycleFacts(
        status=state.status,
        review_type=state.review_type,
        model=spec.model,
        schedule=state.schedule,
        open_stage=state.open_stage,
        accepted_on=dict(state.accepted_on),
        today=london_date(now),
        calendar=spec.calendar,
        policy=spec.policy,
        peer_group=state.peer_group,
        review_lead=state.directory.review_lead_email,
        review_day=state.review_starts if state.review_type is ReviewType.EXPERT else None,
        now=now,
        plan_horizon=state.schedule.milestone(Stage.ACTION_PLANNING).due
        + timedelta(weeks=follow_up.interval_weeks * follow_up.rounds),
    )


def decide(state: CycleState, command: CycleCommand, now: datetime) -> CycleDecision:
    """What the command makes happen, given the state; a Refusal (field and rule) when it may not."""
    match command:
        case StartCycle():
            return _start(state, now)
        case OpenStage(stage=stage):
            return _open(state, stage, now)
        case SoundAlarm(alarm=alarm):
            return _sound(state, alarm, now)
        case Lapse(stage=stage):
            return _lapse(state, stage, now)
        case Complete():
            return Decision(steps=(Record((CycleCompleted(cycle_id=state.cycle_id, at=now),)),))
        case BeginFollowUp():
            return Decision(steps=(StartFollowUp(_follow_up_input(state)),), notes=(FollowUpBegun(),))
        case AcceptHeldFindings():
            return _accept_held_findings(state, now)
        case SubmitRequest():
            return _submit(state, command, now)
        case ExtendRequest():
            return _extend(state, command, now)
        case WithdrawRequest():
            return _withdraw(state, command, now)
        case ReassignRequest():
            return _reassign(state, command, now)
        case ContactsRequest():
            return _change_contacts(state, command, now)
        case ReviewTeamRequest():
            return _assign_review_team(state, command, now)
        case ReviewDayRequest():
            return _schedule_review_day(state, command, now)
        case AttendanceRequest():
            return _expect_attendance(state, command, now)
        case CalendarCorrectionRequest():
            check_calendar_correction(state, command)
            return Decision()
        case CorrectCalendar():
            return _correct_calendar(state, command, now)
        case MemberSlot():
            return _meeting_arranged(state, command, now)
        case PeerFindings():
            if command.group != state.peer_group or Stage.REVIEW in state.accepted_on:
                return Decision()
            return Decision(notes=(FindingsHeld(command),))
        case GroupExit():
            return _left_group(state, command, now)
    raise TypeError(f"not a review cycle command: {command!r}")


# ----- the cycle's own steps -------------------------------------------------------------------------


def _start(state: CycleState, now: datetime) -> CycleDecision:
    spec = state.spec
    started = CycleStarted(
        cycle_id=state.cycle_id,
        at=now,
        urn=spec.urn,
        name=spec.name,
        phase=spec.phase,
        review_type=spec.review_type,
        cohort=spec.cohort,
        start_date=spec.start_date,
        model_id=spec.model.id,
        model_version=spec.model.version,
        milestones=milestone_records(state.schedule),
        closing_date=state.schedule.closing_date,
        careers_leader_email=spec.careers_leader_email,
        facilitator_email=spec.facilitator_email,
        seconds_per_week=spec.clock.seconds_per_week,
        region=spec.region,
        careers_hub=spec.careers_hub,
        trust=spec.trust,
        peer_group=spec.peer_group,
        review_lead_email=spec.review_lead_email,
        clock=state.clock,
    )
    return Decision(steps=(Record((started,)),))


def _open(state: CycleState, stage: Stage, now: datetime) -> CycleDecision:
    due = state.schedule.milestone(stage).due
    events: list[DomainEvent] = [StageOpened(cycle_id=state.cycle_id, at=now, stage=stage, due=due)]
    send_at = _send_at(state, now)
    if stage is Stage.ONBOARDING:
        events += _prompts(state, now, PromptKind.TIMELINE, None, send_at, due, key=stage.value)
    events += _prompts(state, now, PromptKind.STAGE_OPENED, stage, send_at, due)
    if stage is Stage.REVIEW and _needs_review_team(state):
        events += _prompts(state, now, PromptKind.REVIEW_TEAM_NEEDED, stage, send_at, due)
    return Decision(steps=(Record(tuple(events), causation=f"{stage}:open"),))


def _sound(state: CycleState, alarm: Alarm, now: datetime) -> CycleDecision:
    stage, due = alarm.stage, alarm.due
    events: Sequence[DomainEvent]
    if alarm.kind is AlarmKind.REMINDER:
        kind = PromptKind.DUE_TODAY if alarm.moment.date() == due else PromptKind.REMINDER
        events = _prompts(state, now, kind, stage, alarm.moment, due)
    elif alarm.kind is AlarmKind.OVERDUE:
        events = [StageOverdue(cycle_id=state.cycle_id, at=now, stage=stage, due=due)]
    elif alarm.kind is AlarmKind.OVERDUE_REMINDER:
        events = _prompts(state, now, PromptKind.OVERDUE, stage, alarm.moment, due)
    elif alarm.kind is AlarmKind.ESCALATION:
        escalate_to = state.spec.policy.reminders.escalate_to
        escalated = Escalated(
            cycle_id=state.cycle_id,
            at=now,
            stage=stage,
            reason=f"{stage.label} was due on {due.isoformat()} and has not been submitted",
            school_days_overdue=state.spec.calendar.school_days_between(due, london_date(now)),
            recipient_role=state.directory.route(escalate_to)[0][0],
        )
        events = [escalated, *_prompts(state, now, PromptKind.ESCALATION, stage, alarm.moment, due, roles=escalate_to)]
    else:
        return _lapse(state, stage, now)
    return Decision(steps=(Record(tuple(events), causation=alarm.key),), notes=(AlarmSounded(alarm.key),))


def _lapse(state: CycleState, stage: Stage, now: datetime) -> CycleDecision:
    lapsed = CycleLapsed(cycle_id=state.cycle_id, at=now, stage=stage, closing_date=state.schedule.closing_date)
    prompts = _prompts(state, now, PromptKind.CYCLE_LAPSED, None, _send_at(state, now), None, key="lapsed")
    steps: list[Record | Signal | CycleMessage] = [Record((lapsed, *prompts), causation="closing")]
    steps += _tell_group(state, "member_left", MemberLeft(cycle_id=state.cycle_id, reason="the cycle lapsed"))
    return Decision(steps=tuple(steps))


def _follow_up_input(state: CycleState) -> FollowUpInput:
    spec = state.spec
    return FollowUpInput(
        cycle_id=state.cycle_id,
        review_type=state.review_type,
        actions=list(state.actions),
        start_date=state.accepted_on[Stage.ACTION_PLANNING],
        policy=spec.follow_up,
        calendar=spec.calendar,
        schedule_policy=spec.policy,
        clock=state.clock,
        directory=state.directory,
        deliver_mail=spec.deliver_mail,
        report_on=state.accepted_on.get(Stage.REPORT),
    )


def _accept_held_findings(state: CycleState, now: datetime) -> CycleDecision:
    delivered = state.held_findings
    assert delivered is not None, "next_step accepts held findings only when there are some"
    events = (
        findings_recorded(state.cycle_id, now, delivered.actor, delivered.findings, state.spec.model),
        _closed(state, Stage.REVIEW, now),
    )
    return Decision(steps=(Record(events, causation=f"findings:{delivered.group}", actor=delivered.actor),))


# ----- people's requests ------------------------------------------------------------------------------


def _submit(state: CycleState, request: SubmitRequest, now: datetime) -> CycleDecision:
    kind, submission = check_submission(facts(state, now), request.kind, request.data, request.actor)
    stage = SUBMISSION_STAGE[kind]
    today = london_date(now)
    events: list[DomainEvent] = [_submitted(state, submission, request.actor, now), _closed(state, stage, now)]
    if kind is SubmissionKind.REPORT:
        when = _send_at(state, now)
        events += _prompts(state, now, PromptKind.REPORT_PUBLISHED, Stage.REPORT, when, None, key="published")
    if kind in LEADERSHIP_NEWS:
        events += _prompts(state, now, LEADERSHIP_NEWS[kind], stage, _send_at(state, now), None, key=kind.value)
    steps: list[Record | Signal | CycleMessage] = [
        Record(tuple(events), causation=f"submit:{kind}", actor=request.actor)
    ]
    after = evolve_all(state, events)
    if isinstance(submission, Onboarding):
        steps.append(Readdress(after.directory))
    if stage is Stage.SELF_EVALUATION:
        steps += _tell_group(after, "member_ready", MemberReady(cycle_id=state.cycle_id, on=today))
    next_stage = stage.next
    message = f"{kind.value} accepted for {state.spec.name} on {today.isoformat()}"
    if next_stage is not None:
        opens = max(state.schedule.milestone(next_stage).opens, today)
        message += f"; {next_stage.label.lower()} opens on {opens.isoformat()}"
    else:
        message += "; the cycle is complete"
    receipt = Receipt(cycle_id=state.cycle_id, message=message, stage=stage, next_stage=next_stage, on=today)
    return Decision(steps=tuple(steps), receipt=receipt)


def _submitted(state: CycleState, submission: BaseModel, actor: str, now: datetime) -> DomainEvent:
    cid, model = state.cycle_id, state.spec.model
    if isinstance(submission, Onboarding):
        return OnboardingCompleted(
            cycle_id=cid,
            at=now,
            contacts=submission.contacts,
            actor=actor,
            share_self_evaluation=submission.share_self_evaluation,
        )
    if isinstance(submission, ReEvaluation):
        before = state.self_evaluation
        assert before is not None, "re-evaluation opens only after the self-evaluation was accepted"
        after_themes = theme_levels(submission, model)
        return ReEvaluationSubmitted(
            cycle_id=cid,
            at=now,
            ratings=submission.ratings,
            theme_levels=after_themes,
            contributors=submission.contributors,
            indicator_changes=indicator_changes(before.ratings, submission.ratings),
            theme_changes=theme_changes(before.theme_levels, after_themes),
            actor=actor,
        )
    if isinstance(submission, SelfEvaluation):
        return SelfEvaluationSubmitted(
            cycle_id=cid,
            at=now,
            ratings=submission.ratings,
            theme_levels=theme_levels(submission, model),
            contributors=submission.contributors,
            actor=actor,
        )
    if isinstance(submission, ReviewFindings):
        return findings_recorded(cid, now, actor, submission, model)
    if isinstance(submission, Report):
        return ReportPublished(cycle_id=cid, at=now, actor=actor, **submission.model_dump(mode="python"))
    if isinstance(submission, ActionPlan):
        actions = [
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
        return ActionPlanAgreed(cycle_id=cid, at=now, actions=actions, actor=actor)
    raise Refusal.one("kind", f"no event for a {type(submission).__name__}")


def _closed(state: CycleState, stage: Stage, now: datetime) -> StageClosed:
    due = state.schedule.milestone(stage).due
    return StageClosed(cycle_id=state.cycle_id, at=now, stage=stage, due=due, on_time=stage not in state.overdue)


def _extend(state: CycleState, request: ExtendRequest, now: datetime) -> CycleDecision:
    stage = check_extension(facts(state, now), request.stage, request.to, request.reason)
    spec = state.spec
    schedule = extend_schedule(state.schedule, stage, request.to, spec.policy, spec.calendar)
    new_due = schedule.milestone(stage).due
    extended = DeadlineExtended(
        cycle_id=state.cycle_id,
        at=now,
        stage=stage,
        previous_due=state.schedule.milestone(stage).due,
        new_due=new_due,
        closing_date=schedule.closing_date,
        milestones=milestone_records(schedule),
        reason=request.reason,
        actor=request.actor,
    )
    key = f"{stage}:{new_due}"
    prompts = _prompts(state, now, PromptKind.DEADLINE_CHANGED, stage, _send_at(state, now), new_due, key=key)
    receipt = Receipt(
        cycle_id=state.cycle_id,
        message=f"{stage.label} is now due on {new_due.isoformat()}; "
        f"the cycle closes on {schedule.closing_date.isoformat()}",
        stage=stage,
        on=london_date(now),
    )
    record = Record((extended, *prompts), causation="extend", actor=request.actor)
    return Decision(steps=(record,), receipt=receipt)


def _withdraw(state: CycleState, request: WithdrawRequest, now: datetime) -> CycleDecision:
    check_withdrawal(facts(state, now), request.reason)
    withdrawn = CycleWithdrawn(
        cycle_id=state.cycle_id,
        at=now,
        stage=state.stage or Stage.ONBOARDING,
        reason=request.reason,
        actor=request.actor,
    )
    steps: list[Record | Signal | CycleMessage] = [Record((withdrawn,), causation="withdraw", actor=request.actor)]
    left = MemberLeft(cycle_id=state.cycle_id, reason=f"withdrawn: {request.reason}")
    steps += _tell_group(state, "member_left", left)
    steps += _tell_follow_up(state, "stop", request.reason)
    receipt = Receipt(cycle_id=state.cycle_id, message=f"withdrawn: {request.reason}", on=london_date(now))
    return Decision(steps=tuple(steps), receipt=receipt)


def _reassign(state: CycleState, request: ReassignRequest, now: datetime) -> CycleDecision:
    role, email = check_reassignment(facts(state, now), request.role, request.email)
    event = ContactReassigned(
        cycle_id=state.cycle_id,
        at=now,
        role=role,
        email=email,
        previous_email=state.directory.address(role),
        actor=request.actor,
    )
    message = f"{role.value.replace('_', ' ')} is now {email}; prompts from now on go to them"
    return _directory_changed(state, event, "reassign", request.actor, message, now)


def _change_contacts(state: CycleState, request: ContactsRequest, now: datetime) -> CycleDecision:
    contacts = check_contacts(facts(state, now), request.contacts)
    event = ContactsChanged(cycle_id=state.cycle_id, at=now, contacts=contacts, actor=request.actor)
    message = f"contacts updated; prompts from now on go to {contacts.careers_leader.email}"
    return _directory_changed(state, event, "contacts", request.actor, message, now)


def _assign_review_team(state: CycleState, request: ReviewTeamRequest, now: datetime) -> CycleDecision:
    team = check_review_team(facts(state, now), request.lead, request.members)
    event = ReviewTeamAssigned(
        cycle_id=state.cycle_id,
        at=now,
        lead_email=team.lead_email,
        member_emails=team.member_emails,
        previous_lead_email=state.directory.review_lead_email,
        actor=request.actor,
    )
    members = f" with {', '.join(team.member_emails)}" if team.member_emails else ""
    message = f"review team: {team.lead_email} leads{members}; the lead schedules the review day next"
    return _directory_changed(state, event, "review-team", request.actor, message, now)


def _directory_changed(
    state: CycleState, event: DomainEvent, causation: str, actor: str, message: str, now: datetime
) -> CycleDecision:
    """Prompts not sent yet, here and in the follow-up, go to the people the directory now names."""
    after = evolve_all(state, [event])
    steps: list[Record | Signal | CycleMessage] = [
        Record((event,), causation=causation, actor=actor),
        Readdress(after.directory),
    ]
    steps += _tell_follow_up(state, "contacts_changed", after.directory)
    return Decision(steps=tuple(steps), receipt=Receipt(cycle_id=state.cycle_id, message=message, on=london_date(now)))


def _schedule_review_day(state: CycleState, request: ReviewDayRequest, now: datetime) -> CycleDecision:
    day = check_review_day(facts(state, now), request.actor, request.on, request.start)
    starts = at_london(day.on, day.start)
    scheduled = ReviewDayScheduled(
        cycle_id=state.cycle_id, at=now, starts=starts, previous_starts=state.review_starts, actor=request.actor
    )
    key = f"review-day:{starts.isoformat()}"
    invites = _prompts(state, now, PromptKind.MEETING_INVITE, Stage.REVIEW, _send_at(state, now), day.on, key=key)
    addressees = ", ".join(p.recipient_email or "CEC (no address)" for p in invites)
    receipt = Receipt(
        cycle_id=state.cycle_id,
        message=f"review day: {day.on.isoformat()} from {day.start.strftime('%H:%M')}; "
        f"invitations sent to {addressees}",
        on=london_date(now),
    )
    record = Record((scheduled, *invites), causation="review-day", actor=request.actor)
    return Decision(steps=(record,), receipt=receipt)


def _expect_attendance(state: CycleState, request: AttendanceRequest, now: datetime) -> CycleDecision:
    if not state.active:
        raise Refusal.one("cycle", f"is {state.status}; nothing more can be changed")
    if Stage.REVIEW in state.accepted_on:
        raise Refusal.one("roles", "the review has taken place: its findings record who attended")
    roles = list(dict.fromkeys(request.roles))
    expected = AttendanceExpected(cycle_id=state.cycle_id, at=now, roles=roles, actor=request.actor)
    events: list[DomainEvent] = [expected]
    message = "expected at the review: " + (", ".join(r.value for r in roles) or "nobody named yet")
    if not has_senior_leader(roles):
        due = london_date(state.review_starts) if state.review_starts else None
        key = f"attendance:{now.isoformat()}"
        # No stage: not the review's work, which waits for a peer facilitator's weekly digest; this goes at once.
        events += _prompts(state, now, PromptKind.SENIOR_LEADER_ABSENT, None, _send_at(state, now), due, key)
        message += "; no senior leader expected: the facilitator is told"
    receipt = Receipt(cycle_id=state.cycle_id, message=message, on=london_date(now))
    return Decision(steps=(Record(tuple(events), causation="attendance", actor=request.actor),), receipt=receipt)


def check_calendar_correction(state: CycleState, request: CalendarCorrectionRequest) -> None:
    """Pure and fast (an Update's validator): the reference may be resolved only once this passes."""
    if not state.active:
        raise Refusal.one("cycle", f"is {state.status}; nothing more can be changed")
    ref, current = request.calendar, state.spec.calendar
    if ref.kind is not ContentKind.CALENDAR:
        raise Refusal.one("calendar", f"{ref} is not a school calendar")
    if ref.id != current.id:
        raise Refusal.one("calendar", f"the cycle follows {current.id}; a correction is a new version of it")
    if ref.version == current.version:
        raise Refusal.one("calendar", f"the cycle follows {current.id}@{current.version} already")


def _correct_calendar(state: CycleState, command: CorrectCalendar, now: datetime) -> CycleDecision:
    request, calendar = command.request, command.calendar
    check_calendar_correction(state, request)
    spec, today = state.spec, london_date(now)
    schedule = recalendar_schedule(state.schedule, spec.policy, calendar, today)
    before = {m.stage: m.due for m in state.schedule.milestones}
    moved = [m.stage for m in schedule.milestones if m.due != before[m.stage]]
    corrected = CalendarCorrected(
        cycle_id=state.cycle_id,
        at=now,
        calendar_id=calendar.id,
        previous_version=spec.calendar.version,
        version=calendar.version,
        checksum=request.calendar.checksum,
        closing_date=schedule.closing_date,
        milestones=milestone_records(schedule),
        moved=moved,
        actor=request.actor,
    )
    events: list[DomainEvent] = [corrected]
    after = evolve_all(state, [CalendarReplaced(calendar, schedule, now, frozenset(moved))])
    stage = state.open_stage
    if stage in moved:
        new_due = schedule.milestone(stage).due
        when = _send_at(after, now)
        events += _prompts(state, now, PromptKind.DEADLINE_CHANGED, stage, when, new_due, key=f"{stage}:{new_due}")
    changes = [f"{s.label} is now due on {schedule.milestone(s).due.isoformat()}" for s in moved]
    message = f"calendar {calendar.id} is now version {calendar.version}; " + (
        "; ".join(changes) if changes else "no date of this cycle moved"
    )
    receipt = Receipt(cycle_id=state.cycle_id, message=message, on=today)
    record = Record(tuple(events), causation=f"calendar:{calendar.id}@{calendar.version}", actor=request.actor)
    notes = (CalendarReplaced(calendar, schedule, now, frozenset(moved)),)
    return Decision(steps=(record,), notes=notes, receipt=receipt)


# ----- what the cycle's peer group tells it -------------------------------------------------------------


def _meeting_arranged(state: CycleState, slot: MemberSlot, now: datetime) -> CycleDecision:
    if not state.active or slot.group != state.peer_group:
        return Decision()
    arranged = ReviewMeetingArranged(
        cycle_id=state.cycle_id,
        at=now,
        peer_group=slot.group,
        meeting_starts=slot.meeting_starts,
        slot_starts=slot.slot_starts,
        slot_ends=slot.slot_ends,
        themes_in_scope=slot.themes_in_scope,
    )
    due = slot.meeting_starts.date()
    key = f"{slot.group}:{slot.slot_starts.isoformat()}"
    invites = _prompts(state, now, PromptKind.MEETING_INVITE, Stage.REVIEW, _send_at(state, now), due, key=key)
    record = Record((arranged, *invites), causation=f"meeting:{slot.group}", actor=slot.facilitator_email)
    return Decision(steps=(record,))


def _left_group(state: CycleState, exit_: GroupExit, now: datetime) -> CycleDecision:
    if exit_.group != state.peer_group or not state.active:
        return Decision()
    expert = exit_.to is Destination.EXPERT_REVIEW
    changed = ReviewArrangementChanged(
        cycle_id=state.cycle_id,
        at=now,
        review_type=ReviewType.EXPERT if expert else state.review_type,
        peer_group=None if expert else exit_.later_group,
        previous_peer_group=state.peer_group,
        reason=exit_.reason,
        actor=exit_.actor,
    )
    after = evolve_all(state, [changed])
    steps: list[Record | Signal | CycleMessage] = [
        Record((changed,), causation=f"left:{state.peer_group}", actor=exit_.actor)
    ]
    accepted = state.accepted_on.get(Stage.SELF_EVALUATION)
    if accepted is not None:
        # Ready before the move reached us: the new group must hear it too.
        steps += _tell_group(after, "member_ready", MemberReady(cycle_id=state.cycle_id, on=accepted))
    if after.open_stage is Stage.REVIEW and _needs_review_team(after):
        due = after.schedule.milestone(Stage.REVIEW).due
        prompts = _prompts(after, now, PromptKind.REVIEW_TEAM_NEEDED, Stage.REVIEW, _send_at(after, now), due, "moved")
        steps.append(Record(tuple(prompts), causation="moved"))
    return Decision(steps=tuple(steps))


# ----- shared pieces ------------------------------------------------------------------------------------


def _needs_review_team(state: CycleState) -> bool:
    return state.review_type is ReviewType.EXPERT and state.directory.review_lead_email is None


def _tell_group(state: CycleState, signal: str, payload: BaseModel) -> list[Signal]:
    if state.review_type is not ReviewType.PEER or state.peer_group is None:
        return []
    return [Signal(peer_group_workflow_id(state.spec.cohort, state.peer_group), signal, payload)]


def _tell_follow_up(state: CycleState, signal: str, payload: object) -> list[Signal]:
    """The follow-up may have finished its rounds long ago: the change stands either way."""
    return [Signal(follow_up_workflow_id(state.cycle_id), signal, payload)] if state.follow_up_started else []


def _send_at(state: CycleState, now: datetime) -> datetime:
    return working_moment(now, state.spec.policy, state.spec.calendar)


def _prompts(
    state: CycleState,
    now: datetime,
    kind: PromptKind,
    stage: Stage | None,
    when: datetime,
    due: date | None,
    key: str | None = None,
    roles: tuple[ContactRole, ...] | None = None,
) -> list[PromptIssued]:
    return prompt_events(
        workflow_id=state.workflow_id,
        cycle_id=state.cycle_id,
        at=now,
        kind=kind,
        stage=stage,
        review_type=state.review_type,
        directory=state.directory,
        scheduled_for=when,
        due=due,
        key=key or f"{stage}:{when.isoformat()}",
        roles=roles,
    )


def milestone_records(schedule: Schedule) -> list[MilestoneRecord]:
    return [
        MilestoneRecord(stage=m.stage, opens=m.opens, due=m.due, reminders=list(m.reminders), escalation=m.escalation)
        for m in schedule.milestones
    ]
