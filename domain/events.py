"""Domain events: one class per fact, each carrying the cycle it belongs to.

Event classes are the contract between workflows (which decide them), the event
store (which keeps them) and projections (which read them). Their `type` is the
stored type name: never rename one; add a new class instead.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.cycle_clock import CycleClock
from domain.stages import ContactRole, Phase, ReviewType, Stage
from domain.submissions import (
    ActionNote,
    ActionProgress,
    AgreedLevel,
    AttendeeRole,
    Contacts,
    DevelopmentPriority,
    Rating,
    ReviewFindings,
    ThemeLevel,
)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle_id: str
    at: datetime = Field(description="Cycle time at which the fact happened (Europe/London aware)")


class MilestoneRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Stage
    opens: date
    due: date
    reminders: list[datetime]
    escalation: datetime


class CycleStarted(_Event):
    type: Literal["CycleStarted"] = "CycleStarted"
    urn: str
    name: str
    phase: Phase
    review_type: ReviewType
    cohort: str
    start_date: date
    model_id: str
    model_version: str
    milestones: list[MilestoneRecord]
    closing_date: date
    careers_leader_email: str | None
    facilitator_email: str | None
    seconds_per_week: float | None
    region: str | None = None
    careers_hub: str | None = None
    trust: str | None = None
    peer_group: str | None = None
    review_lead_email: str | None = None
    clock: CycleClock | None = Field(
        default=None, description="The cycle's clock, anchored: what date it is in the cycle at any real moment"
    )


class StageOpened(_Event):
    type: Literal["StageOpened"] = "StageOpened"
    stage: Stage
    due: date


class StageOverdue(_Event):
    type: Literal["StageOverdue"] = "StageOverdue"
    stage: Stage
    due: date


class StageClosed(_Event):
    type: Literal["StageClosed"] = "StageClosed"
    stage: Stage
    due: date
    on_time: bool


class PromptIssued(_Event):
    type: Literal["PromptIssued"] = "PromptIssued"
    prompt_id: str
    kind: str
    stage: Stage | None
    recipient_role: ContactRole
    recipient_email: str | None
    due: date | None
    scheduled_for: datetime


class OnboardingCompleted(_Event):
    type: Literal["OnboardingCompleted"] = "OnboardingCompleted"
    contacts: Contacts
    actor: str
    share_self_evaluation: bool = Field(
        default=False, description="Agreed to share its self-evaluation with its peer group (false before it was asked)"
    )


class ContactsChanged(_Event):
    type: Literal["ContactsChanged"] = "ContactsChanged"
    contacts: Contacts
    actor: str


class SelfEvaluationSubmitted(_Event):
    type: Literal["SelfEvaluationSubmitted"] = "SelfEvaluationSubmitted"
    ratings: list[Rating]
    theme_levels: list[ThemeLevel]
    contributors: list[str]
    actor: str


class ReviewFindingsRecorded(_Event):
    type: Literal["ReviewFindingsRecorded"] = "ReviewFindingsRecorded"
    strengths: list[str]
    development_priorities: list[DevelopmentPriority]
    agreed_levels: list[AgreedLevel]
    recommendations: list[str]
    resources: list[str]
    themes_in_scope: list[str]
    actor: str
    agreed_theme_levels: list[ThemeLevel] = Field(
        default_factory=list, description="Per theme with agreed indicators, the lower median of their levels"
    )
    questions_discussed: list[str] = Field(default_factory=list, description="Questions to probe discussed, by key")
    attendance: list[AttendeeRole] = Field(default_factory=list, description="Who attended, by role")


class ReportPublished(_Event):
    type: Literal["ReportPublished"] = "ReportPublished"
    format: Literal["report", "summary"]
    body: str
    summary_for_staff: str
    strengths: list[str]
    development_priorities: list[DevelopmentPriority]
    recommendations: list[str]
    resources: list[str]
    actor: str


class AgreedAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    action_id: str
    title: str
    indicator_ids: list[str]
    owner_role: str
    due: date
    success_measure: str


class ActionPlanAgreed(_Event):
    type: Literal["ActionPlanAgreed"] = "ActionPlanAgreed"
    actions: list[AgreedAction]
    actor: str


class LevelChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    before: int
    after: int
    change: int


class ReEvaluationSubmitted(_Event):
    type: Literal["ReEvaluationSubmitted"] = "ReEvaluationSubmitted"
    ratings: list[Rating]
    theme_levels: list[ThemeLevel]
    contributors: list[str]
    indicator_changes: list[LevelChange]
    theme_changes: list[LevelChange]
    actor: str


class ContactReassigned(_Event):
    type: Literal["ContactReassigned"] = "ContactReassigned"
    role: ContactRole
    email: str
    previous_email: str | None
    actor: str


class DeadlineExtended(_Event):
    type: Literal["DeadlineExtended"] = "DeadlineExtended"
    stage: Stage
    previous_due: date
    new_due: date
    closing_date: date
    milestones: list[MilestoneRecord]
    reason: str
    actor: str


class CalendarCorrected(_Event):
    """An administrator corrected the cycle's school calendar (a new bank holiday, say): the dates still to come
    follow the new version; what is past stays as it was."""

    type: Literal["CalendarCorrected"] = "CalendarCorrected"
    calendar_id: str
    previous_version: str
    version: str
    checksum: str
    closing_date: date
    milestones: list[MilestoneRecord]
    moved: list[Stage] = Field(default_factory=list, description="Stages whose due date the correction moved")
    actor: str


class Escalated(_Event):
    type: Literal["Escalated"] = "Escalated"
    stage: Stage | None
    reason: str
    school_days_overdue: int
    recipient_role: ContactRole
    action_id: str | None = None


class CycleCompleted(_Event):
    type: Literal["CycleCompleted"] = "CycleCompleted"


class CycleLapsed(_Event):
    type: Literal["CycleLapsed"] = "CycleLapsed"
    stage: Stage
    closing_date: date


class CycleWithdrawn(_Event):
    type: Literal["CycleWithdrawn"] = "CycleWithdrawn"
    stage: Stage
    reason: str
    actor: str


class FollowUpStarted(_Event):
    type: Literal["FollowUpStarted"] = "FollowUpStarted"
    actions: list[AgreedAction]
    check_in_dates: list[date]


class CheckInRecorded(_Event):
    type: Literal["CheckInRecorded"] = "CheckInRecorded"
    round: int
    progress: list[ActionProgress]
    actor: str


class CheckInMissed(_Event):
    type: Literal["CheckInMissed"] = "CheckInMissed"
    round: int
    due: date


class ActionStalled(_Event):
    type: Literal["ActionStalled"] = "ActionStalled"
    round: int
    action_id: str
    rounds_without_progress: int


class MomentumRecorded(_Event):
    type: Literal["MomentumRecorded"] = "MomentumRecorded"
    round: int
    moving: int
    total: int
    momentum: float = Field(description="Share of open actions that moved this round, 0 to 1")


class FollowUpCompleted(_Event):
    type: Literal["FollowUpCompleted"] = "FollowUpCompleted"
    rounds: int
    done: int
    total: int


class FollowUpMeetingScheduled(_Event):
    """The facilitator (peer) or review lead (expert) set, or moved, a follow-up meeting on the action plan."""

    type: Literal["FollowUpMeetingScheduled"] = "FollowUpMeetingScheduled"
    starts: datetime
    ends: datetime
    check_in_due: date = Field(description="The check-in the meeting reviews is due by this day")
    previous_starts: datetime | None = None
    actor: str


class FollowUpMeetingHeld(_Event):
    """The follow-up meeting took place: a short note on each action of the plan."""

    type: Literal["FollowUpMeetingHeld"] = "FollowUpMeetingHeld"
    starts: datetime
    notes: list[ActionNote]
    actor: str


class ReviewTeamAssigned(_Event):
    type: Literal["ReviewTeamAssigned"] = "ReviewTeamAssigned"
    lead_email: str
    member_emails: list[str]
    previous_lead_email: str | None
    actor: str


class ReviewDayScheduled(_Event):
    type: Literal["ReviewDayScheduled"] = "ReviewDayScheduled"
    starts: datetime
    previous_starts: datetime | None
    actor: str


class AttendanceExpected(_Event):
    """Who from the school is expected at the review day or the peer meeting, by role (the latest one counts)."""

    type: Literal["AttendanceExpected"] = "AttendanceExpected"
    roles: list[AttendeeRole]
    actor: str


class ReviewArrangementChanged(_Event):
    """A peer group member moved to a later group or to expert review."""

    type: Literal["ReviewArrangementChanged"] = "ReviewArrangementChanged"
    review_type: ReviewType
    peer_group: str | None
    previous_peer_group: str | None
    reason: str
    actor: str


class ReviewMeetingArranged(_Event):
    """The cycle's own record of its slot in its peer group's meeting."""

    type: Literal["ReviewMeetingArranged"] = "ReviewMeetingArranged"
    peer_group: str
    meeting_starts: datetime
    slot_starts: datetime
    slot_ends: datetime
    themes_in_scope: list[str]


# Peer group facts live in the group's stream, one event per member concerned, so each
# member cycle's audit trail shows its part of the group's story.


class PeerGroupFormed(_Event):
    """A peer group's first fact: the cohort and Careers Hub it belongs to, which decide who may open it.
    Its cycle_id is the group's own workflow id (the group is not a cycle)."""

    type: Literal["PeerGroupFormed"] = "PeerGroupFormed"
    cohort: str
    group: str
    facilitator_email: str
    careers_hub: str | None = None


