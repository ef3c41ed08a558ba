"""The whole timeline as an iCalendar file: one all-day event per milestone on its due date.

UIDs are stable per cycle and milestone, so a later file with a higher SEQUENCE
updates the same entries in people's calendars instead of adding new ones.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from icalendar import Calendar, Event, vCalAddress

from domain.london_time import in_london
from domain.stages import Stage

PRODID = "-//Careers Impact System//cis//EN"


class MilestoneDates(Protocol):
    @property
    def stage(self) -> Stage: ...
    @property
    def opens(self) -> date: ...
    @property
    def due(self) -> date: ...


def milestone_uid(cycle_id: str, key: str) -> str:
    return f"{cycle_id}.{key}@cis.careers-impact"


def timeline_calendar(
    cycle_id: str,
    institution: str,
    milestones: Sequence[MilestoneDates],
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


def meeting_invitation(
    cycle_id: str,
    summary: str,
    starts: datetime,
    ends: datetime,
    organizer: str,
    attendee: str,
    description: str,
    stamp: datetime,
    sequence: int,
    meeting: str = "review-meeting",
) -> bytes:
    """A meeting request with a stable UID: a moved meeting updates the same calendar entry. `meeting` names which
    of the cycle's meetings it is (the review, or the follow-up), so one never replaces the other."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", milestone_uid(cycle_id, meeting))
    event.add("dtstamp", stamp)
    # Times read back from stored events carry a bare offset ("+01:00"), which calendars cannot name: London's zone.
    event.add("dtstart", in_london(starts))
    event.add("dtend", in_london(ends))
    event.add("summary", summary)
    event.add("description", description)
    event.add("sequence", sequence)
    event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params["ROLE"] = "REQ-PARTICIPANT"
    guest.params["RSVP"] = "TRUE"
    event.add("attendee", guest)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
