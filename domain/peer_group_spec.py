"""What a peer group is started with: its members and everything its rules and prompts need."""

from datetime import date

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from domain.boundary_types import Label, Slug
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


class PeerGroupSpec(BaseModel):
    """Everything a group is started with; the clock is the cohort's, so the group and its members agree on the date."""

    model_config = ConfigDict(frozen=True)

    cohort: Slug
    group: Slug
    facilitator_email: EmailStr
    careers_hub: Label | None = Field(default=None, description="The Careers Hub the group belongs to")
    members: list[PeerMember] = Field(description="The members at launch; later groups also gain members on the way")
    cut_off: date = Field(description="After this day the meeting may go ahead without members who are not ready")
    models: dict[ModelVariant, MaturityModel] = Field(description="The model each member variant is reviewed against")
    calendar: SchoolCalendar
    policy: SchedulePolicy = SchedulePolicy()
    clock: CycleClock = CycleClock()
    cec_email: EmailStr | None = None
    deliver_mail: bool = True

    @property
    def workflow_id(self) -> str:
        return peer_group_workflow_id(self.cohort, self.group)
