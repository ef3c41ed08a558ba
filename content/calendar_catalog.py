"""School calendars: the packaged England default, or an institution's own file.

Bank holidays come from the `holidays` package here, at the edge, and are written
into the calendar as plain dates: a workflow that carries the calendar never asks
a library (whose tables change between releases) what a date is during replay.
"""

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import holidays
from pydantic import BaseModel, ConfigDict, ValidationError

from domain.school_calendar import Closure, SchoolCalendar

DEFAULT_CALENDAR = "england-2026-2028.json"
CALENDARS = Path(__file__).parent / "calendars"


class CalendarFile(BaseModel):
    """A term-dates file: closures, plus the bank-holiday region to expand."""

    model_config = ConfigDict(extra="forbid")

    id: str
    version: str = "1"
    name: str
    bank_holidays_region: str | None = "ENG"
    closures: list[Closure]
    extra_closed_days: list[date] = []


class CalendarFileError(ValueError):
    pass


def _expand(spec: CalendarFile) -> SchoolCalendar:
    days: set[date] = set(spec.extra_closed_days)
    if spec.closures and spec.bank_holidays_region:
        first = min(c.first_day for c in spec.closures).year - 1
        last = max(c.last_day for c in spec.closures).year + 1
        region = holidays.country_holidays("GB", subdiv=spec.bank_holidays_region, years=range(first, last + 1))
        days.update(region.keys())
    return SchoolCalendar(
        id=spec.id,
        version=spec.version,
        name=spec.name,
        closures=tuple(sorted(spec.closures, key=lambda c: c.first_day)),
        bank_holidays=tuple(sorted(days)),
    )


def parse_calendar(raw: dict[str, Any], source: str) -> SchoolCalendar:
    try:
        return _expand(CalendarFile.model_validate(raw))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise CalendarFileError(f"{source}: {problems}") from error


def load_calendar_file(path: Path) -> SchoolCalendar:
    return parse_calendar(json.loads(path.read_text()), path.name)


@cache
def default_calendar() -> SchoolCalendar:
    return load_calendar_file(CALENDARS / DEFAULT_CALENDAR)
