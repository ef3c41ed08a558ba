"""The words people read for the process's values: stages, statuses, roles and review types as a careers
leader says them, never the raw enum values the code stores."""

from domain.stages import CycleStatus, ReviewType, Stage

STAGE_NAMES = {
    Stage.ONBOARDING.value: "Onboarding",
    Stage.SELF_EVALUATION.value: "Self-evaluation",
    Stage.REVIEW.value: "Review",
    Stage.REPORT.value: "Report",
    Stage.ACTION_PLANNING.value: "Action planning",
    Stage.RE_EVALUATION.value: "Re-evaluation",
}

STATUS_NAMES = {
    CycleStatus.ACTIVE.value: "In progress",
    CycleStatus.COMPLETED.value: "Cycle complete",
    CycleStatus.LAPSED.value: "Lapsed",
    CycleStatus.WITHDRAWN.value: "Withdrawn",
}

REVIEW_TYPE_NAMES = {ReviewType.EXPERT.value: "Expert review", ReviewType.PEER.value: "Peer review"}

ROLE_NAMES = {
    "careers_leader": "Careers leader",
    "senior_leader": "Senior leader",
    "governor": "Governor",
    "facilitator": "Facilitator",
    "review_lead": "Review lead",
    "cec": "CEC",
    "institution": "The school",
    "reviewer": "Reviewer",
    "admin": "CEC",
    "system": "The system",
}


def stage_name(stage: str | None) -> str:
    return STAGE_NAMES.get(stage or "", "Starting")


def status_name(status: str | None) -> str:
    return STATUS_NAMES.get(status or "", (status or "").replace("_", " ").capitalize())


def review_type_name(review_type: str | None) -> str:
    return REVIEW_TYPE_NAMES.get(review_type or "", (review_type or "").capitalize())


def role_name(role: str | None) -> str:
    """A contact role, a signed-in role or an email address (shown as it is)."""
    if role and "@" in role:
        return role
    return ROLE_NAMES.get(role or "", (role or "").replace("_", " ").capitalize())