class PeerGroupJoined(_Event):
    type: Literal["PeerGroupJoined"] = "PeerGroupJoined"
    group: str
    facilitator_email: str
    previous_group: str | None = None


class PeerMemberReady(_Event):
    type: Literal["PeerMemberReady"] = "PeerMemberReady"
    group: str
    self_evaluation_accepted_on: date


class PeerMeetingScheduled(_Event):
    type: Literal["PeerMeetingScheduled"] = "PeerMeetingScheduled"
    group: str
    meeting_starts: datetime
    meeting_ends: datetime
    slot_starts: datetime
    slot_ends: datetime
    themes_in_scope: list[str]
    actor: str


class PeerMeetingHeld(_Event):
    type: Literal["PeerMeetingHeld"] = "PeerMeetingHeld"
    group: str


class PeerMemberMoved(_Event):
    type: Literal["PeerMemberMoved"] = "PeerMemberMoved"
    group: str
    to: str = Field(description="later_group or expert_review")
    later_group: str | None
    reason: str
    actor: str


class PeerMemberLeft(_Event):
    type: Literal["PeerMemberLeft"] = "PeerMemberLeft"
    group: str
    reason: str


class PeerFindingsRecorded(_Event):
    """The facilitator recorded this member's findings and handed them to its cycle. The cycle records them as
    ReviewFindingsRecorded once its review stage is open (a group may meet before that): until then this event,
    in the group's stream, is where they are kept and read back from."""

    type: Literal["PeerFindingsRecorded"] = "PeerFindingsRecorded"
    group: str
    actor: str
    findings: ReviewFindings | None = Field(default=None, description="Absent from events recorded before it was")


