"""Prompts arrive as email, against a real SMTP server run in-process (aiosmtpd): the right people, on the
right dates and times, one message a day at most, calendar files where due, and never a message twice."""

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import httpx
import pytest
from icalendar import Calendar
from temporalio.testing import WorkflowEnvironment

from domain.access import Role
from domain.events import AppendRequest, EventMetadata, NewEvent, PromptIssued
from domain.london_time import LONDON, at_london
from domain.mail import MailboxInput, Readdress, mailbox_workflow_id
from domain.prompts import PromptKind
from domain.requests import ExtendRequest, ReviewDayRequest
from domain.stages import ContactRole, Stage
from operations import cycles
from stack.addresses import StackAddresses
from store.access_tokens import principal_for
from store.event_store import EventStore
from store.read_models import list_prompts
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, MAIL, Engine, running_worker, save_history
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, attachment, dated, kinds
from web.app import create_app
from workflows.digest_week import WEEKLY_DIGEST_ID
from workflows.mailbox import MailboxWorkflow, outgoing_from
from workflows.weekly_digest import WeeklyDigestInput, WeeklyDigestWorkflow

START = date(2027, 1, 4)
FIRST_LEADER = "careers-100001@school.example"
LEADER = "leader@school.example"  # named at onboarding (tests/factories.py)
HEAD = "head@school.example"
FACILITATOR = "hub-lead@hub.example"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def engine(env: WorkflowEnvironment, pool: asyncpg.Pool) -> Engine:
    return Engine(env, pool)


def arrived(smtp: SmtpServer, count: int) -> Callable[[], bool]:
    return lambda: len(smtp.inbox.messages) >= count


