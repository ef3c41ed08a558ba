"""Europe/London wall-clock moments: all dates in the product are London dates."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def at_london(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=LONDON)


def london_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def in_london(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


def later_by(moment: datetime, delta: timedelta) -> datetime:
    """`delta` of elapsed time after `moment`, in its own zone: summed in UTC, since a London wall-clock sum
    would be an hour out across a clock change."""
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)
