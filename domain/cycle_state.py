"""Everything a review cycle knows, as one value, and how each fact changes it (`evolve`).

The state changes only through facts: the domain events a cycle records, and a few notes
it keeps to itself (an alarm sounded, findings held for a stage not open yet, the
follow-up begun). Replaying the same facts gives the same state.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from domain.cycle_clock import CycleClock
from domain.cycle_spec import CycleSpec
from domain.events import (
    ActionPlanAgreed,
    AgreedAction,
    ContactReassigned,
    ContactsChanged,
    CycleCompleted,
    CycleLapsed,
    CycleWithdrawn,
    DeadlineExtended,
    DomainEvent,
    Escalated,
    OnboardingCompleted,
    PromptIssued,
    ReviewArrangementChanged,
    ReviewDayScheduled,
    ReviewMeetingArranged,
    ReviewTeamAssigned,
    SelfEvaluationSubmitted,
    StageClosed,
    StageOpened,
    StageOverdue,
)
from domain.london_time import london_date
from domain.peer_group_messages import PeerFindings
from domain.recipients import Directory
from domain.schedule import Schedule, build_schedule, extend_schedule
from domain.school_calendar import SchoolCalendar
from domain.stages import ContactRole, CycleStatus, ReviewType, Stage


@dataclass(frozen=True)
class AlarmSounded:
    key: str


@dataclass(frozen=True)
class FindingsHeld:
    """Findings from the group, kept until the review stage is open: a group can meet before it opens."""

    findings: PeerFindings


@dataclass(frozen=True)
class FollowUpBegun:
    pass


@dataclass(frozen=True)
class CalendarReplaced:
    """The cycle moved onto a corrected calendar: the calendar itself is not an event's to carry (the recorded
    CalendarCorrected names it by reference), so the cycle keeps it, and the schedule it gives, as a note."""

    calendar: SchoolCalendar
    schedule: Schedule
    at: datetime
    moved: frozenset[Stage]


type CycleNote = AlarmSounded | FindingsHeld | FollowUpBegun | CalendarReplaced
type CycleFact = DomainEvent | CycleNote


@dataclass(frozen=True)
class CycleState:
    spec: CycleSpec
    workflow_id: str
    clock: CycleClock
    schedule: Schedule
    directory: Directory
    # How the institution is reviewed can change: a group member may move to a later group or to expert review.
    review_type: ReviewType
    peer_group: str | None
    status: CycleStatus = CycleStatus.ACTIVE
    stage: Stage | None = None  # the latest stage opened
    open_stage: Stage | None = None
    opened_on: Mapping[Stage, date] = field(default_factory=dict)
    accepted_on: Mapping[Stage, date] = field(default_factory=dict)
    on_time: Mapping[Stage, bool] = field(default_factory=dict)
    overdue: frozenset[Stage] = frozenset()
    fired: frozenset[str] = frozenset()
    alarms_from: datetime | None = None
    revision: int = 0  # moves whenever a date the cycle waits for may have moved
    self_evaluation: SelfEvaluationSubmitted | None = None
    actions: tuple[AgreedAction, ...] = ()
    follow_up_started: bool = False
    review_members: tuple[str, ...] = ()
    review_starts: datetime | None = None
    held_findings: PeerFindings | None = None
    prompts: int = 0
    escalations: int = 0

    @property
    def cycle_id(self) -> str:
        return self.spec.cycle_id

    @property
    def active(self) -> bool:
        return self.status is CycleStatus.ACTIVE


def initial_state(spec: CycleSpec, workflow_id: str, clock: CycleClock) -> CycleState:
    return CycleState(
        spec=spec,
        workflow_id=workflow_id,
        clock=clock,
        schedule=build_schedule(spec.start_date, spec.policy, spec.calendar),
        directory=Directory(
            careers_leader_email=spec.careers_leader_email,
            facilitator_email=spec.facilitator_email,
            review_lead_email=spec.review_lead_email,
            cec_email=spec.cec_email,
        ),
        review_type=spec.review_type,
        peer_group=spec.peer_group if spec.review_type is ReviewType.PEER else None,
    )


def evolve(state: CycleState, fact: CycleFact) -> CycleState:
    match fact:
        case StageOpened(stage=stage, at=at):
            return replace(
                state,
                stage=stage,
                open_stage=stage,
                opened_on={**state.opened_on, stage: london_date(at)},
                alarms_from=at,
            )
        case StageClosed(stage=stage, at=at, on_time=on_time):
            return replace(
                state,
                accepted_on={**state.accepted_on, stage: london_date(at)},
                on_time={**state.on_time, stage: on_time},
                open_stage=None,
                overdue=state.overdue - {stage},
                held_findings=None if stage is Stage.REVIEW else state.held_findings,
            )
        case StageOverdue(stage=stage):
            return replace(state, overdue=state.overdue | {stage})
        case PromptIssued():
            return replace(state, prompts=state.prompts + 1)
        case Escalated():
            return replace(state, escalations=state.escalations + 1)
        case OnboardingCompleted(contacts=contacts) | ContactsChanged(contacts=contacts):
            return replace(state, directory=state.directory.with_contacts(contacts))
        case SelfEvaluationSubmitted():
            return replace(state, self_evaluation=fact)
        case ActionPlanAgreed(actions=actions):
            return replace(state, actions=tuple(actions))
        case DeadlineExtended(stage=stage, new_due=new_due, at=at):
            spec = state.spec
            return replace(
                state,
                schedule=extend_schedule(state.schedule, stage, new_due, spec.policy, spec.calendar),
                overdue=state.overdue - {stage},
                alarms_from=at,
                revision=state.revision + 1,
            )
        case CycleWithdrawn():
            return replace(state, status=CycleStatus.WITHDRAWN, open_stage=None)
        case CycleLapsed():
            return replace(state, status=CycleStatus.LAPSED, open_stage=None)
        case CycleCompleted():
            return replace(state, status=CycleStatus.COMPLETED, stage=Stage.RE_EVALUATION)
        case ContactReassigned(role=role, email=email):
            return replace(state, directory=state.directory.with_role(role, email))
        case ReviewTeamAssigned(lead_email=lead, member_emails=members):
            return replace(
                state,
                directory=state.directory.with_role(ContactRole.REVIEW_LEAD, lead),
                review_members=tuple(members),
            )
        case ReviewDayScheduled(starts=starts):
            return replace(state, review_starts=starts, revision=state.revision + 1)
        case ReviewMeetingArranged(meeting_starts=starts):
            return replace(state, review_starts=starts)
        case ReviewArrangementChanged(review_type=review_type, peer_group=group):
            return replace(state, review_type=review_type, peer_group=group)
        case AlarmSounded(key=key):
            return replace(state, fired=state.fired | {key})
        case FindingsHeld(findings=findings):
            return replace(state, held_findings=findings, revision=state.revision + 1)
        case FollowUpBegun():
            return replace(state, follow_up_started=True)
        case CalendarReplaced(calendar=calendar, schedule=schedule, at=at, moved=moved):
            return replace(
                state,
                spec=state.spec.model_copy(update={"calendar": calendar}),
                schedule=schedule,
                overdue=state.overdue - moved,
                alarms_from=at,
                revision=state.revision + 1,
            )
    return state


def evolve_all(state: CycleState, facts: Iterable[CycleFact]) -> CycleState:
    for fact in facts:
        state = evolve(state, fact)
    return state
