"""What a peer group is started with: its members and everything its rules and prompts need."""

from datetime import date

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from domain.boundary_types import Label, Slug
from domain.content_ref import ContentRef, reference_to
from domain.cycle_clock import CycleClock
from domain.maturity_model import MaturityModel
from domain.peer_group_ids import peer_group_workflow_id
from domain.schedule import SchedulePolicy
from domain.school_calendar import SchoolCalendar
from domain.stages import ModelVariant


class PeerMember(BaseModel):
    model_config = ConfigDict(frozen=True)

    cycle_id: str
    urn: str
    name: str
    model_variant: ModelVariant
    careers_leader_email: EmailStr | None = None


class PeerGroupTerms(BaseModel):
    """Everything a group is started with but its maturity models and school calendar; the clock is the cohort's,
    so the group and its members agree on the date."""

    model_config = ConfigDict(frozen=True)

    cohort: Slug
    group: Slug
    facilitator_email: EmailStr
    careers_hub: Label | None = Field(default=None, description="The Careers Hub the group belongs to")
    members: list[PeerMember] = Field(description="The members at launch; later groups also gain members on the way")
    cut_off: date = Field(description="After this day the meeting may go ahead without members who are not ready")
    policy: SchedulePolicy = SchedulePolicy()
    clock: CycleClock = CycleClock()
    cec_email: EmailStr | None = None
    deliver_mail: bool = True

    @property
    def workflow_id(self) -> str:
        return peer_group_workflow_id(self.cohort, self.group)


class PeerGroupSpec(PeerGroupTerms):
    """A group with its models and calendar in full: what the domain works with, and what groups started before
    content by reference carry in their input (their histories replay with it)."""

    models: dict[ModelVariant, MaturityModel] = Field(description="The model each member variant is reviewed against")
    calendar: SchoolCalendar

    def by_reference(self) -> "PeerGroupByReference":
        """What a new group's workflow is started with: references of a few hundred bytes instead of 15-30 KB."""
        return PeerGroupByReference(
            **self.model_dump(exclude={"models", "calendar"}),
            model_refs={variant: reference_to(model) for variant, model in self.models.items()},
            calendar_ref=reference_to(self.calendar),
        )


class PeerGroupByReference(PeerGroupTerms):
    """A group whose models and calendar are named by reference, resolved and checked by the workflow
    (workflows/content_resolution.py), as a review cycle started by reference does."""

    model_refs: dict[ModelVariant, ContentRef] = Field(description="The model each member variant is reviewed against")
    calendar_ref: ContentRef

    def resolved(self, models: dict[ModelVariant, MaturityModel], calendar: SchoolCalendar) -> PeerGroupSpec:
        return PeerGroupSpec(
            **self.model_dump(exclude={"model_refs", "calendar_ref"}), models=models, calendar=calendar
        )


# What a peer group workflow accepts: the whole spec (groups started before content by reference) or references.
PeerGroupInput = PeerGroupSpec | PeerGroupByReference
