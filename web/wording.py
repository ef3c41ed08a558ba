"""The words people read for the process's values: stages, statuses, roles and review types as a careers
leader says them, never the raw enum values the code stores."""

import re

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
    "headteacher": "Headteacher or principal",
    "senco": "SENCO",
    "other": "Other",
}
# The questions to probe, by the rule that asked them (domain.probing.ProbeRule).
PROBE_RULE_NAMES = {
    "thin_evidence": "A high level with thin evidence",
    "above_theme": "A level above the rest of its theme",
    "apart_from_group": "The rating furthest from the group's",
    "rise_unexplained": "A rise with no account of what changed",
}
# Who may attend a review day or a peer meeting, in the order a form offers them (domain.submissions.AttendeeRole).
ATTENDEE_ROLES = (
    ("careers_leader", "Careers leader"),
    ("senior_leader", "Senior leader"),
    ("headteacher", "Headteacher or principal"),
    ("governor", "Governor"),
    ("senco", "SENCO"),
    ("other", "Someone else"),
)
ATTENDEE_NAMES = dict(ATTENDEE_ROLES)


def stage_name(stage: str | None) -> str:
    return STAGE_NAMES.get(stage or "", "Starting")


def next_stage_name(stage: str | None) -> str:
    """The stage after `stage`, in words ("" after the last)."""
    try:
        following = Stage(stage or "").next
    except ValueError:
        return ""
    return stage_name(following.value) if following else ""


def status_name(status: str | None) -> str:
    return STATUS_NAMES.get(status or "", (status or "").replace("_", " ").capitalize())


def review_type_name(review_type: str | None) -> str:
    return REVIEW_TYPE_NAMES.get(review_type or "", (review_type or "").capitalize())


def role_name(role: str | None) -> str:
    """A contact role, a signed-in role or an email address (shown as it is)."""
    if role and "@" in role:
        return role
    return ROLE_NAMES.get(role or "", (role or "").replace("_", " ").capitalize())


PROMPT_NAMES = {
    "timeline": "The whole timeline",
    "stage_opened": "A stage opened",
    "reminder": "Reminder",
    "due_today": "Due today",
    "overdue": "Overdue notice",
    "escalation": "Escalation",
    "deadline_changed": "A deadline moved",
    "cycle_lapsed": "The cycle lapsed",
    "check_in_due": "Check-in due",
    "check_in_missed": "Check-in missed",
    "action_stalled": "An action stalled",
    "review_team_needed": "A review team is needed",
    "meeting_invite": "Meeting invitation",
    "peer_group_ready": "The peer group is ready",
    "peer_cut_off_passed": "The peer group's cut-off passed",
    "delivery_failed": "An email could not be delivered",
    "follow_up_meeting": "Follow-up meeting invitation",
    "follow_up_notes": "Notes of the follow-up meeting",
}

PROMPT_STATUSES = {
    "queued": "Waiting to send",
    "sending": "Sending",
    "sent": "Sent",
    "merged": "Sent in a digest",
    "suppressed": "Not sent (switched off)",
    "failed": "Could not be delivered",
}

ACTION_STATUSES = {"not_started": "Not started", "in_progress": "In progress", "done": "Done", "blocked": "Blocked"}


def prompt_name(kind: str) -> str:
    return PROMPT_NAMES.get(kind, kind.replace("_", " ").capitalize())


def prompt_status(status: str) -> str:
    return PROMPT_STATUSES.get(status, status.replace("_", " ").capitalize())


def action_status(status: str) -> str:
    return ACTION_STATUSES.get(status, status.replace("_", " ").capitalize())


def event_name(event_type: str) -> str:
    """`SelfEvaluationSubmitted` reads "Self-evaluation submitted"."""
    words = re.sub(r"(?<!^)([A-Z])", r" \1", event_type).lower()
    words = words.replace("self evaluation", "self-evaluation").replace("re evaluation", "re-evaluation")
    return words[:1].upper() + words[1:]
