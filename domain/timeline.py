"""The whole plan of a cycle, past and to come, as people see it."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.stages import CycleStatus, Phase, ReviewType, Stage


class MilestoneState(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    NOT_REACHED = "not_reached"


class MilestoneView(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Stage
    opens: date
    due: date
    state: MilestoneState
    opened_on: date | None = None
    closed_on: date | None = None
    on_time: bool | None = None


class CycleView(BaseModel):
    """The answer to the `status` query: where a cycle is and everything ahead of it."""

    model_config = ConfigDict(frozen=True)

    cycle_id: str
    urn: str
    name: str
    phase: Phase
    review_type: ReviewType
    cohort: str
    status: CycleStatus
    stage: Stage | None
    due: date | None
    overdue: bool
    today: date
    now: datetime = Field(description="Cycle time now (differs from real time under a time scale)")
    start_date: date
    closing_date: date
    model_id: str
    model_version: str
    milestones: list[MilestoneView]
    prompts_issued: int
    escalations: int
    follow_up_id: str | None = None
    peer_group: str | None = None
    review_lead: str | None = None
    review_starts: datetime | None = Field(default=None, description="The expert review day or the peer meeting")
