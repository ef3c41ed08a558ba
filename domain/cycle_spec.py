"""Everything a cycle is started with, and the business key its id comes from."""

import re
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from domain.cycle_clock import CycleClock
from domain.follow_up import FollowUpPolicy
from domain.maturity_model import MaturityModel
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import Phase, ReviewType

Urn = Annotated[
    str,
    StringConstraints(pattern=r"^\d{6,8}$"),
    Field(description="The institution's unique reference number (6 digits; 8 for a UKPRN)"),
]
Cohort = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$"),
    Field(description="Lower-case letters, digits and hyphens"),
]
DEFAULT_COHORT = "individual"

_ID = re.compile(r"^(?P<urn>\d{6,8})-(?P<cohort>[a-z0-9][a-z0-9-]*)$")


def cycle_id_for(urn: str, cohort: str) -> str:
    """Derived from the business key, so starting the same institution in the same cohort twice starts nothing twice."""
    return f"{urn}-{cohort}"


def cycle_workflow_id(cycle_id: str) -> str:
    return f"cycle-{cycle_id}"


def follow_up_workflow_id(cycle_id: str) -> str:
    return f"followup-{cycle_id}"


def is_cycle_id(text: str) -> bool:
    return _ID.match(text) is not None


class CycleSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    urn: Urn
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    phase: Phase
    review_type: ReviewType
    cohort: Cohort = DEFAULT_COHORT
    start_date: date
    region: str | None = None
    careers_hub: str | None = None
    trust: str | None = None
    peer_group: str | None = None
    careers_leader_email: EmailStr | None = None
    facilitator_email: EmailStr | None = None
    review_lead_email: EmailStr | None = None
    cec_email: EmailStr | None = None
    model: MaturityModel
    calendar: SchoolCalendar
    policy: SchedulePolicy = SchedulePolicy()
    follow_up: FollowUpPolicy = FollowUpPolicy()
    clock: CycleClock = CycleClock()
    deliver_mail: bool = Field(default=True, description="Send the cycle's prompts by email (a mailbox workflow)")
    search_attributes: bool = Field(
        default=False, description="Keep Temporal search attributes current (the time-skipping server has none)"
    )

    @property
    def cycle_id(self) -> str:
        return cycle_id_for(self.urn, self.cohort)
