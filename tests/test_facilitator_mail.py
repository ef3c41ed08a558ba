"""A facilitator's email for a peer group: one message per event, not one per member. The group being ready comes
once and links to the group's page; the meeting comes as one invitation for the whole meeting, from the group."""

from datetime import date, time

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.requests import ScheduleMeetingRequest
from operations import peer_groups
from operations.cohorts import launch_cohort
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import MAIL, Engine, running_worker
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, attachment, kinds
from tests.test_peer_groups import START, group_of

FACILITATOR = "hub-lead@hub.example"  # every spec from tests/factories.py has this facilitator


async def test_a_facilitator_gets_one_email_per_group_event(env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
    engine = Engine(env, pool)
    members = [spec.model_copy(update={"deliver_mail": True}) for spec in group_of(3, first_urn=340000)]
    smtp = SmtpServer()
    smtp.start()
    clock = CohortTime(env, START)
    try:
        async with running_worker(engine.client, pool, engine.task_queue, smtp_port=smtp.port):
            await launch_cohort(engine.client, members, engine.task_queue)
            await clock.on(START, time(10))
            for spec in members:
                await engine.submit(
                    spec.cycle_id, "onboarding", factories.onboarding(f"leader-{spec.urn}@school.example")
                )
            await clock.on(date(2027, 1, 11), time(10))
            for spec in members:
                await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())

            def to_facilitator(kind: str) -> list[object]:
                return [m for m in smtp.inbox.to(FACILITATOR) if kind in kinds(m)]

            await eventually(lambda: bool(to_facilitator("peer_group_ready")), "the group-ready email")
            plan = {"on": "2027-01-13", "start": "09:30", "slot_minutes": 60}
            await peer_groups.schedule_meeting(
                engine.client, "test-2027", "g1", ScheduleMeetingRequest(plan=plan, actor=FACILITATOR)
            )
            await clock.on(date(2027, 1, 12), time(12))
            await eventually(lambda: bool(to_facilitator("meeting_invite")), "the facilitator's invitation")
            await eventually(
                lambda: all(smtp.inbox.to(f"leader-{s.urn}@school.example") for s in members), "members' mail"
            )
            await clock.on(date(2027, 1, 12), time(16))
    finally:
        smtp.stop()

    ready = [m for m in smtp.inbox.to(FACILITATOR) if "peer_group_ready" in kinds(m)]
    assert len(ready) == 1, "one email for the group being ready, not one per member"
    text = ready[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "next=%2Fgroups%2Ftest-2027%2Fg1" in text, f"it signs in to the group page: {text}"
    assert MAIL.public_url in text
    invites = [m for m in smtp.inbox.to(FACILITATOR) if "meeting_invite" in kinds(m)]
    assert len(invites) == 1, f"one invitation for the whole meeting, not one per member: {len(invites)}"
    assert "Peer group g1 meets" in str(invites[0]["Subject"])
    assert b"BEGIN:VEVENT" in attachment(invites[0], "invite.ics")
    for spec in members:  # each member's own people are invited to its own part
        leader_mail = smtp.inbox.to(f"leader-{spec.urn}@school.example")
        assert any("meeting_invite" in kinds(m) for m in leader_mail), spec.urn
