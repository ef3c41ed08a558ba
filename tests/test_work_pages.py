"""The stage pages after the self-evaluation: the lead's review day, findings and report, the institution's
action plan editor, and CEC's extend / withdraw, each posting an Update and showing refusals by the field."""

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.stages import CycleStatus, Stage
from operations.cohorts import launch_cohort
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.read_models import list_events
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.eventually import eventually
from tests.test_api_access import X, Y
from tests.test_peer_groups import START, group_of
from web.app import create_app

LATER = datetime.now(UTC) + timedelta(days=30)


class Person:
    def __init__(self, app: object, pool: asyncpg.Pool, principal: Principal) -> None:
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test")  # type: ignore[arg-type]
        self.pool = pool
        self.principal = principal

    async def sign_in(self) -> None:
        token = await issue_token(self.pool, self.principal)
        assert (await self.client.get(f"/signin?token={token}")).status_code == 303

    async def csrf(self, path: str) -> str:
        page = await self.client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        return page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]

    async def post(self, path: str, form_path: str, data: Mapping[str, str]) -> httpx.Response:
        return await self.client.post(path, data={"csrf": await self.csrf(form_path), **data})


@pytest.fixture
async def world(env: WorkflowEnvironment, pool: asyncpg.Pool) -> AsyncIterator[tuple[Engine, CohortTime, object]]:
    engine = Engine(env, pool)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    async with running_worker(engine.client, pool, engine.task_queue):
        for spec in (X, Y):
            await engine.start(spec)
        clock = CohortTime(env, X.start_date)
        await clock.on(X.start_date, time(10))
        await engine.submit(X.cycle_id, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 11), time(10))
        await engine.submit(X.cycle_id, "self-evaluation", factories.evaluation())
        yield engine, clock, app


