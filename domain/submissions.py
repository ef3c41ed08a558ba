"""What people submit at each stage, with the rules a single submission must obey on its own.

Rules that need the cycle's context (the model's indicators, the stage the cycle is
in, today's date) live in domain/cycle_rules.py; these classes check shape only.
"""

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator, model_validator

from domain.boundary_types import (
    MAX_ACTIONS,
    MAX_CONTRIBUTORS,
    MAX_POINTS,
    MAX_RATINGS,
    MAX_THEMES,
    Day,
    Name,
    Note,
    ShortText,
    Summary,
)
from domain.stages import ContactRole

PersonName = Name
Level = Annotated[int, Field(ge=1, le=4, description="Best-fit level, 1 (lowest) to 4 (highest)")]


class SubmissionKind(StrEnum):
    """The kinds a person can submit; the values are the CLI and API names."""

    ONBOARDING = "onboarding"
    SELF_EVALUATION = "self-evaluation"
    REVIEW = "review"
    REPORT = "report"
    ACTION_PLAN = "action-plan"
    RE_EVALUATION = "re-evaluation"
    CHECK_IN = "check-in"


class _Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Contact(_Submission):
    name: PersonName
    email: EmailStr
    role_title: ShortText | None = None


class Contacts(_Submission):
    careers_leader: Contact
    senior_leader: Contact
    governor: Contact | None = None

    def email_for(self, role: ContactRole) -> str | None:
        person = {
            ContactRole.CAREERS_LEADER: self.careers_leader,
            ContactRole.SENIOR_LEADER: self.senior_leader,
            ContactRole.GOVERNOR: self.governor,
        }.get(role)
        return str(person.email) if person else None


class Onboarding(_Submission):
    contacts: Contacts
    timeline_acknowledged: bool = Field(
        description="The institution has seen the whole timeline up front",
    )
    share_self_evaluation: bool = Field(
        default=False,
        description="Peer review: the institution agrees to share its self-evaluation with its peer group "
        "(and sees the evaluations of the others who agreed)",
    )

    @model_validator(mode="after")
    def _acknowledged(self) -> "Onboarding":
        if not self.timeline_acknowledged:
            raise ValueError("timeline_acknowledged: must be true; read the timeline before confirming onboarding")
        return self


class Rating(_Submission):
    indicator_id: ShortText
    level: Level
    evidence: Note = Field(description="What shows this level: documents, data, practice")
    what_changed: Note | None = Field(
        default=None, description="Re-evaluation: what changed since the self-evaluation, for a level that moved"
    )


class ThemeLevel(_Submission):
    theme_id: ShortText
    level: Level


class Evaluation(_Submission):
    """Shared shape of a self-evaluation and a re-evaluation."""

    ratings: list[Rating] = Field(min_length=1, max_length=MAX_RATINGS)
    theme_levels: list[ThemeLevel] = Field(
        default_factory=list,
        max_length=MAX_THEMES,
        description="The agreed best fit per theme; a theme left out takes the median of its indicators",
    )
    contributors: list[ShortText] = Field(
        default_factory=list, max_length=MAX_CONTRIBUTORS, description="Roles who took part"
    )


class SelfEvaluation(Evaluation):
    pass


class ReEvaluation(Evaluation):
    pass


class AgreedLevel(_Submission):
    indicator_id: ShortText
    level: Level
    rationale: Note


class DevelopmentPriority(_Submission):
    """A priority and the model's indicators it names; its theme is theirs (MaturityModel.themes_of)."""

    text: Note
    indicator_ids: list[ShortText] = Field(default_factory=list, max_length=20)

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        # Priorities were plain text before they named indicators: old events, forms and files still read.
        return {"text": data, "indicator_ids": []} if isinstance(data, str) else data