class PromptSent(_Event):
    """One email went out carrying these prompts (more than one: a digest)."""

    type: Literal["PromptSent"] = "PromptSent"
    prompt_ids: list[str]
    recipient_email: str
    message_id: str
    digest: bool = Field(default=False, description="Went out in a digest with other news")


class PromptSuppressed(_Event):
    """Optional nudges not sent because the recipient switched them off."""

    type: Literal["PromptSuppressed"] = "PromptSuppressed"
    prompt_ids: list[str]
    recipient_email: str


class PromptFailed(_Event):
    """The address refused these prompts for good; the facilitator is told."""

    type: Literal["PromptFailed"] = "PromptFailed"
    prompt_ids: list[str]
    recipient_email: str
    reason: str


class NeedsAttention(_Event):
    """Something retrying cannot fix went wrong (facts that could not be stored, mail that cannot be built):
    the workflow carries on with its timers, and the dashboard shows the cycle until someone looks."""

    type: Literal["NeedsAttention"] = "NeedsAttention"
    reason: str = Field(description="What failed, in an operator's words (bounded, one line)")
    source: str = Field(description="The workflow that hit it")
    failed_types: list[str] = Field(default_factory=list, description="The event types that were not recorded")


class CycleStartRefused(_Event):
    """The cycle could not start: its model or calendar reference did not resolve to what it names (not in the
    content registry, or a checksum that does not match). The workflow fails; the dashboard shows the cycle."""

    type: Literal["CycleStartRefused"] = "CycleStartRefused"
    urn: str
    name: str
    phase: Phase
    review_type: ReviewType
    cohort: str
    start_date: date
    model_id: str
    model_version: str
    reference: str = Field(description="The reference that failed, id@version")
    reason: str = Field(description="Why, in an operator's words (bounded, one line)")


DomainEvent = Annotated[
    CycleStarted
    | StageOpened
    | StageOverdue
    | StageClosed
    | PromptIssued
    | OnboardingCompleted
    | ContactsChanged
    | ContactReassigned
    | SelfEvaluationSubmitted
    | ReviewFindingsRecorded
    | ReportPublished
    | ActionPlanAgreed
    | ReEvaluationSubmitted
    | DeadlineExtended
    | CalendarCorrected
    | CycleStartRefused
    | Escalated
    | CycleCompleted
    | CycleLapsed
    | CycleWithdrawn
    | FollowUpStarted
    | CheckInRecorded
    | CheckInMissed
    | ActionStalled
    | MomentumRecorded
    | FollowUpCompleted
    | FollowUpMeetingScheduled
    | FollowUpMeetingHeld
    | ReviewTeamAssigned
    | ReviewDayScheduled
    | AttendanceExpected
    | ReviewArrangementChanged
    | ReviewMeetingArranged
    | PeerGroupFormed
    | PeerGroupJoined
    | PeerMemberReady
    | PeerMeetingScheduled
    | PeerMeetingHeld
    | PeerMemberMoved
    | PeerMemberLeft
    | PeerFindingsRecorded
    | PromptSent
    | PromptSuppressed
    | PromptFailed
    | NeedsAttention,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[DomainEvent] = TypeAdapter(DomainEvent)


def parse_event(type_name: str, data: dict[str, Any]) -> DomainEvent:
    return EVENT_ADAPTER.validate_python({**data, "type": type_name})


class EventMetadata(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: str = Field(description="Who caused it: a person's role or 'system'")
    workflow_id: str
    run_id: str | None = None
    correlation_id: str = Field(description="The cycle or cohort this belongs to")
    causation_id: str | None = Field(default=None, description="The update or timer that caused it")


class NewEvent(BaseModel):
    """An event on its way into the store, with the id that makes its append idempotent."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event: DomainEvent
    metadata: EventMetadata


class AppendRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    expected_version: int = Field(description="Stream version before these events; 0 for a new stream")
    events: list[NewEvent] = Field(min_length=1)


class StoredEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: int
    stream_id: str
    version: int
    event_id: str
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    # The writing transaction's id: readers follow (transaction_id, position), see store/event_order.py.
    transaction_id: int = 0