async def test_the_lead_reviews_and_reports_and_the_institution_plans(
    world: tuple[Engine, CohortTime, object], pool: asyncpg.Pool
) -> None:
    engine, clock, app = world
    lead = Person(app, pool, Principal(role=Role.REVIEWER, cycle_id=X.cycle_id, email=LEAD, expires_at=LATER))
    school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=X.cycle_id, expires_at=LATER))
    await lead.sign_in()
    await school.sign_in()
    review = f"/cycles/{X.cycle_id}/work/review"
    assert (await school.client.get(review)).status_code == 403  # not the institution's to submit
    # The accepted self-evaluation is read back, never an empty form again; the lead reads its evidence.
    again = await school.client.get(f"/cycles/{X.cycle_id}/self-evaluation")
    assert again.status_code == 303 and again.headers["location"] == f"/cycles/{X.cycle_id}/submissions/self-evaluation"
    evidence = await lead.client.get(f"/cycles/{X.cycle_id}/submissions/self-evaluation")
    first = factories.SCHOOLS_MODEL.indicator_ids()[0]
    assert evidence.status_code == 200 and f"Evidence for {first}: minutes, survey data" in evidence.text
    # Between stages the header names the stage to come, never the one just finished.
    bar = evidence.text.split('id="current-stage"')[1].split("</strong>")[0]
    assert "Next: Review" in bar and "Self-evaluation" not in bar
    assert (await lead.client.get(f"/cycles/{X.cycle_id}/submissions/report")).status_code == 303
    assert (await lead.client.get(f"/cycles/{X.cycle_id}/submissions/re-evaluation")).status_code == 404

    await clock.on(date(2027, 2, 1), time(10))
    saturday = await lead.post(
        f"/cycles/{X.cycle_id}/review-day", review, {**factories.date_input("on", date(2027, 2, 6)), "start": "09:30"}
    )
    assert saturday.status_code == 422 and "not a school day" in saturday.text
    day = await lead.post(
        f"/cycles/{X.cycle_id}/review-day", review, {**factories.date_input("on", date(2027, 2, 1)), "start": "11:00"}
    )
    assert day.status_code == 303
    await clock.on(date(2027, 2, 1), time(12))
    lines = {"strengths": "", "development_priorities": "Subject links", "recommendations": "Champions"}
    refused = await lead.post(review, review, lines)
    assert refused.status_code == 422 and "Enter at least one of the strengths, one per line" in refused.text
    assert 'href="#strengths"' in refused.text.partition('data-module="govuk-error-summary"')[2], "linked to the field"
    accepted = await lead.post(review, review, lines | {"strengths": "Governor reports\nStudent voice"})
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/cycles/{X.cycle_id}/submissions/review"
    confirmed = await lead.client.get(accepted.headers["location"])
    assert 'id="confirmation"' in confirmed.text and "Review findings recorded" in confirmed.text
    assert 'id="confirmation"' not in (await lead.client.get(accepted.headers["location"])).text, "shown once"
    # The reviewer token names its person: the audit trail records them, not a role.
    recorded = next(e for e in await list_events(pool, X.cycle_id) if e.type == "ReviewFindingsRecorded")
    assert (recorded.metadata["actor"], recorded.data["actor"]) == (LEAD, LEAD)

    await clock.on(date(2027, 2, 22), time(10))
    report = f"/cycles/{X.cycle_id}/work/report"
    fields = {"body": "A well-led programme.", "summary_for_staff": "Careers is strong."} | lines
    assert (await lead.post(report, report, fields | {"strengths": "Leadership"})).status_code == 303

    await clock.on(date(2027, 3, 8), time(10))
    plan = f"/cycles/{X.cycle_id}/work/action-plan"
    more = await school.post(plan, plan, {"rows": "3", "action": "more"})
    assert more.status_code == 200 and 'id="action-3"' in more.text
    indicator = factories.SCHOOLS_MODEL.indicator_ids()[0]
    action = {"title-0": "Subject champions", "indicators-0": indicator, "owner-0": "careers leader"}
    missing = await school.post(
        plan, plan, action | {"rows": "3", **factories.date_input("due-0", date(2027, 6, 1)), "action": "check"}
    )
    assert missing.status_code == 422 and 'name="title-0"' in missing.text
    assert "Enter how you will know action 1 worked" in missing.text.split('id="action-1"')[0]  # in action 1's box
    assert 'href="#measure-0"' in missing.text.partition('data-module="govuk-error-summary"')[2], "linked to the box"
    measured = {"rows": "3", **factories.date_input("due-0", date(2027, 6, 1)), "measure-0": "Every department"}
    checking = await school.post(plan, plan, action | measured | {"action": "check"})
    assert checking.status_code == 303 and checking.headers["location"] == f"{plan}/check"
    closed = {m.stage for m in (await engine.view(X.cycle_id)).milestones if m.closed_on}
    assert Stage.ACTION_PLANNING not in closed, "Continue submits nothing"

    # Check your answers: a summary card per action, each answer with its Change link back to its box.
    answers = (await school.client.get(f"{plan}/check")).text
    assert "Check your action plan before you submit it" in answers and "govuk-summary-card" in answers
    card = answers.split('id="checked-action-1"')[1].split('id="untouched"')[0]
    for shown in ("Subject champions", "careers leader", "Tuesday 1 June 2027", "Every department"):
        assert shown in card, f"the check page lacks {shown!r}"
    assert factories.SCHOOLS_MODEL.themes[0].indicators[0].text in card  # the action's indicator, by name
    assert f'href="{plan}#measure-0"' in card and "Themes the plan leaves untouched" in answers
    changing = (await school.client.get(plan)).text  # Change: the editor holds the plan as it was left
    assert 'value="Subject champions"' in changing and ">Every department</textarea>" in changing
    done = await school.post(plan, f"{plan}/check", {"action": "submit"})
    assert done.status_code == 303 and done.headers["location"] == f"/cycles/{X.cycle_id}/submissions/action-plan"
    gone = await school.client.get(f"{plan}/check")
    assert gone.headers["location"] == f"/cycles/{X.cycle_id}/submissions/action-plan", "submitted: read back"
    view = await engine.view(X.cycle_id)
    assert {m.stage for m in view.milestones if m.closed_on} >= {Stage.REVIEW, Stage.REPORT, Stage.ACTION_PLANNING}
    page = await school.client.get(f"/cycles/{X.cycle_id}")
    assert "Subject champions" in page.text and "Check in on your action plan" in page.text
    assert f'href="/cycles/{X.cycle_id}/submissions/action-plan"' in page.text
    assert (await school.client.get(plan)).headers["location"] == f"/cycles/{X.cycle_id}/submissions/action-plan"
    token = await issue_token(pool, school.principal)
    api = f"/api/cycles/{X.cycle_id}/submissions"
    agreed = await school.client.get(f"{api}/action-plan", headers={"Authorization": f"Bearer {token}"})
    assert agreed.status_code == 200
    assert [a["title"] for a in agreed.json()["data"]["actions"]] == ["Subject champions"]
    assert agreed.json()["data"]["actions"][0]["indicator_ids"] == [indicator]
    none_yet = await school.client.get(f"{api}/check-in", headers={"Authorization": f"Bearer {token}"})
    assert none_yet.status_code == 404


