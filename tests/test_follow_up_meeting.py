"""A follow-up meeting after the report (issue 17): an expert review's lead arranges it from the cycle's task list on
the day the policy suggests; the school's leaders and the lead get the invitation with a calendar file through a
real SMTP server; the school is asked to check in before it, and may, though its next round is not open yet; after
the meeting the lead records a short note on each action, and the school's leaders are sent them. Everything
shows on the cycle's task list as it happens."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, time

import asyncpg
import pytest
from icalendar import Calendar
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.cycle_spec import follow_up_workflow_id
from domain.follow_up import FollowUpPolicy, check_in_dates
from domain.follow_up_meeting import FollowUpMeetingPolicy, default_day
from domain.london_time import at_london
from domain.requests import FollowUpMeetingRequest, FollowUpNotesRequest, GroupFindingsRequest
from domain.stages import Stage
from domain.submissions import ActionNote
from operations import cycles, peer_groups
from operations.cohorts import launch_cohort
from operations.cycles import Refused
from stack.addresses import StackAddresses
from store.read_models import list_events
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker, save_history
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, attachment, kinds
from tests.test_follow_up import START, follow_up_input
from tests.test_peer_groups import FACILITATOR, group_of, schedule
from tests.test_peer_groups import START as GROUP_START
from tests.test_work_pages import LATER, Person
from web.app import create_app
from workflows.follow_up import FollowUpWorkflow

LEADER = "leader@school.example"
SENIOR = "head@school.example"  # named at onboarding (tests/factories.py)
REPORTED = date(2027, 2, 22)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail_of(smtp: SmtpServer, to: str, kind: str) -> list[str]:
    return [str(m["Subject"]) for m in smtp.inbox.to(to) if kind in kinds(m)]


def sent(smtp: SmtpServer, to: str, kind: str) -> Callable[[], bool]:
    return lambda: bool(mail_of(smtp, to, kind))


def plain(smtp: SmtpServer, to: str, kind: str) -> str:
    message = next(m for m in smtp.inbox.to(to) if kind in kinds(m))
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return " ".join(body.get_content().split())


def follow_up_task(page: str) -> str:
    """The follow-up meeting's item on the cycle page's task list."""
    assert 'id="timeline"' in page or 'id="follow-up-tasks"' in page, "no task list on the cycle page"
    item = next(part for part in page.split('<li class="govuk-task-list__item') if "ollow-up meeting" in part)
    return " ".join(item.split("</li>")[0].split())


async def test_a_follow_up_meeting_after_the_report_invites_takes_notes_and_shows_on_the_task_list(
    env: WorkflowEnvironment, pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100171", deliver_mail=True)
    cycle = spec.cycle_id
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    lead = Person(app, pool, Principal(role=Role.REVIEWER, cycle_id=cycle, email=LEAD, expires_at=LATER))
    school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=cycle, expires_at=LATER))
    clock = CohortTime(env, spec.start_date)
    page = f"/cycles/{cycle}/follow-up-meeting"
    meeting_day = default_day(REPORTED, FollowUpMeetingPolicy(), factories.CALENDAR)
    assert meeting_day == date(2027, 5, 19), "ten school weeks after the report, Easter not counted"

    async with running_worker(engine.client, pool, engine.task_queue, smtp_port=smtp.port):
        await engine.start(spec)
        await clock.on(spec.start_date, time(10))
        await engine.submit(cycle, "onboarding", factories.onboarding(LEADER))
        await clock.on(date(2027, 1, 11), time(10))
        await engine.submit(cycle, "self-evaluation", factories.evaluation())
        await clock.on(date(2027, 2, 1), time(10))
        await engine.hold_expert_review(cycle, factories.review_findings(), clock.now)
        await clock.on(REPORTED, time(10))
        await engine.submit(cycle, "report", factories.report(), actor=LEAD)
        await clock.on(date(2027, 3, 8), time(10))
        await engine.submit(cycle, "action-plan", factories.action_plan(date(2027, 7, 1)))
        await lead.sign_in()
        await school.sign_in()

        # The lead's task list has the meeting to arrange; the school's has nothing yet.
        await clock.on(date(2027, 3, 9), time(10))

        async def lead_may_arrange() -> bool:
            return "Arrange the follow-up meeting" in (await lead.client.get(f"/cycles/{cycle}")).text

        await eventually(lead_may_arrange, "the lead's task to arrange the meeting")
        assert "ollow-up meeting" not in (await school.client.get(f"/cycles/{cycle}")).text
        form = (await lead.client.get(page)).text
        assert 'value="19"' in form and 'value="5"' in form, "the form suggests the policy's day"
        refused = await school.post(page, f"/cycles/{cycle}/work/check-in", factories.date_input("on", meeting_day))
        assert refused.status_code == 403, "the school does not arrange its own follow-up meeting"

        saturday = await lead.post(page, page, {**factories.date_input("on", date(2027, 5, 22)), "start": "15:30"})
        assert saturday.status_code == 422 and "not a school day" in saturday.text
        arranged = await lead.post(page, page, {**factories.date_input("on", meeting_day), "start": "15:30"})
        assert arranged.status_code == 303
        shown = (await lead.client.get(page)).text
        assert "Follow-up meeting scheduled" in shown and "Wednesday 19 May 2027" in shown
        assert "Wednesday 12 May 2027" in shown, "the check-in is due a school week before"

        # Everyone at the meeting is invited, with a calendar file of its own (not the review day's); a person gets
        # at most one email a day, and the senior leader heard of the action plan just before.
        await clock.on(date(2027, 3, 10), time(12))
        for person in (LEADER, SENIOR, LEAD):
            await eventually(sent(smtp, person, "follow_up_meeting"), f"{person}'s invitation")
        invite = next(m for m in smtp.inbox.to(LEADER) if "follow_up_meeting" in kinds(m))
        calendar = Calendar.from_ical(attachment(invite, "follow-up-meeting.ics"))
        event = next(iter(calendar.walk("VEVENT")))
        assert calendar["METHOD"] == "REQUEST" and event.decoded("dtstart") == at_london(meeting_day, time(15, 30))
        assert str(event["uid"]).startswith(f"{cycle}.follow-up-meeting@") and LEADER in str(event["attendee"])
        assert "check in on the action plan by Wednesday 12 May 2027" in plain(smtp, LEADER, "follow_up_meeting")
        task = follow_up_task((await school.client.get(f"/cycles/{cycle}")).text)
        assert "19 May 2027" in task and "check in on the action plan by Wednesday 12 May 2027" in task
        assert "To do" in task and f'href="{page}"' in task

        # Round 1 as usual; the school completes its re-evaluation and the cycle, the follow-up carries on.
        await clock.on(date(2027, 4, 19), time(10))
        await engine.submit(cycle, "check-in", factories.check_in({"A1": "in_progress", "A2": "not_started"}))
        await engine.submit(cycle, "re-evaluation", factories.evaluation())

        # Asked to check in before the meeting; round 2 is not open until 24 May, but this check-in is taken.
        await clock.on(date(2027, 4, 28), time(12))
        await eventually(lambda: len(mail_of(smtp, LEADER, "check_in_due")) >= 2, "the check-in before the meeting")
        asked = [m for m in smtp.inbox.to(LEADER) if "check_in_due" in kinds(m)][-1]
        assert "The follow-up meeting on Wednesday 19 May 2027 at 15:30 goes through this check-in" in " ".join(
            str(asked.get_body(preferencelist=("plain",)).get_content()).split()  # type: ignore[union-attr]
        )
        await clock.on(date(2027, 5, 11), time(10))
        await engine.submit(cycle, "check-in", factories.check_in({"A1": "done", "A2": "in_progress"}))

        # The notes come after the meeting has begun, and cover every action.
        await clock.on(date(2027, 5, 19), time(12))
        notes = {"note-A1": "Done: every department shows a careers link.", "note-A2": "Next: parents' evening."}
        early = await lead.post(f"{page}/notes", page, notes)
        assert early.status_code == 422 and "the meeting begins on Wednesday 19 May 2027 at 15:30" in early.text
        await clock.on(date(2027, 5, 19), time(16, 40))
        partial = await lead.post(f"{page}/notes", page, {"note-A1": notes["note-A1"]})
        assert partial.status_code == 422 and 'href="#note-A2"' in partial.text
        recorded = await lead.post(f"{page}/notes", page, notes)
        assert recorded.status_code == 303

        # The outcome reaches the school's leaders, as the report did; the task is done and the notes read back.
        await clock.on(date(2027, 5, 20), time(12))
        for person in (LEADER, SENIOR):
            await eventually(sent(smtp, person, "follow_up_notes"), f"{person}'s notes")
        outcome = plain(smtp, LEADER, "follow_up_notes")
        assert "- Action 1: Done: every department shows a careers link." in outcome
        assert "- Action 2: Next: parents' evening." in outcome
        task = follow_up_task((await school.client.get(f"/cycles/{cycle}")).text)
        assert "Completed" in task and "Held on Wednesday 19 May 2027" in task
        read_back = (await school.client.get(page)).text
        assert "Action 2: Next: parents&#39; evening." in read_back and "Record the notes" not in read_back
        notes_again = FollowUpNotesRequest(notes=[ActionNote(action_id="A1", note="Again")], actor=LEAD)
        with pytest.raises(Refused, match="already recorded"):
            await cycles.record_follow_up_notes(engine.client, cycle, notes_again)

        with pytest.raises(Refused, match="only the review lead"):
            await cycles.schedule_follow_up_meeting(
                engine.client, cycle, FollowUpMeetingRequest(on=date(2027, 6, 2), actor="someone@else.example")
            )

    events = [e.type for e in await list_events(pool, cycle)]
    assert events.count("FollowUpMeetingScheduled") == 1 and events.count("FollowUpMeetingHeld") == 1
    assert events.count("CheckInRecorded") == 2


async def test_a_follow_up_at_its_last_round_waits_for_the_meeting_notes(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    """The school checks in for the last round early, before the meeting: the follow-up, which would have ended
    there, stays to take the meeting's notes, then ends (a new command sequence, behind workflow.patched)."""
    engine = Engine(env, pool)
    cycle_id = "100172-test-2027"
    clock = factories.REAL_SPEED.anchored(at_london(START, time(10)), await env.get_current_time())
    times = CohortTime(env, START, time(10))
    state = follow_up_input(cycle_id, clock).model_copy(
        update={"policy": FollowUpPolicy(interval_weeks=3, months=2), "report_on": START}
    )
    first, last = check_in_dates(START, state.policy, factories.CALENDAR)
    assert (first, last) == (date(2027, 4, 12), date(2027, 5, 4))
    statuses = {"A1": "in_progress", "A2": "in_progress", "A3": "not_started"}
    async with running_worker(engine.client, pool, engine.task_queue):
        handle = await engine.client.start_workflow(
            FollowUpWorkflow.run, state, id=follow_up_workflow_id(cycle_id), task_queue=engine.task_queue
        )
        await times.on(date(2027, 3, 16), time(10))
        with pytest.raises(Refused, match="must be by 2027-05-04"):
            await cycles.schedule_follow_up_meeting(
                engine.client, cycle_id, FollowUpMeetingRequest(on=date(2027, 5, 5), actor="hub@hub.example")
            )
        receipt = await cycles.schedule_follow_up_meeting(
            engine.client, cycle_id, FollowUpMeetingRequest(on=last, actor="hub@hub.example")
        )
        assert "checks in by 2027-04-26" in receipt.message  # 3 May is a bank holiday
        await times.on(first, time(10))
        await cycles.submit(engine.client, cycle_id, "check-in", factories.check_in(statuses))
        await times.on(date(2027, 4, 21), time(10))
        await cycles.submit(engine.client, cycle_id, "check-in", factories.check_in(statuses | {"A3": "in_progress"}))
        await times.on(last, time(16))
        notes = [ActionNote(action_id=a, note=f"{a} moves on") for a in ("A1", "A2", "A3")]
        await cycles.record_follow_up_notes(
            engine.client, cycle_id, FollowUpNotesRequest(notes=notes, actor="hub@hub.example")
        )
        outcome = await handle.result()
        await save_history(handle, "follow_up_meeting_notes")
    assert outcome.rounds == 2 and outcome.stopped_reason is None
    events = [e.type for e in await list_events(pool, cycle_id)]
    assert events.count("FollowUpCompleted") == 1 and events.count("FollowUpMeetingHeld") == 1
    assert events.index("FollowUpMeetingHeld") > events.index("FollowUpCompleted"), "the notes came after the rounds"


