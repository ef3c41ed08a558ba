"""The findings and report forms take each development priority with the indicators it is about, picked by name
and grouped by theme: the findings record them, the report form starts from them, the report publishes them, and a
refusal about one priority shows on that priority's row."""

import html
import re
from datetime import date, time

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.submissions import DevelopmentPriority
from store.read_models import cycle_record
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.test_outcome import app_for
from tests.test_work_pages import LATER, Person

MODEL = factories.SCHOOLS_MODEL
CURRICULUM = MODEL.themes[2].indicators[0]
PATHWAYS = MODEL.themes[4].indicators[0]
GOVERNANCE = MODEL.themes[0].indicators[1]
MAPPING = "Map careers learning into every subject"


def ticked(page: str, row: int) -> set[str]:
    """The indicators a priority row's checkboxes hold ticked, as the page shows them."""
    boxes = re.findall(rf'<input[^>]*name="indicators-priority-{row}"[^>]*>', page)
    return {re.search(r'value="([^"]+)"', box)[1] for box in boxes if " checked" in box}  # type: ignore[index]


async def test_priorities_name_their_indicators_from_the_findings_to_the_published_report(
    env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100095")
    cycle = spec.cycle_id
    lead = Person(app_for(env, pool), pool, Principal(role=Role.REVIEWER, cycle_id=cycle, email=LEAD, expires_at=LATER))
    clock = CohortTime(env, spec.start_date)
    async with running_worker(engine.client, pool, engine.task_queue):
        await engine.start(spec)
        await clock.on(spec.start_date, time(10))
        await engine.submit(cycle, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 11), time(10))
        await engine.submit(cycle, "self-evaluation", factories.evaluation())
        await clock.on(date(2027, 2, 1), time(10))
        await engine.schedule_review_day(cycle, date(2027, 2, 1), time(11))
        await clock.on(date(2027, 2, 1), time(12))
        await lead.sign_in()

        # The form: a row per priority, each with every indicator by name under its theme's title.
        review = f"/cycles/{cycle}/work/review"
        form = (await lead.client.get(review)).text
        assert 'id="priority-0"' in form and 'id="priority-2"' in form and 'id="priority-3"' not in form
        row = html.unescape(form.split('id="priority-row-0"')[1].split('id="priority-row-1"')[0])
        assert all(theme.title in row for theme in MODEL.themes) and CURRICULUM.text in row
        more = await lead.post(
            review, review, {"priority_rows": "3", "priority-0": "Kept", "action": "more-priorities"}
        )
        assert more.status_code == 200 and 'id="priority-3"' in more.text and ">Kept</textarea>" in more.text
        too_many = await lead.post(review, review, {"priority_rows": "2000000", "action": "more-priorities"})
        assert too_many.status_code == 422, "a row count nobody meant is refused, not trimmed"

        lists = {"strengths": "Students lead the careers fair", "recommendations": "Appoint subject champions"}
        rows = {
            "priority_rows": "3",
            "priority-0": MAPPING,
            "indicators-priority-0": [CURRICULUM.id, PATHWAYS.id],
            "indicators-priority-1": [GOVERNANCE.id],  # ticked on a row left without words: not a priority
            "priority-2": "Report to governors each term",
        }
        # A refusal about the second priority sent shows on the row it came from (the third).
        wrong = rows | {"indicators-priority-2": ["no.such.indicator"]}
        refused = await lead.client.post(review, data={"csrf": await lead.csrf(review), **lists, **wrong})
        assert refused.status_code == 422
        assert 'href="#indicators-priority-2"' in refused.text, "the error summary leads to that row's indicators"
        assert ">Report to governors each term</textarea>" in refused.text

        rows["indicators-priority-2"] = [GOVERNANCE.id]
        recorded = await lead.client.post(review, data={"csrf": await lead.csrf(review), **lists, **rows})
        assert recorded.status_code == 303
        findings = (await cycle_record(pool, cycle)).findings
        assert findings is not None and findings.development_priorities == [
            DevelopmentPriority(text=MAPPING, indicator_ids=[CURRICULUM.id, PATHWAYS.id]),
            DevelopmentPriority(text="Report to governors each term", indicator_ids=[GOVERNANCE.id]),
        ]
        readback = html.unescape((await lead.client.get(f"/cycles/{cycle}/submissions/review")).text)
        assert CURRICULUM.text in readback and PATHWAYS.text in readback

        # The report form starts from them, each row with its indicators ticked; the report publishes them.
        await clock.on(date(2027, 2, 22), time(10))
        report = f"/cycles/{cycle}/work/report"
        started = (await lead.client.get(report)).text
        assert f">{MAPPING}</textarea>" in started
        assert ticked(started, 0) == {CURRICULUM.id, PATHWAYS.id} and ticked(started, 1) == {GOVERNANCE.id}
        assert 'id="priority-2"' in started and ticked(started, 2) == set(), "a blank row to add one"
        words = {
            "body": "A well-led programme with uneven subject links.",
            "summary_for_staff": "Careers is strong; every subject can now show where it leads.",
            **lists,
            "priority_rows": "3",
            "priority-0": MAPPING,
            "indicators-priority-0": [CURRICULUM.id],  # one unticked in the report
            "priority-1": "Report to governors each term",
            "indicators-priority-1": [GOVERNANCE.id],
            "action": "preview",
        }
        preview = await lead.client.post(report, data={"csrf": await lead.csrf(report), **words})
        assert preview.status_code == 200 and CURRICULUM.text in html.unescape(preview.text)
        again = (await lead.client.get(report)).text
        assert ticked(again, 0) == {CURRICULUM.id}, "the form comes back from the preview as it was left"
        published = await lead.client.post(report, data={"csrf": await lead.csrf(report), "action": "publish"})
        assert published.status_code == 303
        published_report = (await cycle_record(pool, cycle)).report
        assert published_report is not None and published_report.development_priorities == [
            DevelopmentPriority(text=MAPPING, indicator_ids=[CURRICULUM.id]),
            DevelopmentPriority(text="Report to governors each term", indicator_ids=[GOVERNANCE.id]),
        ]