async def test_cec_extends_and_withdraws_from_the_cycle_page(
    world: tuple[Engine, CohortTime, object], pool: asyncpg.Pool
) -> None:
    engine, _, app = world
    cec = Person(app, pool, Principal(role=Role.ADMIN, expires_at=LATER))
    school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=Y.cycle_id, expires_at=LATER))
    await cec.sign_in()
    await school.sign_in()
    page = f"/cycles/{Y.cycle_id}"
    nope = await school.client.post(f"{page}/admin/withdraw", data={"reason": "x"})
    assert nope.status_code == 404
    extend = f"{page}/admin/extend"
    bad = await cec.post(
        extend, extend, {"stage": "onboarding", **factories.date_input("to", date(2027, 1, 1)), "reason": "late"}
    )
    assert bad.status_code == 422 and "must be after the current due date" in bad.text
    assert 'href="#to-day"' in bad.text, "the error summary links to the date"
    extended = await cec.post(
        extend, extend, {"stage": "onboarding", **factories.date_input("to", date(2027, 1, 25)), "reason": "x"}
    )
    assert extended.status_code == 303 and extended.headers["location"] == page
    assert "Deadline extended" in (await cec.client.get(page)).text
    assert (await engine.view(Y.cycle_id)).due == date(2027, 1, 25)
    withdraw = f"{page}/admin/withdraw"
    withdrawn = await cec.post(withdraw, withdraw, {"reason": "school closing"})
    assert withdrawn.status_code == 303
    assert (await engine.view(Y.cycle_id)).status is CycleStatus.WITHDRAWN