async def test_a_peer_groups_facilitator_arranges_one_follow_up_meeting_for_the_whole_group(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    """After the group's own workflow has closed, its facilitator arranges the follow-up meeting for every member
    with an action plan at once, from the group's follow-up page; each member's task list shows it."""
    engine = Engine(env, pool)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    members = group_of(3, first_urn=317000)
    planned, unplanned = members[:2], members[2]
    group_page = "/groups/test-2027/g1/follow-up-meeting"
    async with running_worker(engine.client, pool, engine.task_queue):
        await launch_cohort(engine.client, members, engine.task_queue)
        clock = CohortTime(env, GROUP_START)
        await clock.on(GROUP_START, time(10))
        for spec in members:
            await engine.submit(spec.cycle_id, "onboarding", factories.onboarding(spec.careers_leader_email or ""))
        await clock.on(date(2027, 1, 11), time(10))
        for spec in members:
            await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())

        async def all_ready() -> bool:
            view = await peer_groups.group_view(engine.client, "test-2027", "g1")
            return sum(1 for m in view.members if m.ready_on) == len(members)

        await eventually(all_ready, "every member ready")
        await peer_groups.schedule_meeting(engine.client, "test-2027", "g1", schedule(date(2027, 1, 13)))
        await clock.on(date(2027, 1, 13), time(14))
        for spec in members:
            findings = GroupFindingsRequest(cycle_id=spec.cycle_id, data=factories.review_findings(), actor=FACILITATOR)
            await peer_groups.record_findings(engine.client, "test-2027", "g1", findings)
        await clock.on(REPORTED, time(10))
        for spec in members:
            await eventually(stage_is(engine, spec.cycle_id, Stage.REPORT), f"{spec.cycle_id}'s report stage")
            await engine.submit(spec.cycle_id, "report", factories.report("summary"), actor=FACILITATOR)
        await clock.on(date(2027, 3, 8), time(10))
        for spec in planned:
            await engine.submit(spec.cycle_id, "action-plan", factories.action_plan(date(2027, 7, 1)))
        await clock.on(date(2027, 3, 9), time(10))

        facilitator = Person(app, pool, Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER))
        await facilitator.sign_in()
        form = (await facilitator.client.get(group_page)).text
        assert form.count("Not arranged yet") == 2 and "No action plan yet" in form
        assert 'value="19"' in form and 'value="5"' in form, "ten school weeks after the reports"
        arranged = await facilitator.post(group_page, group_page, {"start": "15:30", "minutes": "90"})
        assert arranged.status_code == 303
        shown = (await facilitator.client.get(group_page)).text
        assert "Follow-up meeting arranged for the group" in shown and shown.count("Wednesday 19 May 2027") == 2

        school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=planned[1].cycle_id, expires_at=LATER))
        await school.sign_in()
        task = follow_up_task((await school.client.get(f"/cycles/{planned[1].cycle_id}")).text)
        assert "19 May 2027" in task and "To do" in task
    for spec in planned:
        events = await list_events(pool, spec.cycle_id, types=["FollowUpMeetingScheduled"])
        assert [e.data["starts"][:16] for e in events] == ["2027-05-19T15:30"]
        assert [e.data["actor"] for e in events] == [FACILITATOR]
    assert not await list_events(pool, unplanned.cycle_id, types=["FollowUpMeetingScheduled"])


def stage_is(engine: Engine, cycle_id: str, stage: Stage) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await engine.view(cycle_id)).stage is stage

    return check
