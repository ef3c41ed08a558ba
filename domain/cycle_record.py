"""What a cycle's people submitted and what followed, read back from its events alone.

The event store is the record: every accepted submission is an event, so reading it back
needs no workflow query and no extra state, and works just as well after the cycle has ended.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.events import (
    ActionPlanAgreed,
    ActionStalled,
    AttendanceExpected,
    CheckInRecorded,
    CycleStarted,
    MomentumRecorded,
    OnboardingCompleted,
    PeerFindingsRecorded,
    ReEvaluationSubmitted,
    ReportPublished,
    ReviewDayScheduled,
    ReviewFindingsRecorded,
    ReviewMeetingArranged,
    SelfEvaluationSubmitted,
    StoredEvent,
    parse_event,
)
from domain.submissions import ReviewFindings, SubmissionKind

# The event that records each kind of submission; check-ins are one event per round.
SUBMISSION_EVENTS: dict[SubmissionKind, str] = {
    SubmissionKind.ONBOARDING: "OnboardingCompleted",
    SubmissionKind.SELF_EVALUATION: "SelfEvaluationSubmitted",
    SubmissionKind.REVIEW: "ReviewFindingsRecorded",
    SubmissionKind.REPORT: "ReportPublished",
    SubmissionKind.ACTION_PLAN: "ActionPlanAgreed",
    SubmissionKind.RE_EVALUATION: "ReEvaluationSubmitted",
    SubmissionKind.CHECK_IN: "CheckInRecorded",
}
TITLES: dict[SubmissionKind, str] = {
    SubmissionKind.ONBOARDING: "Onboarding",
    SubmissionKind.SELF_EVALUATION: "Self-evaluation",
    SubmissionKind.REVIEW: "Review findings",
    SubmissionKind.REPORT: "Report",
    SubmissionKind.ACTION_PLAN: "Action plan",
    SubmissionKind.RE_EVALUATION: "Re-evaluation",
    SubmissionKind.CHECK_IN: "Check-ins",
}
# A peer group member's findings are in its group's stream from the moment the facilitator records them.
HELD_FINDINGS = "PeerFindingsRecorded"
# How the review is arranged, and who from the school is expected at it.
ARRANGEMENT_TYPES = ("ReviewDayScheduled", "ReviewMeetingArranged", "AttendanceExpected")
RECORD_TYPES = (
    *SUBMISSION_EVENTS.values(),
    "CycleStarted",
    "MomentumRecorded",
    "ActionStalled",
    HELD_FINDINGS,
    *ARRANGEMENT_TYPES,
)
_ENVELOPE = {"cycle_id", "at", "actor", "type"}


class SubmittedWork(BaseModel):
    """One accepted submission as it was recorded: who, when, and what (in the submission's own shape)."""

    model_config = ConfigDict(frozen=True)

    cycle_id: str
    kind: SubmissionKind
    submitted_at: datetime = Field(description="Cycle time of acceptance (Europe/London)")
    submitted_by: str
    data: dict[str, Any]


class CycleRecord(BaseModel):
    """Everything the outcome pages read: the cycle's start and each stage's accepted work."""

    model_config = ConfigDict(frozen=True)

    started: CycleStarted | None = None
    onboarding: OnboardingCompleted | None = None
    self_evaluation: SelfEvaluationSubmitted | None = None
    findings: ReviewFindingsRecorded | None = None
    report: ReportPublished | None = None
    action_plan: ActionPlanAgreed | None = None
    re_evaluation: ReEvaluationSubmitted | None = None
    review_day: ReviewDayScheduled | None = None
    meeting: ReviewMeetingArranged | None = None
    expected_attendance: AttendanceExpected | None = None
    check_ins: list[CheckInRecorded] = Field(default_factory=list)
    momentum: list[MomentumRecorded] = Field(default_factory=list)
    stalled: list[ActionStalled] = Field(default_factory=list)

    @property
    def review_starts(self) -> datetime | None:
        """When the review begins: the expert review day, or the school's slot in its peer group's meeting."""
        if self.meeting is not None and (self.review_day is None or self.meeting.at > self.review_day.at):
            return self.meeting.slot_starts
        return self.review_day.starts if self.review_day is not None else None

    def accepted(self, kind: SubmissionKind) -> bool:
        if kind is SubmissionKind.CHECK_IN:
            return bool(self.check_ins)
        return self._single(kind) is not None

    def _single(self, kind: SubmissionKind) -> Any:
        return {
            SubmissionKind.ONBOARDING: self.onboarding,
            SubmissionKind.SELF_EVALUATION: self.self_evaluation,
            SubmissionKind.REVIEW: self.findings,
            SubmissionKind.REPORT: self.report,
            SubmissionKind.ACTION_PLAN: self.action_plan,
            SubmissionKind.RE_EVALUATION: self.re_evaluation,
        }[kind]

    def submitted(self, kind: SubmissionKind) -> SubmittedWork | None:
        """The accepted work of one kind; check-ins come as every round so far, in `data.rounds`."""
        if kind is SubmissionKind.CHECK_IN:
            if not self.check_ins:
                return None
            last = self.check_ins[-1]
            rounds = [_body(c) | {"submitted_at": c.at, "submitted_by": c.actor} for c in self.check_ins]
            return SubmittedWork(
                cycle_id=last.cycle_id,
                kind=kind,
                submitted_at=last.at,
                submitted_by=last.actor,
                data={"rounds": rounds},
            )
        event = self._single(kind)
        if event is None:
            return None
        data = _body(event)
        if kind is SubmissionKind.ONBOARDING:
            data["timeline_acknowledged"] = True  # onboarding is only accepted with it
        elif kind is SubmissionKind.ACTION_PLAN:
            data["actions"] = [{"id": a.pop("action_id"), **a} for a in data["actions"]]
        return SubmittedWork(
            cycle_id=event.cycle_id, kind=kind, submitted_at=event.at, submitted_by=event.actor, data=data
        )


def _work(event: Any, kind: SubmissionKind, data: dict[str, Any]) -> SubmittedWork:
    return SubmittedWork(cycle_id=event.cycle_id, kind=kind, submitted_at=event.at, submitted_by=event.actor, data=data)


def _body(event: BaseModel) -> dict[str, Any]:
    return {k: v for k, v in event.model_dump(mode="json").items() if k not in _ENVELOPE}


def cycle_record(events: list[StoredEvent]) -> CycleRecord:
    """Fold a cycle's events (in order) into its record; later events of a kind replace earlier ones."""
    found: dict[str, Any] = {"check_ins": [], "momentum": [], "stalled": []}
    fields = {
        "CycleStarted": "started",
        "OnboardingCompleted": "onboarding",
        "SelfEvaluationSubmitted": "self_evaluation",
        "ReviewFindingsRecorded": "findings",
        "ReportPublished": "report",
        "ActionPlanAgreed": "action_plan",
        "ReEvaluationSubmitted": "re_evaluation",
        "ReviewDayScheduled": "review_day",
        "ReviewMeetingArranged": "meeting",
        "AttendanceExpected": "expected_attendance",
    }
    lists = {"CheckInRecorded": "check_ins", "MomentumRecorded": "momentum", "ActionStalled": "stalled"}
    for stored in events:
        if stored.type in fields:
            found[fields[stored.type]] = parse_event(stored.type, stored.data)
        elif stored.type in lists:
            found[lists[stored.type]].append(parse_event(stored.type, stored.data))
        elif stored.type == HELD_FINDINGS and "findings" not in found:
            held = parse_event(stored.type, stored.data)
            if isinstance(held, PeerFindingsRecorded) and held.findings is not None:
                found["findings"] = findings_of_peer(held, held.findings)
    return CycleRecord(**found)


def findings_of_peer(held: PeerFindingsRecorded, findings: ReviewFindings) -> ReviewFindingsRecorded:
    """A member's findings as the facilitator recorded them, read back before (and exactly as) its cycle records
    them once its review stage opens: the facilitator can read them after the meeting, whenever that stage opens."""
    return ReviewFindingsRecorded(cycle_id=held.cycle_id, at=held.at, actor=held.actor, **findings.model_dump())


def accepted_kinds(record: CycleRecord) -> list[tuple[SubmissionKind, str]]:
    """Each kind of work accepted so far, with its title, in the order of the cycle."""
    return [(kind, TITLES[kind]) for kind in SubmissionKind if record.accepted(kind)]