async def test_the_facilitator_runs_a_peer_group_from_its_page(env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
    engine = Engine(env, pool)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    members = group_of(3, first_urn=310000)
    async with running_worker(engine.client, pool, engine.task_queue):
        await launch_cohort(engine.client, members, engine.task_queue)
        clock = CohortTime(env, START)
        await clock.on(START, time(10))
        for spec in members:
            await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 11), time(10))
        for spec in members:
            await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())
        page = "/groups/test-2027/g1"
        outsider = Person(app, pool, Principal(role=Role.FACILITATOR, cohort="other-2027", expires_at=LATER))
        member = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=members[0].cycle_id, expires_at=LATER))
        for person in (outsider, member):
            await person.sign_in()
            assert (await person.client.get(page)).status_code == 404
        facilitator = Person(app, pool, Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER))
        await facilitator.sign_in()

        async def ready() -> bool:
            return (await facilitator.client.get(page)).text.count("Accepted 11 January 2027") == 3

        await eventually(ready, "every member ready on the group page")
        weekend = await facilitator.post(
            f"{page}/schedule", page, {**factories.date_input("on", date(2027, 1, 16)), "start": "09:30", "slot": "60"}
        )
        assert weekend.status_code == 422 and "not a school day" in weekend.text
        scheduled = await facilitator.post(
            f"{page}/schedule", page, {**factories.date_input("on", date(2027, 1, 13)), "start": "09:30"}
        )
        assert scheduled.status_code == 303
        await clock.on(date(2027, 1, 13), time(14))
        lines = {"cycle_id": members[0].cycle_id, "development_priorities": "Links", "recommendations": "Champions"}
        findings = f"{page}/members/{members[0].cycle_id}/findings"
        assert f'href="{findings}"' in (await facilitator.client.get(page)).text
        empty = await facilitator.post(f"{page}/findings", findings, lines | {"strengths": ""})
        assert empty.status_code == 422 and "Enter at least one of the strengths, one per line" in empty.text
        recorded = await facilitator.post(f"{page}/findings", findings, lines | {"strengths": "Governors"})
        assert recorded.headers["location"] == f"/cycles/{members[0].cycle_id}/submissions/review"
        shown = await facilitator.client.get(page)
        assert "Recorded" in shown.text.split(f'data-cycle="{members[0].cycle_id}"')[1].split("</tr>")[0]

        # The same group through the JSON API, for the facilitator and nobody else.
        tokens = {
            who: await issue_token(pool, principal)
            for who, principal in {
                "facilitator": facilitator.principal,
                "outsider": outsider.principal,
                "member": member.principal,
            }.items()
        }
        api = "/api/groups/test-2027/g1"
        for who in ("outsider", "member"):
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            assert (await facilitator.client.get(api, headers=headers)).status_code == 404
        headers = {"Authorization": f"Bearer {tokens['facilitator']}"}
        view = (await facilitator.client.get(api, headers=headers)).json()
        assert [m["findings_recorded"] for m in view["members"]] == [True, False, False]
        data = {"strengths": ["Student voice"], "development_priorities": ["Links"], "recommendations": ["Champions"]}
        done = await facilitator.client.post(f"{api}/findings/{members[1].cycle_id}", json=data, headers=headers)
        assert done.status_code == 200 and "still to record" in done.json()["message"]
        again = await facilitator.client.post(f"{api}/findings/{members[1].cycle_id}", json=data, headers=headers)
        assert again.status_code == 422 and "already recorded" in again.json()["detail"]


async def test_an_institution_onboards_from_its_page(env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
    engine = Engine(env, pool)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    async with running_worker(engine.client, pool, engine.task_queue):
        await engine.start(Y)
        await engine.advance_to(Y.cycle_id, datetime.combine(Y.start_date, time(10), tzinfo=UTC))
        school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=Y.cycle_id, expires_at=LATER))
        await school.sign_in()
        page = f"/cycles/{Y.cycle_id}/work/onboarding"
        assert "Confirm your contacts" in (await school.client.get(f"/cycles/{Y.cycle_id}")).text
        contacts = {
            "careers_leader-name": "Sam Patel",
            "careers_leader-email": "sam@school",
            "senior_leader-name": "Alex Jones",
            "senior_leader-email": "head@school.example",
        }
        refused = await school.post(page, page, contacts)
        assert refused.status_code == 422
        assert "email address in the correct format, like name@school.org.uk" in refused.text
        assert 'aria-describedby="careers_leader-email-error"' in refused.text
        unread = await school.post(page, page, contacts | {"careers_leader-email": "sam@school.example"})
        assert unread.status_code == 422 and "Confirm that you have read the whole timeline" in unread.text
        done = await school.post(
            page, page, contacts | {"careers_leader-email": "sam@school.example", "timeline_acknowledged": "yes"}
        )
        assert done.status_code == 303
        view = await engine.view(Y.cycle_id)
        assert next(m for m in view.milestones if m.stage is Stage.ONBOARDING).closed_on is not None
