"""Maps cycle time (the dates people see) to real time (when timers fire).

With no time scale the two are the same. With a time scale (seconds of real time
per week of cycle time) a whole cycle can be watched in minutes on the dev stack,
or a test can run a cycle on fixed dates whatever day it runs: the workflow logic
is the same either way.
"""

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

SECONDS_PER_WEEK = 7 * 24 * 3600


class CycleClock(BaseModel):
    model_config = ConfigDict(frozen=True)

    seconds_per_week: float | None = Field(default=None, gt=0)
    cycle_origin: datetime | None = Field(default=None, description="Cycle moment that maps to real_origin")
    real_origin: datetime | None = None
    spread: timedelta = Field(
        default=timedelta(0),
        ge=timedelta(0),
        description="How long after each of its moments this cycle wakes (domain/daily_spread.py): a cohort's "
        "cycles, each at its own offset, do not all wake at 08:00:00",
    )

    @field_validator("cycle_origin", "real_origin")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be timezone-aware")
        return value

    @property
    def scaled(self) -> bool:
        return self.seconds_per_week is not None

    def anchored(self, cycle_origin: datetime, real_origin: datetime) -> "CycleClock":
        """Pin a scaled clock to the moment its cycle starts; an unscaled clock needs no anchor."""
        if not self.scaled or self.real_origin is not None:
            return self
        return self.model_copy(update={"cycle_origin": cycle_origin, "real_origin": real_origin})

    @property
    def _factor(self) -> float:
        assert self.seconds_per_week is not None
        return self.seconds_per_week / SECONDS_PER_WEEK

    # Arithmetic happens in UTC: Python adds a timedelta to a London time in wall-clock terms,
    # which would put every moment after a clock change an hour out.

    def to_cycle(self, real: datetime) -> datetime:
        if not self.scaled:
            return real.astimezone(UTC)
        assert self.cycle_origin is not None and self.real_origin is not None, "scaled clock used before anchoring"
        return (
            self.cycle_origin.astimezone(UTC) + (real.astimezone(UTC) - self.real_origin.astimezone(UTC)) / self._factor
        )

    def to_real(self, cycle: datetime) -> datetime:
        if not self.scaled:
            return cycle.astimezone(UTC)
        assert self.cycle_origin is not None and self.real_origin is not None, "scaled clock used before anchoring"
        return (
            self.real_origin.astimezone(UTC)
            + (cycle.astimezone(UTC) - self.cycle_origin.astimezone(UTC)) * self._factor
        )

    def real_delay(self, cycle_from: datetime, cycle_to: datetime) -> timedelta:
        """Real time to wait between two cycle moments (never negative)."""
        delta = cycle_to.astimezone(UTC) - cycle_from.astimezone(UTC)
        if self.scaled:
            delta = delta * self._factor
        return max(delta, timedelta(0))