async def test_a_whole_cycle_delivers_the_expected_mail(engine: Engine, smtp: SmtpServer) -> None:
    spec = factories.cycle_spec(deliver_mail=True)
    clock = CohortTime(engine.env, START)
    async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
        handle = await engine.start(spec)
        await eventually(arrived(smtp, 1), "the timeline at onboarding")
        await clock.on(START, time(10))
        await engine.submit(spec.cycle_id, "onboarding", factories.onboarding(LEADER))
        await clock.on(date(2027, 1, 11), time(12))
        await eventually(arrived(smtp, 2), "self-evaluation opened")
        await clock.on(date(2027, 1, 25), time(12))
        await eventually(arrived(smtp, 3), "the first reminder")
        await clock.on(date(2027, 1, 27), time(10))
        extend = ExtendRequest(stage="self_evaluation", to=date(2027, 2, 8), reason="Ofsted visit", actor="cec")
        await cycles.extend(engine.client, spec.cycle_id, extend)
        await eventually(arrived(smtp, 4), "the new date")
        await clock.on(date(2027, 2, 2), time(10))
        await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())
        # The extension moved the review's opening to the new self-evaluation date.
        await clock.on(date(2027, 2, 8), time(11))
        day = ReviewDayRequest(on=date(2027, 2, 10), start=time(9, 30), actor=LEAD)
        await cycles.schedule_review_day(engine.client, spec.cycle_id, day)
        await clock.on(date(2027, 2, 10), time(12))
        await engine.submit(spec.cycle_id, "review", factories.review_findings(), actor=LEAD)
        view = await engine.view(spec.cycle_id)
        opens = {m.stage: m.opens for m in view.milestones}
        for stage, kind, data, actor in [
            (Stage.REPORT, "report", factories.report("report"), LEAD),
            (Stage.ACTION_PLANNING, "action-plan", factories.action_plan(date(2027, 7, 1)), "institution"),
            (Stage.RE_EVALUATION, "re-evaluation", factories.evaluation(level=3), "institution"),
        ]:
            await clock.on(opens[stage], time(10))
            await engine.submit(spec.cycle_id, kind, data, actor=actor)
        await handle.result()
        await clock.on(opens[Stage.RE_EVALUATION] + timedelta(days=3), time(12))
        sent_by = clock.now - timedelta(days=1)

        async def all_sent() -> bool:
            rows = await list_prompts(engine.pool, spec.cycle_id)
            return all(r.status in ("sent", "merged") for r in rows if r.scheduled_for < sent_by)

        await eventually(all_sent, "every prompt due so far sent")

    messages = smtp.inbox.messages
    # Deliveries to different people run side by side: order the story by time, then address.
    story = sorted((dated(m).strftime("%Y-%m-%d %H:%M"), str(m["To"]), kinds(m)) for m in messages)
    assert story[:4] == [
        ("2027-01-04 08:00", FIRST_LEADER, ["timeline", "stage_opened"]),
        ("2027-01-11 08:00", LEADER, ["stage_opened"]),
        ("2027-01-25 09:00", LEADER, ["reminder"]),
        ("2027-01-27 10:00", LEADER, ["deadline_changed"]),
    ]
    assert story[4:9] == [
        ("2027-02-01 09:00", LEADER, ["reminder"]),  # five school days before the new date
        ("2027-02-08 08:00", LEAD, ["stage_opened"]),
        ("2027-02-08 11:00", HEAD, ["meeting_invite"]),
        ("2027-02-08 11:00", LEADER, ["meeting_invite"]),
        # The lead had mail on the 8th already: the invitation waits for the next morning.
        ("2027-02-09 08:00", LEAD, ["meeting_invite"]),
    ]

    per_person_day = Counter((str(m["To"]), dated(m).date()) for m in messages)
    assert max(per_person_day.values()) == 1, "at most one email a day per person"
    for message in messages:
        when = dated(message)
        assert factories.CALENDAR.is_school_day(when.date()) and time(8) <= when.time() < time(17), when
        assert message.get_body(preferencelist=("plain",)) is not None
        html = message.get_body(preferencelist=("html",))
        assert html is not None and spec.name in html.get_content()
        assert str(message["Subject"]).strip()
        # Every email signs its own reader in, to a page of this cycle.
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "https://cis.example/signin?token=" in text and f"next=%2Fcycles%2F{spec.cycle_id}" in text

    rows = await list_prompts(engine.pool, spec.cycle_id)
    delivered = [r for r in rows if r.status in ("sent", "merged")]
    assert len(smtp.inbox.message_ids()) == len(set(smtp.inbox.message_ids()))
    assert {r.message_id for r in delivered} == set(smtp.inbox.message_ids())
    for row in delivered:
        message = next(m for m in messages if str(m["Message-ID"]) == row.message_id)
        assert str(message["To"]) == row.sent_to and row.kind in kinds(message)

    # The whole timeline at onboarding; the same entries, a higher SEQUENCE, when a date moves.
    onboarding = next(m for m in messages if "timeline" in kinds(m))
    new_date = next(m for m in messages if "deadline_changed" in kinds(m))
    first = Calendar.from_ical(attachment(onboarding, "timeline.ics"))
    moved = Calendar.from_ical(attachment(new_date, "timeline.ics"))
    before = {str(e["uid"]): e for e in first.walk("VEVENT")}
    after = {str(e["uid"]): e for e in moved.walk("VEVENT")}
    assert len(before) == 7 and set(before) == set(after)
    self_evaluation = next(uid for uid in after if ".self_evaluation@" in uid)
    assert after[self_evaluation].decoded("sequence") > before[self_evaluation].decoded("sequence")
    assert after[self_evaluation].decoded("dtstart") == date(2027, 2, 8)
    invite = next(m for m in messages if str(m["To"]) == HEAD)
    meeting = Calendar.from_ical(attachment(invite, "invite.ics"))
    assert str(meeting["method"]) == "REQUEST"
    event = next(iter(meeting.walk("VEVENT")))
    assert event.decoded("dtstart").astimezone(LONDON) == datetime(2027, 2, 10, 9, 30, tzinfo=LONDON)
    assert str(event["attendee"]) == f"mailto:{HEAD}"


# ----- the mailbox on its own: digests, quiet times, outages, restarts ----------------------------------

SUBJECT = "999999-mailtest"


