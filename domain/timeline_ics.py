"""The whole timeline as an iCalendar file: one all-day event per milestone on its due date.

UIDs are stable per cycle and milestone, so a later file with a higher SEQUENCE
updates the same entries in people's calendars instead of adding new ones.
"""

from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from domain.timeline import MilestoneView

PRODID = "-//Careers Impact System//cis//EN"


def milestone_uid(cycle_id: str, key: str) -> str:
    return f"{cycle_id}.{key}@cis.careers-impact"


def timeline_calendar(
    cycle_id: str,
    institution: str,
    milestones: list[MilestoneView],
    closing_date: date,
    stamp: datetime,
    sequence: int = 0,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Careers Impact review: {institution}")
    for milestone in milestones:
        calendar.add_component(
            _event(
                uid=milestone_uid(cycle_id, milestone.stage.value),
                summary=f"{milestone.stage.label} due — {institution}",
                day=milestone.due,
                description=(
                    f"{milestone.stage.label} opens on {milestone.opens.isoformat()} "
                    f"and is due on {milestone.due.isoformat()}."
                ),
                stamp=stamp,
                sequence=sequence,
            )
        )
    calendar.add_component(
        _event(
            uid=milestone_uid(cycle_id, "closing"),
            summary=f"Review cycle closes — {institution}",
            day=closing_date,
            description="The cycle closes on this day; anything not submitted by then lapses.",
            stamp=stamp,
            sequence=sequence,
        )
    )
    return bytes(calendar.to_ical())


def _event(uid: str, summary: str, day: date, description: str, stamp: datetime, sequence: int) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("sequence", sequence)
    event.add("transp", "TRANSPARENT")
    return event
