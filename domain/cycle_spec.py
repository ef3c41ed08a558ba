"""Everything a cycle is started with, and the business key its id comes from."""

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from domain.boundary_types import Day, Label, Name, Slug, Urn, split_cycle_id
from domain.cycle_clock import CycleClock
from domain.follow_up import FollowUpPolicy
from domain.maturity_model import MaturityModel
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import Phase, ReviewType

Cohort = Slug
DEFAULT_COHORT = "individual"


def cycle_id_for(urn: str, cohort: str) -> str:
    """Derived from the business key, so starting the same institution in the same cohort twice starts nothing twice."""
    return f"{urn}-{cohort}"


def cycle_workflow_id(cycle_id: str) -> str:
    return f"cycle-{cycle_id}"


def follow_up_workflow_id(cycle_id: str) -> str:
    return f"followup-{cycle_id}"


def is_cycle_id(text: str) -> bool:
    return split_cycle_id(text) is not None


class CycleSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    urn: Urn
    name: Name
    phase: Phase
    review_type: ReviewType
    cohort: Cohort = DEFAULT_COHORT
    start_date: Day
    region: Label | None = None
    careers_hub: Label | None = None
    trust: Label | None = None
    peer_group: Slug | None = None
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

    @model_validator(mode="after")
    def _starts_inside_the_calendar(self) -> "CycleSpec":
        """Every date of the schedule is computed from the start on this calendar: outside it there is none."""
        outside = self.calendar.outside_coverage(self.start_date)
        if outside is not None:
            raise ValueError(f"start_date: {outside}")
        return self

    @property
    def cycle_id(self) -> str:
        return cycle_id_for(self.urn, self.cohort)
