"""Europe/London wall-clock moments: all dates in the product are London dates."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def at_london(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=LONDON)


def london_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def in_london(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)
