"""A roster launched from the web: what the launch workflow starts, in batches, and how far it has got."""

import hashlib
import json
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.boundary_types import Slug
from domain.roster import RosterRow

# Cycles started by one activity: small enough that a retried batch redoes little, large enough to keep
# Temporal's starts busy (each batch runs its starts concurrently).
LAUNCH_BATCH = 200
# The launch's activities (activities/roster_launching.py), by name.
START_ROSTER_GROUPS = "start_roster_groups"
START_ROSTER_CYCLES = "start_roster_cycles"


class RosterLaunch(BaseModel):
    """A validated roster and the choices it was uploaded with, kept in the store for the launch workflow."""

    model_config = ConfigDict(frozen=True)

    launch_id: str
    cohort: Slug
    start_date: date | None
    time_scale: float | None
    rows: list[RosterRow]
    launched_by: str


def launch_id_for(cohort: str, start_date: date | None, time_scale: float | None, rows: list[RosterRow]) -> str:
    """The same roster for the same cohort is the same launch: uploading it twice attaches to the first."""
    content = json.dumps(
        [cohort, str(start_date), time_scale, [row.model_dump(mode="json", exclude={"line"}) for row in rows]]
    )
    return f"{cohort}-{hashlib.sha256(content.encode()).hexdigest()[:12]}"


def launch_workflow_id(launch_id: str) -> str:
    return f"launch-{launch_id}"


class LaunchBatch(BaseModel):
    """Rows [offset, offset + size) of a launch; `real_now` anchors a time-scaled cohort on one clock."""

    launch_id: str
    real_now: datetime
    offset: int = Field(ge=0)
    size: int = Field(ge=1)


class GroupsOutcome(BaseModel):
    started: list[str] = Field(default_factory=list)
    existing: list[str] = Field(default_factory=list)


class BatchOutcome(BaseModel):
    started: list[str] = Field(default_factory=list)
    existing: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)


class LaunchProgress(BaseModel):
    """What the launch page shows while the workflow runs, and its result when done."""

    launch_id: str
    cohort: str
    total: int
    batch_size: int = Field(default=LAUNCH_BATCH, ge=1)
    started: list[str] = Field(default_factory=list)
    existing: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)
    groups_started: list[str] = Field(default_factory=list)
    groups_existing: list[str] = Field(default_factory=list)
    groups_done: bool = False
    done: bool = False

    @property
    def handled(self) -> int:
        return len(self.started) + len(self.existing) + len(self.failed)

    def with_batch(self, outcome: BatchOutcome) -> "LaunchProgress":
        return self.model_copy(
            update={
                "started": self.started + outcome.started,
                "existing": self.existing + outcome.existing,
                "failed": self.failed | outcome.failed,
            }
        )