async def issue(engine: Engine, prompts: list[PromptIssued], version: int) -> None:
    """Record prompts as the cycle would, so the outbox has their rows."""
    batch = [
        NewEvent(
            event_id=f"00000000-0000-4000-8000-{version + n:012d}",
            event=p,
            metadata=EventMetadata(actor="system", workflow_id="test", correlation_id=SUBJECT),
        )
        for n, p in enumerate(prompts, start=1)
    ]
    await EventStore(engine.pool).append(
        AppendRequest(stream_id="test-prompts", expected_version=version, events=batch)
    )


def prompt(n: int, kind: PromptKind, to: str, scheduled_for: datetime) -> PromptIssued:
    return PromptIssued(
        cycle_id=SUBJECT,
        at=scheduled_for,
        prompt_id=f"p{n}",
        kind=kind.value,
        stage=Stage.SELF_EVALUATION,
        recipient_role=ContactRole.CAREERS_LEADER,
        recipient_email=to,
        due=date(2027, 2, 19),
        scheduled_for=scheduled_for,
    )


async def open_mailbox(engine: Engine, prompts: list[PromptIssued]) -> None:
    await engine.client.start_workflow(
        MailboxWorkflow.run,
        MailboxInput(
            subject_id=SUBJECT,
            calendar=factories.CALENDAR,
            clock=factories.REAL_SPEED.anchored(at_london(START, time(8)), datetime.now(LONDON)),
            escalate_to="hub-lead@hub.example",
            pending=outgoing_from(list(prompts)),
        ),
        id=mailbox_workflow_id(SUBJECT),
        task_queue=engine.task_queue,
    )


async def test_same_day_prompts_merge_and_quiet_times_wait_for_the_next_school_day(
    engine: Engine, smtp: SmtpServer
) -> None:
    saturday = at_london(date(2027, 1, 9), time(10))
    half_term = at_london(date(2027, 2, 16), time(9))  # Tuesday of the February half-term
    prompts = [
        prompt(1, PromptKind.REMINDER, LEADER, at_london(date(2027, 1, 6), time(9))),
        prompt(2, PromptKind.DEADLINE_CHANGED, LEADER, at_london(date(2027, 1, 6), time(9))),
        prompt(3, PromptKind.STAGE_OPENED, LEADER, at_london(date(2027, 1, 6), time(9))),
        prompt(4, PromptKind.REMINDER, HEAD, saturday),
        prompt(5, PromptKind.REMINDER, "governor@school.example", half_term),
        prompt(6, PromptKind.OVERDUE, "late@school.example", at_london(date(2027, 1, 7), time(18, 30))),
    ]
    await issue(engine, prompts, 0)
    clock = CohortTime(engine.env, START)
    async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
        await open_mailbox(engine, prompts)
        await clock.on(date(2027, 1, 6), time(12))
        await eventually(arrived(smtp, 1), "the digest")
        await clock.on(date(2027, 1, 11), time(12))
        await eventually(arrived(smtp, 3), "the weekend's and the evening's prompts")
        await clock.on(date(2027, 2, 22), time(12))
        await eventually(arrived(smtp, 4), "the half-term prompt")

    story = {str(m["To"]): (dated(m).strftime("%a %Y-%m-%d %H:%M"), kinds(m)) for m in smtp.inbox.messages}
    assert len(smtp.inbox.messages) == 4
    assert story[LEADER] == ("Wed 2027-01-06 09:00", ["reminder", "deadline_changed", "stage_opened"])
    assert story["late@school.example"] == ("Fri 2027-01-08 08:00", ["overdue"])  # after 17:00: next morning
    assert story[HEAD] == ("Mon 2027-01-11 08:00", ["reminder"])  # Saturday: the next school day
    assert story["governor@school.example"] == ("Mon 2027-02-22 08:00", ["reminder"])  # after half-term
    digest = smtp.inbox.to(LEADER)[0]
    assert "3 updates" in str(digest["Subject"])
    assert "List-Unsubscribe" in digest  # it carries optional nudges
    statuses = {r.prompt_id: r.status for r in await list_prompts(engine.pool, SUBJECT)}
    assert statuses == {"p1": "merged", "p2": "merged", "p3": "merged", "p4": "sent", "p5": "sent", "p6": "sent"}


