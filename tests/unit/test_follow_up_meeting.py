"""The follow-up meeting's rules and decisions: who arranges it and when, the check-in it asks for and opens early,
the notes it takes, and what each sends. No Temporal, no database."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from domain.events import FollowUpMeetingHeld, FollowUpMeetingScheduled, PromptIssued
from domain.follow_up import FollowUpPolicy, check_check_in
from domain.follow_up_meeting import (
    FollowUpMeeting,
    FollowUpMeetingPolicy,
    MeetingFacts,
    meeting_record,
    record_notes,
    schedule_meeting,
)
from domain.london_time import at_london
from domain.recipients import Directory
from domain.refusals import Refusal
from domain.requests import FollowUpMeetingRequest, FollowUpNotesRequest, SubmitRequest
from domain.schedule import SchedulePolicy
from domain.stages import ContactRole, ReviewType
from domain.submissions import ActionNote, ActionStatus, Contacts
from tests import factories

LEAD = "lead@cec.example"
HUB = "hub@hub.example"
REPORTED = date(2027, 2, 22)
DIRECTORY = Directory(
    contacts=Contacts.model_validate(factories.onboarding("leader@school.example")["contacts"]),
    careers_leader_email="leader@school.example",
    facilitator_email=HUB,
    review_lead_email=LEAD,
)


def facts(now: datetime, **changes: object) -> MeetingFacts:
    base = MeetingFacts(
        workflow_id="followup-100001-test-2027",
        cycle_id="100001-test-2027",
        review_type=ReviewType.EXPERT,
        directory=DIRECTORY,
        policy=FollowUpMeetingPolicy(),
        window_opens_days_before=14,
        schedule_policy=SchedulePolicy(),
        calendar=factories.CALENDAR,
        report_on=REPORTED,
        last_day=date(2027, 12, 1),
        action_ids=("A1", "A2"),
        now=now,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def refusal(call: object) -> str:
    with pytest.raises(Refusal) as raised:
        call()  # type: ignore[operator]
    return str(raised.value)


MARCH = at_london(date(2027, 3, 9), time(10))


def test_the_lead_arranges_it_on_the_policy_day_and_invites_those_who_attend() -> None:
    decision = schedule_meeting(facts(MARCH), FollowUpMeetingRequest(actor=LEAD))
    scheduled = next(e for e in decision.events if isinstance(e, FollowUpMeetingScheduled))
    assert scheduled.starts == at_london(date(2027, 5, 19), time(15, 30)), "ten school weeks after the report"
    assert scheduled.check_in_due == date(2027, 5, 12) and scheduled.ends - scheduled.starts == timedelta(hours=1)
    prompts = [e for e in decision.events if isinstance(e, PromptIssued)]
    invited = {p.recipient_role for p in prompts if p.kind == "follow_up_meeting"}
    assert invited == {ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER, ContactRole.REVIEW_LEAD}
    asked = [p for p in prompts if p.kind == "check_in_due"]
    assert [(p.recipient_role, p.due) for p in asked] == [(ContactRole.CAREERS_LEADER, date(2027, 5, 12))]
    assert asked[0].scheduled_for == at_london(date(2027, 4, 28), time(9)), "when its check-in window opens"
    assert decision.notes[0].sequence == 0 and decision.receipt is not None


def test_only_its_organiser_arranges_it_on_a_school_day_by_the_last_check_in() -> None:
    assert "only the review lead (lead@cec.example)" in refusal(
        lambda: schedule_meeting(facts(MARCH), FollowUpMeetingRequest(actor=HUB))
    )
    assert "only the facilitator" in refusal(
        lambda: schedule_meeting(facts(MARCH, review_type=ReviewType.PEER), FollowUpMeetingRequest(actor=LEAD))
    )
    schedule_meeting(facts(MARCH, review_type=ReviewType.PEER), FollowUpMeetingRequest(actor=HUB))
    schedule_meeting(facts(MARCH), FollowUpMeetingRequest(actor="cec"))

    def on(day: date, start: time = time(15, 30)) -> FollowUpMeetingRequest:
        return FollowUpMeetingRequest(on=day, start=start, actor=LEAD)

    assert "on: 2027-03-09 is not after today" in refusal(lambda: schedule_meeting(facts(MARCH), on(date(2027, 3, 9))))
    assert "not a school day" in refusal(lambda: schedule_meeting(facts(MARCH), on(date(2027, 5, 22))))
    late = facts(MARCH, last_day=date(2027, 5, 4))
    assert "must be by 2027-05-04" in refusal(lambda: schedule_meeting(late, on(date(2027, 5, 5))))
    assert "start: 18:00 is outside 08:00 to 17:00" in refusal(
        lambda: schedule_meeting(facts(MARCH), on(date(2027, 5, 5), start=time(18)))
    )
    assert "follow-up has stopped" in refusal(
        lambda: schedule_meeting(facts(MARCH, stopped="withdrawn"), on(date(2027, 5, 5)))
    )


def arranged() -> FollowUpMeeting:
    decision = schedule_meeting(facts(MARCH), FollowUpMeetingRequest(on=date(2027, 5, 19), actor=LEAD))
    return decision.notes[0]


def test_it_moves_until_it_begins_then_takes_one_note_on_every_action() -> None:
    meeting = arranged()
    moved = schedule_meeting(facts(MARCH, meeting=meeting), FollowUpMeetingRequest(on=date(2027, 5, 20), actor=LEAD))
    assert moved.notes[0].sequence == 1, "the invitation's SEQUENCE moves with it"
    during = at_london(date(2027, 5, 19), time(16))
    assert "began on 2027-05-19" in refusal(
        lambda: schedule_meeting(facts(during, meeting=meeting), FollowUpMeetingRequest(actor=LEAD))
    )

    def note(action: str, text: str = "Moving") -> ActionNote:
        return ActionNote(action_id=action, note=text)

    before = at_london(date(2027, 5, 19), time(12))
    all_notes = FollowUpNotesRequest(notes=[note("A1"), note("A2")], actor=LEAD)
    assert "its notes come after it" in refusal(lambda: record_notes(facts(before, meeting=meeting), all_notes))
    assert "no follow-up meeting is scheduled" in refusal(lambda: record_notes(facts(during), all_notes))
    wrong = FollowUpNotesRequest(notes=[note("A1"), note("A1"), note("A9")], actor=LEAD)
    refused = refusal(lambda: record_notes(facts(during, meeting=meeting), wrong))
    assert "notes[1].action_id: 'A1' appears more than once" in refused
    assert "notes[2].action_id: 'A9' is not an action of this plan" in refused and "missing A2" in refused
    decision = record_notes(facts(during, meeting=meeting), all_notes)
    held = next(e for e in decision.events if isinstance(e, FollowUpMeetingHeld))
    told = {e.recipient_role for e in decision.events if isinstance(e, PromptIssued)}
    assert told == {ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER, ContactRole.GOVERNOR}, "as the report"
    assert decision.notes[0].held
    assert "already recorded" in refusal(lambda: record_notes(facts(during, meeting=decision.notes[0]), all_notes))
    scheduled = next(e for e in moved.events if isinstance(e, FollowUpMeetingScheduled))
    record = meeting_record([scheduled, held])
    assert record is not None and record.moves == 0 and record.note_lines({"A1": "Champions"})[0] == "Champions: Moving"


def test_the_check_in_before_it_opens_early() -> None:
    meeting = arranged()
    request = SubmitRequest(kind="check-in", data=factories.check_in({"A1": "in_progress", "A2": "done"}))
    dates = [date(2027, 4, 19), date(2027, 6, 7)]
    statuses = {"A1": ActionStatus.IN_PROGRESS, "A2": ActionStatus.IN_PROGRESS}

    def check(today: date, with_meeting: FollowUpMeeting | None) -> object:
        return check_check_in(
            request,
            round_=2,
            dates=dates,
            policy=FollowUpPolicy(),
            statuses=statuses,
            stopped=None,
            submitted=False,
            today=today,
            meeting=with_meeting,
        )

    assert "opens on 2027-05-24" in refusal(lambda: check(date(2027, 5, 11), None))
    check(date(2027, 5, 11), meeting)
    assert "opens on 2027-04-28" in refusal(lambda: check(date(2027, 4, 27), meeting))
    assert "opens on 2027-05-24" in refusal(lambda: check(date(2027, 5, 11), meeting.model_copy(update={"held": True})))
