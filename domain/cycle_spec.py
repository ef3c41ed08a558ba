"""Everything a cycle is started with, and the business key its id comes from."""

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from domain.boundary_types import Day, Label, Name, Slug, Urn, split_cycle_id
from domain.content_ref import ContentRef, reference_to
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


class CycleTerms(BaseModel):
    """Everything a cycle is started with but its maturity model and school calendar."""

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


class CycleSpec(CycleTerms):
    """A cycle with its model and calendar in full: what the domain works with, and what workflows started before
    content by reference carry in their input (their histories replay with it)."""

    model: MaturityModel
    calendar: SchoolCalendar

    @model_validator(mode="after")
    def _starts_inside_the_calendar(self) -> "CycleSpec":
        """Every date of the schedule is computed from the start on this calendar: outside it there is none."""
        outside = self.calendar.outside_coverage(self.start_date)
        if outside is not None:
            raise ValueError(f"start_date: {outside}")
        return self

    def by_reference(self) -> "CycleByReference":
        """What a new cycle's workflow is started with: about 1 KB instead of about 18 KB."""
        terms = self.model_dump(exclude={"model", "calendar"})
        return CycleByReference(**terms, model_ref=reference_to(self.model), calendar_ref=reference_to(self.calendar))


class CycleByReference(CycleTerms):
    """A cycle whose model and calendar are named by reference: the workflow resolves them from the content
    registry (an activity, so replay reads the answer from history) and checks their checksums."""

    model_ref: ContentRef
    calendar_ref: ContentRef

    def resolved(self, model: MaturityModel, calendar: SchoolCalendar) -> CycleSpec:
        return CycleSpec(**self.model_dump(exclude={"model_ref", "calendar_ref"}), model=model, calendar=calendar)


# What a review cycle workflow accepts: the whole spec (cycles started before content by reference) or references.
CycleInput = CycleSpec | CycleByReference
