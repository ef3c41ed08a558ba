"""Senior leaders in the loop (issue 17), and where the review fits. A review nobody from the senior team is
expected at is flagged to the facilitator before the day (on the cycle's page, and by email once the school says
who will come without one); the findings record who attended, by role; the senior leader and the governor receive
the report summary, the agreed action plan and the re-evaluation's result, through a real SMTP server; cohort
insight shows the share of reviews with a senior leader present. Before that, the onboarding page says how the
review differs from other careers tools and standards (no badge, no inspection), and each indicator names the
Gatsby Benchmarks its theme relates to."""

from collections.abc import AsyncIterator
from datetime import date, time, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.insight import insight
from domain.insight_scope import InsightFilters, InsightScope
from domain.stages import Stage
from store.insight import insight_data
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, kinds
from tests.test_outcome import app_for
from tests.test_work_pages import LATER, Person

SENIOR, GOVERNOR = "head@school.example", "governor@school.example"  # named at onboarding (tests/factories.py)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def text_of(message: object) -> str:
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert body is not None
    return " ".join(body.get_content().split())


async def test_no_senior_leader_is_flagged_before_the_day_and_the_senior_leader_gets_the_report(
    env: WorkflowEnvironment, pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100171", deliver_mail=True)
    cycle, facilitator_email = spec.cycle_id, spec.facilitator_email or ""
    assert facilitator_email, "the cohort's facilitator hears of a review with no senior leader"
    app = app_for(env, pool)
    clock = CohortTime(env, spec.start_date)
    async with running_worker(engine.client, pool, engine.task_queue, smtp_port=smtp.port):
        await engine.start(spec)
        facilitator = Person(app, pool, Principal(role=Role.FACILITATOR, cohort=spec.cohort, expires_at=LATER))
        school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=cycle, expires_at=LATER))
        for person in (facilitator, school):
            await person.sign_in()
        page = f"/cycles/{cycle}"
        await clock.on(spec.start_date, time(10))
        # Onboarding says in plain words what this review is not: no badge, no inspection.
        onboarding = (await school.client.get(f"{page}/work/onboarding")).text
        fits = " ".join(onboarding.split('id="where-this-fits"')[1].split("</div>")[0].split())
        assert "no badge, award or certificate" in fits and "it is not an inspection" in fits
        assert "Compass" in fits and "Quality in Careers Standard" in fits
        await engine.submit(cycle, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 11), time(10))
        # Each indicator names the Gatsby Benchmarks its theme relates to.
        theme = factories.SCHOOLS_MODEL.themes[0]
        rating = (await school.client.get(f"{page}/self-evaluation/themes/{theme.id}")).text
        for indicator in theme.indicators:
            line = rating.split(f'data-indicator="{indicator.id}">', 1)[1].split("</p>", 1)[0]
            for number in theme.gatsby_benchmarks:
                assert f"{number} (" in line and "Gatsby Benchmark" in line, (indicator.id, line)
        await engine.submit(cycle, "self-evaluation", factories.evaluation(level=2))
        await clock.on(date(2027, 2, 1), time(10))
        await engine.schedule_review_day(cycle, date(2027, 2, 3), time(9, 30))

        async def flagged() -> bool:
            return 'id="no-senior-leader"' in (await facilitator.client.get(page)).text

        # Before anyone says who will come, the day is flagged: no senior leader is expected yet.
        await eventually(flagged, "the review day flagged with nobody expected yet")
        assert "Nobody has said yet who from the school will attend" in (await facilitator.client.get(page)).text

        # The school expects its careers leader and governor only: the facilitator is told by email, before the day.
        said = await school.post(f"{page}/attendance", page, {"expected": ["careers_leader", "governor"]})  # type: ignore[dict-item]
        assert said.status_code == 303
        assert "Expected from the school: Careers leader, Governor." in (await facilitator.client.get(page)).text
        assert await flagged()
        await clock.on(date(2027, 2, 1), time(12))

        def told() -> bool:
            return any("senior_leader_absent" in kinds(m) for m in smtp.inbox.to(facilitator_email))

        await eventually(told, "the facilitator's email about no senior leader")
        warning = next(m for m in smtp.inbox.to(facilitator_email) if "senior_leader_absent" in kinds(m))
        assert "No senior leader expected at the review of" in str(warning["Subject"])
        assert "review day on Wednesday 3 February 2027" in text_of(warning)
        assert not any("senior_leader_absent" in kinds(m) for m in smtp.inbox.to(SENIOR)), "the facilitator's alone"

        # A bad role is refused in words, and changes nothing.
        refused = await school.post(f"{page}/attendance", page, {"expected": "chair"})
        assert (
            refused.status_code == 422
            and "Expected from the school: Careers leader, Governor." in (await school.client.get(page)).text
        )
        # Then the deputy head says she will come: the flag clears.
        said = await school.post(f"{page}/attendance", page, {"expected": ["careers_leader", "senior_leader"]})  # type: ignore[dict-item]
        assert said.status_code == 303
        assert not await flagged()

        # On the day the lead records who attended, by role; the findings read it back.
        await clock.on(date(2027, 2, 3), time(12))
        findings = factories.review_findings() | {"attendance": ["careers_leader", "senior_leader", "senco"]}
        await engine.submit(cycle, "review", findings, actor=LEAD)
        readback = (await facilitator.client.get(f"{page}/submissions/review")).text
        assert "Careers leader, Senior leader, SENCO" in readback
        assert 'id="attendance"' not in (await facilitator.client.get(page)).text, "the review has taken place"

        # The report: its summary goes to the senior leader and the governor, as to the careers leader.
        await clock.on(date(2027, 2, 22), time(10))
        await engine.submit(cycle, "report", factories.report(), actor=LEAD)
        await clock.on(date(2027, 2, 22), time(12))

        def summary_to_both() -> bool:
            return all(any("report_published" in kinds(m) for m in smtp.inbox.to(who)) for who in (SENIOR, GOVERNOR))

        await eventually(summary_to_both, "the report summary to the senior leader and the governor")
        for who in (SENIOR, GOVERNOR):
            mail = next(m for m in smtp.inbox.to(who) if "report_published" in kinds(m))
            assert "Careers is strong; every subject can now show where it leads." in text_of(mail)

        # Cohort insight: the share of reviews with a senior leader present (CEC sees it over one review).
        everyone = InsightScope(population=InsightFilters(cohort=spec.cohort), withhold_small_groups=False)
        figures = insight(
            await insight_data(pool, everyone, [factories.SCHOOLS_MODEL]),
            InsightFilters(cohort=spec.cohort),
            [factories.SCHOOLS_MODEL],
            withhold=False,
        )
        assert figures.overall.senior_leaders.present == 1 and figures.overall.senior_leaders.share == 1.0

        # The agreed action plan and the re-evaluation's result go to the senior leader and the governor too.
        opens = {m.stage: m.opens for m in (await engine.view(cycle)).milestones}
        for stage, kind, data, news in [
            (Stage.ACTION_PLANNING, "action-plan", factories.action_plan(date(2027, 7, 1)), "action_plan_agreed"),
            (Stage.RE_EVALUATION, "re-evaluation", factories.evaluation(level=3), "re_evaluation_result"),
        ]:
            await clock.on(opens[stage], time(10))
            await engine.submit(cycle, kind, data)
            # The senior leader had the stage's opening email that morning: one a day, so the news goes next morning.
            await clock.on(opens[stage] + timedelta(days=1), time(12))

            def news_to_both(news: str = news) -> bool:
                return all(any(news in kinds(m) for m in smtp.inbox.to(who)) for who in (SENIOR, GOVERNOR))

            await eventually(news_to_both, f"{news} to the senior leader and the governor")
        plan = next(m for m in smtp.inbox.to(SENIOR) if "action_plan_agreed" in kinds(m))
        assert "Action 1: careers leader, by 1 July 2027" in text_of(plan)
        result = next(m for m in smtp.inbox.to(GOVERNOR) if "re_evaluation_result" in kinds(m))
        leading = factories.SCHOOLS_MODEL.themes[0].title
        assert f"{leading}: 2, developing at self-evaluation, 3, " in text_of(result)
        assert not any("action_plan_agreed" in kinds(m) for m in smtp.inbox.to("leader@school.example"))
