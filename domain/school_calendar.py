"""Which days are school days: weekends, bank holidays and term holidays are not.

A calendar arrives fully expanded (explicit dates), so a workflow that carries one
in its input never depends on a library's holiday tables at replay time.
"""

from datetime import date, timedelta
from functools import cached_property

from pydantic import BaseModel, ConfigDict, model_validator


class Closure(BaseModel):
    """A term holiday or other closure, both ends inclusive."""

    model_config = ConfigDict(frozen=True)

    name: str
    first_day: date
    last_day: date

    @model_validator(mode="after")
    def _ordered(self) -> "Closure":
        if self.last_day < self.first_day:
            raise ValueError(f"closure {self.name!r}: last_day is before first_day")
        return self


class SchoolCalendar(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    # A correction (a new bank holiday) is a new version of the same calendar: a registered version never changes.
    version: str = "1"
    name: str
    closures: tuple[Closure, ...] = ()
    bank_holidays: tuple[date, ...] = ()

    @cached_property
    def _closed_days(self) -> frozenset[date]:
        days: set[date] = set(self.bank_holidays)
        for closure in self.closures:
            day = closure.first_day
            while day <= closure.last_day:
                days.add(day)
                day += timedelta(days=1)
        return frozenset(days)

    @cached_property
    def coverage(self) -> tuple[date, date] | None:
        """The first and last day the calendar knows the closures of; beyond them every weekday looks like a
        school day, so a cycle may not start outside them."""
        ends = [d for c in self.closures for d in (c.first_day, c.last_day)] or list(self.bank_holidays)
        return (min(ends), max(ends)) if ends else None

    def outside_coverage(self, day: date) -> str | None:
        """Why `day` is outside the calendar, or None when it is inside."""
        span = self.coverage
        if span is None or span[0] <= day <= span[1]:
            return None
        return (
            f"{day.isoformat()} is outside the school calendar {self.id}, "
            f"which covers {span[0].isoformat()} to {span[1].isoformat()}"
        )

    def is_school_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._closed_days

    def closure_on(self, day: date) -> str | None:
        """The reason a weekday is not a school day, for messages and timelines."""
        for closure in self.closures:
            if closure.first_day <= day <= closure.last_day:
                return closure.name
        if day in self.bank_holidays:
            return "bank holiday"
        return None

    def next_school_day(self, day: date) -> date:
        """`day` itself if it is a school day, else the first school day after it."""
        while not self.is_school_day(day):
            day += timedelta(days=1)
        return day

    def add_school_days(self, day: date, count: int) -> date:
        """The school day `count` school days after (or, negative, before) `day`."""
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        while remaining:
            day += timedelta(days=step)
            if self.is_school_day(day):
                remaining -= 1
        return day

    def school_days_between(self, start: date, end: date) -> int:
        """School days in (start, end]; zero when end is not after start."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_school_day(day):
                count += 1
        return count
