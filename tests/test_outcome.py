"""The school sees its outcome. An expert cycle and a peer-group member, each through to its report: the HTML
report, the staff summary and the PDF (read back with pdftotext, its first page drawn to PNG under
tests/artifacts/) hold the institution's own strengths, priorities and theme levels; the report email carries
the staff summary in its body and the PDF attached, through a real SMTP server, with a sign-in link that lands
on the report; then the action plan from the report, the re-evaluation and progress."""

import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import date, time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.stages import Stage
from operations.cohorts import launch_cohort
from stack.addresses import StackAddresses
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, attachment, kinds
from tests.test_peer_groups import START, group_of
from tests.test_work_pages import LATER, Person
from web.app import create_app

ARTIFACTS = Path(__file__).parent / "artifacts"
LEADER = "leader@school.example"  # named at onboarding (tests/factories.py)
MODEL = factories.SCHOOLS_MODEL
STRENGTHS = "Governors hear a termly careers report\nStudents lead the careers fair"
PRIORITIES = "Map careers learning into every subject"
RECOMMENDATIONS = "Appoint subject careers champions\nTrack destinations for three years"

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="needs poppler-utils (apt-get install -y poppler-utils; .ci/run installs it)",
)


def pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    """The PDF's text (pdftotext), and its first page drawn to tests/artifacts/NAME.png (pdftoppm)."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source), str(ARTIFACTS / name)],
        check=True,
        timeout=60,
    )
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 1000
    text = subprocess.run(["pdftotext", "-layout", str(source), "-"], capture_output=True, check=True, timeout=60)
    return " ".join(text.stdout.decode().split())  # lines wrapped by the layout read as one


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def app_for(env: WorkflowEnvironment, pool: asyncpg.Pool) -> object:
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    return app


async def test_an_expert_cycle_reaches_the_school_as_its_report(
    env: WorkflowEnvironment, pool: asyncpg.Pool, smtp: SmtpServer, tmp_path: Path
) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100091", deliver_mail=True)
    cycle = spec.cycle_id
    app = app_for(env, pool)
    lead = Person(app, pool, Principal(role=Role.REVIEWER, cycle_id=cycle, email=LEAD, expires_at=LATER))
    clock = CohortTime(env, spec.start_date)
    async with running_worker(engine.client, pool, engine.task_queue, smtp_port=smtp.port):
        await engine.start(spec)
        await clock.on(spec.start_date, time(10))
        await engine.submit(cycle, "onboarding", factories.onboarding(LEADER))
        await clock.on(date(2027, 1, 11), time(10))
        first = factories.evaluation(level=2)
        first["ratings"][0]["level"] = 1  # the first indicator: 1, then agreed at 3, re-evaluated at 3
        await engine.submit(cycle, "self-evaluation", first)
        await clock.on(date(2027, 2, 1), time(10))
        await lead.sign_in()
        review = f"/cycles/{cycle}/work/review"
        assert "Evidence for" in (await lead.client.get(review)).text, "the findings form shows the school's evidence"
        day = await lead.post(
            f"/cycles/{cycle}/review-day", review, {**factories.date_input("on", date(2027, 2, 1)), "start": "11:00"}
        )
        assert day.status_code == 303
        await clock.on(date(2027, 2, 1), time(12))
        indicator = MODEL.indicator_ids()[0]
        findings = {
            "strengths": STRENGTHS,
            "development_priorities": PRIORITIES,
            "recommendations": RECOMMENDATIONS,
            f"agreed-{indicator}": "3",
            f"rationale-{indicator}": "Strategy seen in governors' minutes",
        }
        assert (await lead.post(review, review, findings)).status_code == 303

        # The report form starts from the findings; the preview is the school's page, unpublished.
        await clock.on(date(2027, 2, 22), time(10))
        form_path = f"/cycles/{cycle}/work/report"
        form = (await lead.client.get(form_path)).text
        assert "Students lead the careers fair" in form and "Map careers learning into every subject" in form
        report = {
            "body": "A well-led programme with uneven subject links.",
            "summary_for_staff": "Careers is strong here; every subject can now show where it leads.",
            "strengths": STRENGTHS,
            "development_priorities": PRIORITIES,
            "recommendations": RECOMMENDATIONS,
            "resources": "Gatsby Benchmark toolkit",
        }
        preview = await lead.post(form_path, form_path, report | {"action": "preview"})
        assert preview.status_code == 200 and "exactly what Test Academy 100091 will see" in preview.text
        assert "not yet published" in preview.text
        school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=cycle, expires_at=LATER))
        await school.sign_in()
        assert (await school.client.get(f"/cycles/{cycle}/report")).status_code == 404  # nothing until published
        published = await lead.client.post(form_path, data={"csrf": await lead.csrf(form_path), "action": "publish"})
        assert published.status_code == 303 and published.headers["location"] == f"/cycles/{cycle}/report"

        # The report email: the staff summary in its body, the PDF attached, a sign-in link to the report.
        def report_mail() -> bool:
            return any("report_published" in kinds(m) for m in smtp.inbox.to(LEADER))

        await clock.on(date(2027, 2, 22), time(12))
        await eventually(report_mail, "the report email to the careers leader")
        mail = next(m for m in smtp.inbox.to(LEADER) if "report_published" in kinds(m))
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        text = " ".join(body.get_content().split())
        assert "Careers is strong here; every subject can now show where it leads." in text
        assert "Students lead the careers fair" in text and "Map careers learning into every subject" in text
        emailed_pdf = pdf_text(attachment(mail, "100091-report.pdf"), tmp_path, "report-expert-email")
        link = next(word for word in text.split() if "/signin?token=" in word)
        query = parse_qs(urlparse(link).query)
        reader = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=cycle, expires_at=LATER))
        landed = await reader.client.get(f"/signin?token={query['token'][0]}&next={query['next'][0]}")
        assert landed.status_code == 303 and landed.headers["location"] == f"/cycles/{cycle}/report"
        api = await reader.client.get(f"/api/cycles/{cycle}", headers={"Authorization": f"Bearer {query['token'][0]}"})
        assert api.status_code == 401, "an email's sign-in link is not an API token"

        page = (await reader.client.get(f"/cycles/{cycle}/report")).text
        summary = (await reader.client.get(f"/cycles/{cycle}/summary")).text
        downloaded = await reader.client.get(f"/cycles/{cycle}/report.pdf")
        assert downloaded.headers["content-type"] == "application/pdf"
        pdf = pdf_text(downloaded.content, tmp_path, "report-expert")
        leadership = MODEL.themes[0]
        for where, content in (("page", page), ("summary", summary), ("PDF", pdf), ("emailed PDF", emailed_pdf)):
            for words in ("Governors hear a termly careers report", "Map careers learning into every subject"):
                assert words in content, f"{where} lacks {words!r}"
            assert leadership.title in content, f"{where} lacks the theme {leadership.title}"
        # Leadership: the school gave itself 2 (its lower median), the review agreed 2 (3 for one indicator).
        row = page.split(f'data-theme="{leadership.id}"')[1].split("</tr>")[0]
        assert "2, developing" in row and "<svg" in page
        assert "Self-evaluation" in pdf and "Agreed at review" in pdf and "Appoint subject careers champions" in pdf
        assert f"{leadership.title} 2, developing 2, developing" in pdf, "the theme's levels, read back from the PDF"
        assert "Careers is strong here" in summary and "level 2, developing" in summary

        # From the report to the action plan: one recommendation accepted, read back; untouched themes named.
        await clock.on(date(2027, 3, 8), time(10))
        plan_path = f"/cycles/{cycle}/work/action-plan"
        editor = (await school.client.get(f"{plan_path}?from=recommendation-1")).text
        assert 'value="Track destinations for three years"' in editor.split('id="action-1"')[0]
        assert "Themes the plan leaves untouched so far" in editor
        fields = {
            "rows": "5",
            "suggested-0": "recommendation-1",
            "keep-0": "yes",
            "title-0": "Track destinations for three years, with the local college",
            "indicators-0": MODEL.themes[4].indicators[0].id,
            "owner-0": "careers leader",
            **factories.date_input("due-0", date(2027, 6, 30)),
            "measure-0": "Destinations known for nine in ten leavers",
            "suggested-1": "priority-0",
            "title-1": "Map careers learning into every subject",
            "action": "submit",
        }
        agreed = await school.post(plan_path, plan_path, fields)
        assert agreed.status_code == 303
        plan = (await school.client.get(agreed.headers["location"])).text
        assert "Track destinations for three years, with the local college" in plan
        assert "Map careers learning" not in plan.split("<table")[1], "a dropped suggestion is not in the plan"
        assert "Themes this plan leaves untouched" in plan and leadership.title in plan.split("leaves untouched:")[1]

        # Re-evaluation: evidence carried forward; a moved level must say what changed; progress shows it all.
        await clock.on(date(2027, 4, 19), time(10))
        re_path = f"/cycles/{cycle}/re-evaluation"
        leading = MODEL.themes[0]  # the theme of the first indicator
        theme_path = f"{re_path}/themes/{leading.id}"
        re_form = (await school.client.get(theme_path)).text
        assert f"Evidence for {indicator}: minutes, survey data" in re_form
        for theme in MODEL.themes:  # theme by theme, each saved as it goes
            ids = [i.id for i in theme.indicators]
            levels = {f"level-{i}": "3" if i == indicator else "2" for i in ids}
            evidence = {f"evidence-{i}": f"Evidence again for {i}" for i in ids}
            path = f"{re_path}/themes/{theme.id}"
            if theme is leading:
                asked = await school.post(path, path, levels | evidence | {"action": "continue"})
                assert asked.status_code == 422 and "moved from 1 to 3: say what changed" in asked.text
                levels |= {f"what_changed-{indicator}": "A strategy agreed with governors"}
            assert (await school.post(path, path, levels | evidence | {"action": "continue"})).status_code == 303
        done = await school.post(re_path, f"{re_path}/check", {"contributors": "careers leader"})
        assert done.status_code == 303
        progress = (await school.client.get(f"/cycles/{cycle}/progress")).text
        assert "1 indicators rose" in progress.replace("1 indicator rose", "1 indicators rose")
        moved = progress.split('id="moved"')[1].split("</ul>")[0]
        assert "1 to 3 (rise)" in moved and "no action targeted it" in moved
        assert "Re-evaluation" in (await school.client.get(f"/cycles/{cycle}/report")).text
        readback = (await school.client.get(f"/cycles/{cycle}/submissions/re-evaluation")).text
        assert "A strategy agreed with governors" in readback


async def test_a_peer_group_member_receives_its_summary_of_findings(
    env: WorkflowEnvironment, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    engine = Engine(env, pool)
    app = app_for(env, pool)
    members = group_of(3, first_urn=320000)
    member = members[0].cycle_id
    async with running_worker(engine.client, pool, engine.task_queue):
        await launch_cohort(engine.client, members, engine.task_queue)
        clock = CohortTime(env, START)
        await clock.on(START, time(10))
        for spec in members:
            await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 11), time(10))
        for spec in members:
            await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation(level=3))
        facilitator = Person(app, pool, Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER))
        await facilitator.sign_in()
        group = "/groups/test-2027/g1"

        async def ready() -> bool:
            return (await facilitator.client.get(group)).text.count("Accepted 11 January 2027") == 3

        await eventually(ready, "every member ready")
        assert (
            await facilitator.post(
                f"{group}/schedule", group, {**factories.date_input("on", date(2027, 1, 13)), "start": "09:30"}
            )
        ).status_code
        await clock.on(date(2027, 1, 13), time(14))
        form_path = f"{group}/members/{member}/findings"
        form = (await facilitator.client.get(form_path)).text
        assert "Evidence for" in form, "the facilitator records findings against the member's evidence"
        findings = {
            "cycle_id": member,
            "strengths": "Peer mentoring between year groups",
            "development_priorities": "Bring parents into careers events",
            "recommendations": "Run a parents' careers evening",
        }
        assert (await facilitator.post(f"{group}/findings", form_path, findings)).status_code == 303
        await clock.on(date(2027, 2, 1), time(10))  # the member's review stage: its cycle records the findings
        readable = await facilitator.client.get(f"/cycles/{member}/submissions/review")
        assert readable.status_code == 200 and "Peer mentoring between year groups" in readable.text

        async def report_open() -> bool:
            return (await engine.view(member)).stage is Stage.REPORT

        await clock.on(date(2027, 2, 22), time(10))
        await eventually(report_open, "the member's report stage open")
        form_path = f"/cycles/{member}/work/report"
        started = (await facilitator.client.get(form_path)).text
        assert "Peer mentoring between year groups" in started
        summary_fields = {
            "body": "The trio met for an hour on each school.",
            "summary_for_staff": "Our careers work is well liked; parents are the next step.",
            "strengths": "Peer mentoring between year groups",
            "development_priorities": "Bring parents into careers events",
            "recommendations": "Run a parents' careers evening",
        }
        preview = await facilitator.post(form_path, form_path, summary_fields | {"action": "preview"})
        assert preview.status_code == 200 and "Summary of findings" in preview.text
        published = await facilitator.client.post(
            form_path, data={"csrf": await facilitator.csrf(form_path), "action": "publish"}
        )
        assert published.status_code == 303

        school = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=member, expires_at=LATER))
        await school.sign_in()
        page = (await school.client.get(f"/cycles/{member}/report")).text
        summary = (await school.client.get(f"/cycles/{member}/summary")).text
        pdf = pdf_text((await school.client.get(f"/cycles/{member}/report.pdf")).content, tmp_path, "report-peer")
        for where, content in (("page", page), ("summary", summary), ("PDF", pdf)):
            for words in ("Peer mentoring between year groups", "Bring parents into careers events"):
                assert words in content, f"{where} lacks {words!r}"
            assert MODEL.themes[0].title in content
        assert "Summary of findings" in page and "Summary of findings" in pdf and "Discussed with peers" in pdf
        assert "level 3, established" in summary
        assert f"{MODEL.themes[0].title} 3, established not discussed" in pdf, "the theme's levels in the PDF"
        cycle_page = (await school.client.get(f"/cycles/{member}")).text
        assert cycle_page.index('id="outcome"') < cycle_page.index("Timeline"), "the school's page leads with it"
