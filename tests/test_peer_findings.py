"""A peer review's findings are the facilitator's to read back as soon as they are recorded after the meeting,
on the page, through the API and in the CLI's read-back, although the member's cycle only records them (and
closes its review stage) once that stage opens, which for a group that meets early is weeks later."""

from datetime import date, time

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.stages import Stage
from domain.timeline import MilestoneState
from operations import peer_groups
from operations.cohorts import launch_cohort
from store.access_tokens import issue_token
from store.read_models import cycle_record
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import Engine, running_worker
from tests.eventually import eventually
from tests.test_outcome import app_for
from tests.test_peer_groups import START, group_of
from tests.test_work_pages import LATER, Person

REVIEW_OPENS = date(2027, 2, 1)


async def test_findings_recorded_after_an_early_meeting_read_back_before_the_review_stage_opens(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    app = app_for(env, pool)
    members = group_of(3, first_urn=330000)
    member = members[0].cycle_id
    async with running_worker(engine.client, pool, engine.task_queue):
        await launch_cohort(engine.client, members, engine.task_queue)
        clock = CohortTime(env, START)
        await clock.on(START, time(10))
        for spec in members:
            await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 11), time(10))
        for spec in members:
            await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())

        async def ready() -> bool:
            view = await peer_groups.group_view(engine.client, "test-2027", "g1")
            return all(m.ready_on for m in view.members)

        await eventually(ready, "every member ready")
        facilitator = Person(app, pool, Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER))
        await facilitator.sign_in()
        group = "/groups/test-2027/g1"
        scheduled = await facilitator.post(
            f"{group}/schedule", group, {**factories.date_input("on", date(2027, 1, 13)), "start": "09:30"}
        )
        assert scheduled.status_code == 303
        await clock.on(date(2027, 1, 13), time(14))
        form_path = f"{group}/members/{member}/findings"
        parents = factories.SCHOOLS_MODEL.themes[3].indicators[0]  # the priority names what it is about
        findings = {
            "cycle_id": member,
            "strengths": "Peer mentoring between year groups",
            "priority_rows": "3",
            "priority-0": "Bring parents into careers events",
            "indicators-priority-0": parents.id,
            "recommendations": "Run a parents' careers evening",
        }
        more = await facilitator.post(f"{group}/findings", form_path, findings | {"action": "more-priorities"})
        assert more.status_code == 200 and 'id="priority-3"' in more.text, "a row more, the rest as it was"
        assert ">Bring parents into careers events</textarea>" in more.text
        assert (await facilitator.post(f"{group}/findings", form_path, findings)).status_code == 303

        # Still 13 January: the member's review stage opens on 1 February, and its cycle holds the findings till then.
        milestone = next(m for m in (await engine.view(member)).milestones if m.stage is Stage.REVIEW)
        assert milestone.state is MilestoneState.UPCOMING and milestone.closed_on is None
        page = await facilitator.client.get(f"/cycles/{member}/submissions/review")
        assert page.status_code == 200 and "Peer mentoring between year groups" in page.text
        again = await facilitator.client.get(form_path)
        assert again.status_code == 303 and again.headers["location"] == f"/cycles/{member}/submissions/review"
        token = await issue_token(pool, facilitator.principal)
        api = await facilitator.client.get(
            f"/api/cycles/{member}/submissions/review", headers={"Authorization": f"Bearer {token}"}
        )
        assert api.status_code == 200
        assert api.json()["data"]["strengths"] == ["Peer mentoring between year groups"]
        priorities = api.json()["data"]["development_priorities"]
        assert priorities == [{"text": "Bring parents into careers events", "indicator_ids": [parents.id]}]
        assert api.json()["submitted_by"] == "hub-lead@hub.example"
        others = [await cycle_record(pool, spec.cycle_id) for spec in members[1:]]
        assert all(record.findings is None for record in others), "only the member whose findings were recorded"

        # When the stage opens, the cycle records the same findings and closes its review, as before.
        await clock.on(REVIEW_OPENS, time(10))

        async def review_closed() -> bool:
            view = await engine.view(member)
            return next(m for m in view.milestones if m.stage is Stage.REVIEW).closed_on == REVIEW_OPENS

        await eventually(review_closed, "the member's review closed on the day it opened")
        record = await cycle_record(pool, member)
        assert record.findings is not None and record.findings.strengths == ["Peer mentoring between year groups"]
