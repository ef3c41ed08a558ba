"""Prompts: what kinds there are, who gets each kind, and their stable ids.

Routing is a table so that who hears about what is visible in one place and can be
changed without touching the workflow.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from domain.events import PromptIssued
from domain.recipients import Directory
from domain.stages import ContactRole, ReviewType, Stage

PROMPT_NAMESPACE = uuid.UUID("6f1f2d1e-3c53-4c1e-9a57-5b0b8f0c1c11")


class PromptKind(StrEnum):
    TIMELINE = "timeline"
    STAGE_OPENED = "stage_opened"
    REMINDER = "reminder"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    DEADLINE_CHANGED = "deadline_changed"
    CYCLE_LAPSED = "cycle_lapsed"
    CHECK_IN_DUE = "check_in_due"
    CHECK_IN_MISSED = "check_in_missed"
    ACTION_STALLED = "action_stalled"
    REVIEW_TEAM_NEEDED = "review_team_needed"
    MEETING_INVITE = "meeting_invite"
    PEER_GROUP_READY = "peer_group_ready"
    PEER_CUT_OFF_PASSED = "peer_cut_off_passed"
    DELIVERY_FAILED = "delivery_failed"
    REPORT_PUBLISHED = "report_published"
    SENIOR_LEADER_ABSENT = "senior_leader_absent"
    ACTION_PLAN_AGREED = "action_plan_agreed"
    RE_EVALUATION_RESULT = "re_evaluation_result"
    FOLLOW_UP_MEETING = "follow_up_meeting"
    FOLLOW_UP_NOTES = "follow_up_notes"


_INSTITUTION = (ContactRole.CAREERS_LEADER,)
_LEADERSHIP = (ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER)

# Who carries each stage: the people a stage's own prompts go to.
STAGE_OWNERS: dict[tuple[Stage, ReviewType], tuple[ContactRole, ...]] = {
    (Stage.ONBOARDING, ReviewType.EXPERT): _INSTITUTION,
    (Stage.ONBOARDING, ReviewType.PEER): _INSTITUTION,
    (Stage.SELF_EVALUATION, ReviewType.EXPERT): _INSTITUTION,
    (Stage.SELF_EVALUATION, ReviewType.PEER): _INSTITUTION,
    (Stage.REVIEW, ReviewType.EXPERT): (ContactRole.REVIEW_LEAD,),
    (Stage.REVIEW, ReviewType.PEER): (ContactRole.FACILITATOR,),
    (Stage.REPORT, ReviewType.EXPERT): (ContactRole.REVIEW_LEAD,),
    (Stage.REPORT, ReviewType.PEER): (ContactRole.FACILITATOR,),
    (Stage.ACTION_PLANNING, ReviewType.EXPERT): _LEADERSHIP,
    (Stage.ACTION_PLANNING, ReviewType.PEER): _LEADERSHIP,
    (Stage.RE_EVALUATION, ReviewType.EXPERT): _INSTITUTION,
    (Stage.RE_EVALUATION, ReviewType.PEER): _INSTITUTION,
}

# Kinds that are not about the stage's own work go to fixed people.
FIXED_ROUTES: dict[PromptKind, tuple[ContactRole, ...]] = {
    PromptKind.TIMELINE: (ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER),
    PromptKind.ESCALATION: (ContactRole.FACILITATOR,),
    PromptKind.CYCLE_LAPSED: (ContactRole.CAREERS_LEADER, ContactRole.FACILITATOR),
    PromptKind.CHECK_IN_DUE: (ContactRole.CAREERS_LEADER,),
    PromptKind.CHECK_IN_MISSED: (ContactRole.CAREERS_LEADER,),
    PromptKind.ACTION_STALLED: (ContactRole.FACILITATOR, ContactRole.SENIOR_LEADER),
    PromptKind.REVIEW_TEAM_NEEDED: (ContactRole.CEC,),
    PromptKind.PEER_GROUP_READY: (ContactRole.FACILITATOR,),
    PromptKind.PEER_CUT_OFF_PASSED: (ContactRole.FACILITATOR,),
    PromptKind.DELIVERY_FAILED: (ContactRole.FACILITATOR,),
    # The report goes to the school's leadership and its governor: the staff summary in the body, the PDF attached.
    PromptKind.REPORT_PUBLISHED: (ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER, ContactRole.GOVERNOR),
    # The school expects no senior leader at its review: the facilitator hears before the day, to ask for one.
    PromptKind.SENIOR_LEADER_ABSENT: (ContactRole.FACILITATOR,),
    # The senior leader and the governor (when one is named) hear what the school agreed and how far it moved: the
    # careers leader wrote both, and careers stays a whole-school matter after the review.
    PromptKind.ACTION_PLAN_AGREED: (ContactRole.SENIOR_LEADER, ContactRole.GOVERNOR),
    PromptKind.RE_EVALUATION_RESULT: (ContactRole.SENIOR_LEADER, ContactRole.GOVERNOR),
    # The follow-up meeting's notes reach the same people as the report: its outcome, like the first meeting's.
    PromptKind.FOLLOW_UP_NOTES: (ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER, ContactRole.GOVERNOR),
}

# Invitations to a review meeting go to everyone who attends it. A peer group's facilitator attends every
# member's part: they get one invitation, from the group (a prompt with no stage), not one per member.
MEETING_ATTENDEES: dict[ReviewType, tuple[ContactRole, ...]] = {
    ReviewType.EXPERT: (ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER, ContactRole.REVIEW_LEAD),
    ReviewType.PEER: (ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER),
}
GROUP_MEETING_ATTENDEES: tuple[ContactRole, ...] = (ContactRole.FACILITATOR,)


def recipients_for(kind: PromptKind, stage: Stage | None, review_type: ReviewType) -> tuple[ContactRole, ...]:
    if kind in FIXED_ROUTES:
        return FIXED_ROUTES[kind]
    if kind is PromptKind.MEETING_INVITE:
        return GROUP_MEETING_ATTENDEES if stage is None else MEETING_ATTENDEES[review_type]
    if kind is PromptKind.FOLLOW_UP_MEETING:
        # The follow-up meeting is attended as the first one was: the school's leaders, and an expert review's lead.
        return MEETING_ATTENDEES[review_type]
    if stage is None:
        raise ValueError(f"prompt kind {kind} needs a stage to be routed")
    return STAGE_OWNERS[(stage, review_type)]


def prompt_id(workflow_id: str, kind: PromptKind, key: str, role: ContactRole) -> str:
    """The same prompt decided twice (a retried activity, a replay) gets the same id."""
    return str(uuid.uuid5(PROMPT_NAMESPACE, f"{workflow_id}/{kind}/{key}/{role}"))


def prompt_events(
    *,
    workflow_id: str,
    cycle_id: str,
    at: datetime,
    kind: PromptKind,
    stage: Stage | None,
    review_type: ReviewType,
    directory: Directory,
    scheduled_for: datetime,
    due: date | None,
    key: str,
    roles: tuple[ContactRole, ...] | None = None,
) -> list[PromptIssued]:
    """One PromptIssued per person the routing table (or `roles`, when a policy says) names and the directory
    can address."""
    return [
        PromptIssued(
            cycle_id=cycle_id,
            at=at,
            prompt_id=prompt_id(workflow_id, kind, key, role),
            kind=kind.value,
            stage=stage,
            recipient_role=role,
            recipient_email=email,
            due=due,
            scheduled_for=scheduled_for,
        )
        for role, email in directory.route(roles or recipients_for(kind, stage, review_type))
    ]