class AttendeeRole(StrEnum):
    """Who attended a review day or a peer meeting, by role."""

    CAREERS_LEADER = "careers_leader"
    SENIOR_LEADER = "senior_leader"
    HEADTEACHER = "headteacher"  # or principal
    GOVERNOR = "governor"
    SENCO = "senco"
    OTHER = "other"

    @property
    def senior(self) -> bool:
        """A member of the senior team: careers then drives whole-school improvement."""
        return self in (AttendeeRole.SENIOR_LEADER, AttendeeRole.HEADTEACHER)


def has_senior_leader(attendance: "list[AttendeeRole] | tuple[AttendeeRole, ...]") -> bool:
    return any(role.senior for role in attendance)


class ReviewFindings(_Submission):
    strengths: list[Note] = Field(min_length=1, max_length=MAX_POINTS)
    development_priorities: list[DevelopmentPriority] = Field(min_length=1, max_length=MAX_POINTS)
    agreed_levels: list[AgreedLevel] = Field(default_factory=list, max_length=MAX_RATINGS)
    recommendations: list[Note] = Field(min_length=1, max_length=MAX_POINTS)
    resources: list[ShortText] = Field(default_factory=list, max_length=MAX_POINTS)
    themes_in_scope: list[ShortText] = Field(
        default_factory=list, max_length=MAX_THEMES, description="Empty means all themes"
    )
    questions_discussed: list[ShortText] = Field(
        default_factory=list,
        max_length=MAX_RATINGS,
        description="The questions to probe that were discussed, by key (rule:indicator_id, see domain/probing.py)",
    )
    attendance: list[AttendeeRole] = Field(
        default_factory=list, max_length=len(AttendeeRole), description="Who attended, by role"
    )

    @field_validator("attendance")
    @classmethod
    def _each_role_once(cls, roles: list[AttendeeRole]) -> list[AttendeeRole]:
        return list(dict.fromkeys(roles))


class Report(_Submission):
    format: Literal["report", "summary"] = Field(description="expert review: report; peer review: summary")
    body: Note
    summary_for_staff: Summary
    strengths: list[Note] = Field(min_length=1, max_length=MAX_POINTS)
    development_priorities: list[DevelopmentPriority] = Field(min_length=1, max_length=MAX_POINTS)
    recommendations: list[Note] = Field(min_length=1, max_length=MAX_POINTS)
    resources: list[ShortText] = Field(default_factory=list, max_length=MAX_POINTS)


class PlannedAction(_Submission):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")] | None = None
    title: ShortText
    indicator_ids: list[ShortText] = Field(min_length=1, max_length=MAX_RATINGS)
    owner_role: ShortText
    due: Day
    success_measure: Note


class ActionPlan(_Submission):
    actions: list[PlannedAction] = Field(min_length=1, max_length=MAX_ACTIONS)


class ActionStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class ActionProgress(_Submission):
    action_id: ShortText
    status: ActionStatus
    note: Note


class CheckIn(_Submission):
    progress: list[ActionProgress] = Field(min_length=1, max_length=MAX_ACTIONS)


class ActionNote(_Submission):
    """What a follow-up meeting said about one action: a short note, several lines at most."""

    action_id: ShortText
    note: Summary


def without_notes(data: Any) -> Any:
    """Drop keys that start with '_': templates carry notes for people (the indicator's wording, the levels)."""
    if isinstance(data, dict):
        return {k: without_notes(v) for k, v in data.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(data, list):
        return [without_notes(item) for item in data]
    return data


SUBMISSION_MODELS: dict[SubmissionKind, type[_Submission]] = {
    SubmissionKind.ONBOARDING: Onboarding,
    SubmissionKind.SELF_EVALUATION: SelfEvaluation,
    SubmissionKind.REVIEW: ReviewFindings,
    SubmissionKind.REPORT: Report,
    SubmissionKind.ACTION_PLAN: ActionPlan,
    SubmissionKind.RE_EVALUATION: ReEvaluation,
    SubmissionKind.CHECK_IN: CheckIn,
}
