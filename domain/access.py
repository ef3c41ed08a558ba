"""Who may see and do what: roles, their scopes, and which submissions each role makes.

A person outside a scope is told nothing exists (404), never what they may not see.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.submissions import SubmissionKind


class Role(StrEnum):
    ADMIN = "admin"  # CEC staff
    FACILITATOR = "facilitator"  # a Careers Hub or trust: the cohorts they facilitate
    REVIEWER = "reviewer"  # the cycles they review
    INSTITUTION = "institution"  # one cycle: their own


class Principal(BaseModel):
    """The holder of a token, as the web app sees them."""

    model_config = ConfigDict(frozen=True)

    role: Role
    cohort: str | None = None
    careers_hub: str | None = Field(default=None, description="A facilitator's Careers Hub, instead of a cohort")
    cycle_id: str | None = None
    email: str | None = Field(default=None, description="The person the token names (a reviewer's always does)")
    expires_at: datetime


SUBMITTED_BY: dict[Role, frozenset[SubmissionKind]] = {
    Role.ADMIN: frozenset(SubmissionKind),
    Role.FACILITATOR: frozenset({SubmissionKind.REVIEW, SubmissionKind.REPORT}),
    Role.REVIEWER: frozenset({SubmissionKind.REVIEW, SubmissionKind.REPORT}),
    Role.INSTITUTION: frozenset(
        {
            SubmissionKind.ONBOARDING,
            SubmissionKind.SELF_EVALUATION,
            SubmissionKind.ACTION_PLAN,
            SubmissionKind.RE_EVALUATION,
            SubmissionKind.CHECK_IN,
        }
    ),
}


def sees(principal: Principal, cycle_id: str, cohort: str, careers_hub: str | None = None) -> bool:
    if principal.cycle_id is not None:  # one cycle's token (an email's sign-in link too), whatever the role
        return principal.cycle_id == cycle_id
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.FACILITATOR:
        if principal.careers_hub is not None:
            return principal.careers_hub == careers_hub
        return principal.cohort == cohort
    return principal.cycle_id == cycle_id


def sees_group(principal: Principal, cohort: str, careers_hub: str | None) -> bool:
    """A peer group is CEC's and its own facilitators': by the group's cohort, or by its Careers Hub."""
    if principal.role is Role.ADMIN:
        return True
    if principal.role is not Role.FACILITATOR:
        return False
    if principal.careers_hub is not None:
        return careers_hub is not None and principal.careers_hub == careers_hub
    return principal.cohort == cohort


def may_submit(principal: Principal, kind: SubmissionKind) -> bool:
    return kind in SUBMITTED_BY[principal.role]