async def test_an_smtp_outage_of_two_days_loses_nothing_and_repeats_nothing(engine: Engine, smtp: SmtpServer) -> None:
    monday = date(2027, 1, 11)
    prompts = [
        prompt(1, PromptKind.STAGE_OPENED, LEADER, at_london(monday, time(9))),
        prompt(2, PromptKind.REMINDER, HEAD, at_london(monday, time(9))),
        prompt(3, PromptKind.ESCALATION, "hub-lead@hub.example", at_london(monday + timedelta(days=1), time(9))),
    ]
    await issue(engine, prompts, 0)
    clock = CohortTime(engine.env, START)
    smtp.stop()  # down from Sunday to Wednesday morning
    async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
        await open_mailbox(engine, prompts)
        await clock.on(monday, time(12))
        await clock.on(monday + timedelta(days=1), time(12))

        async def still_queued() -> bool:
            rows = await list_prompts(engine.pool, SUBJECT)
            return all(r.status == "queued" and r.attempts >= 1 for r in rows)

        await eventually(still_queued, "attempts made and failed while the server is down")
        await clock.on(monday + timedelta(days=2), time(9))
        smtp.start()
        await clock.on(monday + timedelta(days=2), time(12))
        await eventually(arrived(smtp, 3), "every prompt after the server came back")
        await clock.on(monday + timedelta(days=5), time(12))

    assert sorted(smtp.inbox.message_ids()) == sorted(f"<p{n}@cis.careers-impact>" for n in (1, 2, 3))
    assert all(dated(m).date() == monday + timedelta(days=2) for m in smtp.inbox.messages)
    rows = await list_prompts(engine.pool, SUBJECT)
    assert all(r.status == "sent" and r.attempts > 1 for r in rows)


async def test_a_worker_killed_after_or_before_a_send_neither_repeats_nor_loses_it(
    engine: Engine, smtp: SmtpServer
) -> None:
    monday = date(2027, 1, 11)
    first = prompt(1, PromptKind.STAGE_OPENED, LEADER, at_london(monday, time(9)))
    second = prompt(2, PromptKind.REMINDER, LEADER, at_london(monday + timedelta(days=1), time(9)))
    await issue(engine, [first, second], 0)
    clock = CohortTime(engine.env, START)
    async with running_worker(engine.client, engine.pool, engine.task_queue, cache=False, smtp_port=smtp.port):
        await open_mailbox(engine, [first, second])
        await clock.on(monday, time(12))
        await eventually(arrived(smtp, 1), "the first prompt")

        async def recorded() -> bool:
            return any(r.prompt_id == "p1" and r.status == "sent" for r in await list_prompts(engine.pool, SUBJECT))

        await eventually(recorded, "the first prompt recorded as sent")
        smtp.inbox.busy = True  # the second prompt's send will fail for now...
        await clock.on(monday + timedelta(days=1), time(9, 30))

        async def attempted() -> bool:
            rows = await list_prompts(engine.pool, SUBJECT)
            return any(r.prompt_id == "p2" and r.attempts >= 1 for r in rows)

        await eventually(attempted, "the second prompt attempted")
    # ...and the worker dies with it unsent. A new worker takes over.
    smtp.inbox.busy = False
    async with running_worker(engine.client, engine.pool, engine.task_queue, cache=False, smtp_port=smtp.port):
        await clock.on(monday + timedelta(days=1), time(12))
        await eventually(arrived(smtp, 2), "the second prompt after the restart")
        await clock.on(monday + timedelta(days=4), time(12))

    assert Counter(smtp.inbox.message_ids()) == {"<p1@cis.careers-impact>": 1, "<p2@cis.careers-impact>": 1}


async def test_a_permanently_refused_address_is_recorded_and_the_facilitator_told(
    engine: Engine, smtp: SmtpServer
) -> None:
    monday = date(2027, 1, 11)
    bad = prompt(1, PromptKind.STAGE_OPENED, "nobody@school.example", at_london(monday, time(9)))
    await issue(engine, [bad], 0)
    smtp.inbox.refused_addresses.add("nobody@school.example")
    clock = CohortTime(engine.env, START)
    async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
        await open_mailbox(engine, [bad])
        await clock.on(monday, time(12))
        await eventually(arrived(smtp, 1), "the facilitator's notice")

    notice = smtp.inbox.messages[0]
    assert str(notice["To"]) == "hub-lead@hub.example" and kinds(notice) == ["delivery_failed"]
    rows = {r.prompt_id: r for r in await list_prompts(engine.pool, SUBJECT)}
    assert rows["p1"].status == "failed" and "550" in (rows["p1"].last_error or "")


async def test_facilitators_get_one_weekly_digest_instead_of_an_email_per_escalation(
    engine: Engine, smtp: SmtpServer
) -> None:
    never = factories.cycle_spec(urn="100050", deliver_mail=True)
    prompt_one = factories.cycle_spec(urn="100051", deliver_mail=True)
    # The same facilitator looks after a school in another cohort too: their sign-in covers one cohort.
    elsewhere = factories.cycle_spec(urn="100052", cohort="spring-2027", deliver_mail=True)
    clock = CohortTime(engine.env, START)
    digest_clock = factories.REAL_SPEED.anchored(at_london(START, time(8)), datetime.now(LONDON))
    async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
        await engine.start(never)
        await engine.start(prompt_one)
        await engine.start(elsewhere)
        await clock.on(START, time(10))
        await engine.submit(prompt_one.cycle_id, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 15), time(12))
        # The weekly loop of releases before the Schedule (tests/test_digest_per_facilitator.py has the Schedule's
        # runs), still running when this release is deployed: it sends its next week per facilitator, then ends.
        loop = await engine.client.start_workflow(
            WeeklyDigestWorkflow.run,
            WeeklyDigestInput(calendar=factories.CALENDAR, clock=digest_clock),
            id=WEEKLY_DIGEST_ID,
            task_queue=engine.task_queue,
        )

        async def escalated() -> bool:
            rows = await list_prompts(engine.pool, never.cycle_id)
            return any(r.kind == "escalation" for r in rows)

        await eventually(escalated, "the escalation")
        assert not smtp.inbox.to(FACILITATOR), "no email per escalation"
        await clock.on(date(2027, 1, 18), time(12))
        await eventually(lambda: bool(smtp.inbox.to(FACILITATOR)), "the weekly digest")
        await loop.result()  # ended, handed over to the Schedule, not continued as new
        await save_history(loop, "digest_loop_handed_to_schedule")
        await clock.on(date(2027, 1, 19), time(12))

    digests = smtp.inbox.to(FACILITATOR)
    assert len(digests) == 1
    digest = digests[0]
    assert dated(digest).strftime("%a %Y-%m-%d %H:%M") == "Mon 2027-01-18 08:00"
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert str(digest["Subject"]) == "Your week: 2 schools need attention"
    assert never.name in text and "overdue since Monday 11 January 2027" in text
    assert prompt_one.name not in text
    html = digest.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"<li>{never.name}: Onboarding, overdue since" in html
    assert "Overdue (1)" in text and f"Contact: {never.careers_leader_email}" in text, "grouped, with the contact"
    assert f"next=%2Fcycles%2F{never.cycle_id}" in text, "each school's page (signed in: see below)"
    escalation = next(r for r in await list_prompts(engine.pool, never.cycle_id) if r.kind == "escalation")
    assert escalation.status == "merged" and escalation.message_id == str(digest["Message-ID"])

    # A section per cohort, each with links that sign the facilitator in to that cohort (and no other).
    first, second = text.split("1. spring-2027: 1 school")[1].split("2. test-2027: 1 school")
    sections = {"spring-2027": first, "test-2027": second}
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), MAIL.secret)
    app.state.pool = engine.pool  # the sign-in and the dashboard read only the database
    for cohort, school, other in (("test-2027", never, elsewhere), ("spring-2027", elsewhere, never)):
        links = [httpx.URL(word) for word in sections[cohort].split() if "/signin?token=" in word]
        landing = f"/dashboard?group=action&cohort={cohort}"
        assert [link.params["next"] for link in links] == [f"/cycles/{school.cycle_id}", landing]
        token = links[0].params["token"]
        assert {link.params["token"] for link in links} == {token}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://cis.example") as web:
            to_school = await web.get(f"{links[0].path}?{links[0].query.decode()}")
            assert to_school.status_code == 303 and to_school.headers["location"] == f"/cycles/{school.cycle_id}"
            landed = await web.get(f"/signin?token={token}")
            assert landed.status_code == 303 and landed.headers["location"] == landing
            dashboard = (await web.get("/dashboard")).text
            assert school.name in dashboard and other.name not in dashboard, "that cohort's schools, no other's"
            api = await web.get("/api/cycles", headers={"Authorization": f"Bearer {token}"})
            assert api.status_code == 401, "a digest's sign-in link is not an API token"
        holder = await principal_for(engine.pool, token, datetime.now(UTC))
        assert holder is not None and (holder.role, holder.cohort, holder.cycle_id) == (Role.FACILITATOR, cohort, None)
        assert await principal_for(engine.pool, token, datetime.now(UTC) + timedelta(days=31)) is None, "it expires"


async def test_a_recipient_can_switch_off_optional_nudges_but_not_deadlines(engine: Engine, smtp: SmtpServer) -> None:
    monday = date(2027, 1, 11)
    tuesday = monday + timedelta(days=1)
    prompts = [
        prompt(1, PromptKind.REMINDER, LEADER, at_london(monday, time(9))),
        prompt(2, PromptKind.REMINDER, LEADER, at_london(tuesday, time(9))),
        prompt(3, PromptKind.DEADLINE_CHANGED, LEADER, at_london(tuesday, time(9))),
    ]
    await issue(engine, prompts, 0)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), MAIL.secret)
    app.state.pool = engine.pool  # the routes under test read only the database
    clock = CohortTime(engine.env, START)
    async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
        await open_mailbox(engine, prompts)
        await clock.on(monday, time(12))
        await eventually(arrived(smtp, 1), "the first reminder")
        link = str(smtp.inbox.messages[0]["List-Unsubscribe"]).strip("<>")
        assert link in smtp.inbox.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        path = link.removeprefix("https://cis.example")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://cis.example") as web:
            assert (await web.get(path.replace("token=", "token=0"))).status_code == 404
            asked = await web.get(path)
            assert asked.status_code == 200 and "Switch off optional reminders" in asked.text
            query = dict(httpx.URL(link).params)
            done = await web.post("/mail/nudges-off", data=query)
            assert done.status_code == 200 and "no more optional reminders" in done.text
        await clock.on(tuesday, time(12))
        await eventually(arrived(smtp, 2), "Tuesday's mail")

    tuesday_mail = smtp.inbox.messages[1]
    assert kinds(tuesday_mail) == ["deadline_changed"]  # the reminder was dropped, the new date was not
    statuses = {r.prompt_id: r.status for r in await list_prompts(engine.pool, SUBJECT)}
    assert statuses == {"p1": "sent", "p2": "suppressed", "p3": "sent"}


async def test_a_contact_change_applies_to_prompts_not_yet_sent(engine: Engine, smtp: SmtpServer) -> None:
    tuesday = date(2027, 1, 12)
    waiting = prompt(1, PromptKind.REMINDER, LEADER, at_london(tuesday, time(9)))
    await issue(engine, [waiting], 0)
    clock = CohortTime(engine.env, START)
    async with running_worker(engine.client, engine.pool, engine.task_queue, smtp_port=smtp.port):
        await open_mailbox(engine, [waiting])
        await clock.on(date(2027, 1, 11), time(12))
        handle = engine.client.get_workflow_handle_for(MailboxWorkflow.run, mailbox_workflow_id(SUBJECT))
        await handle.signal(
            MailboxWorkflow.readdress, Readdress(addresses={ContactRole.CAREERS_LEADER: "new@school.example"})
        )
        await clock.on(tuesday, time(12))
        await eventually(arrived(smtp, 1), "the reminder")

    assert [str(m["To"]) for m in smtp.inbox.messages] == ["new@school.example"]
    row = (await list_prompts(engine.pool, SUBJECT))[0]
    assert row.recipient_email == LEADER and row.sent_to == "new@school.example"
