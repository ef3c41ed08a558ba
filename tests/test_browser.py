"""In a real headless Chromium (Debian's, driven by Playwright): a careers leader opens their link, saves a
draft self-evaluation, comes back, sees a field error for a missing evidence note and submits; a facilitator
sees the institution move stage on the dashboard and filters to overdue; an admin uploads a roster.
Screenshots of each page go to tests/artifacts/ (not committed)."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Browser, Page, async_playwright
from temporalio.testing import WorkflowEnvironment

from activities.mail_delivery import SmtpSettings
from domain.access import Principal, Role
from domain.roster import roster_template
from settings import Settings
from stack.addresses import StackAddresses
from stack.embedded import free_port
from stack.web_server import serving_web
from store.access_tokens import issue_token
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, MAIL, Engine, running_worker
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, kinds
from tests.test_api_access import X, Y
from worker import build_worker

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
LATER = datetime.now(UTC) + timedelta(days=30)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install -y chromium; .ci/run installs it)"
    ),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        await chromium.close()


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def link(pool: asyncpg.Pool, base: str, principal: Principal) -> str:
    return f"{base}/signin?token={await issue_token(pool, principal)}"


async def test_people_use_the_web_app_in_a_real_browser(
    env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str, browser: Browser, tmp_path: Path
) -> None:
    engine = Engine(env, pool)
    clock = CohortTime(env, X.start_date)
    stack = StackAddresses(temporal_address=env.client.service_client.config.target_host, database_url=database_url)
    settings = Settings(task_queue=engine.task_queue, search_attributes=False, data_dir=tmp_path)
    indicators = factories.SCHOOLS_MODEL.indicator_ids()
    async with (
        running_worker(engine.client, pool, engine.task_queue),
        serving_web(stack, "browser-secret", "127.0.0.1", free_port(), settings=settings) as base,
    ):
        for spec in (X, Y):
            await engine.start(spec)
        await clock.on(X.start_date, time(10))
        await engine.submit(X.cycle_id, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 12), time(10))  # self-evaluation open; Y's onboarding overdue

        leader = await browser.new_page()
        await leader.goto(
            await link(pool, base, Principal(role=Role.INSTITUTION, cycle_id=X.cycle_id, expires_at=LATER))
        )
        assert leader.url.endswith(f"/cycles/{X.cycle_id}")
        await shot(leader, "1-institution-cycle-page")
        await leader.click("text=Fill in the self-evaluation")
        for indicator in indicators[:3]:
            await leader.check(f'input[name="level-{indicator}"][value="2"]')
            await leader.fill(f'textarea[name="evidence-{indicator}"]', f"Minutes and survey data for {indicator}")
        await leader.click("text=Save draft")
        assert await leader.is_visible("text=Draft saved.")
        await shot(leader, "2-self-evaluation-draft-saved")

        # A colleague comes back another day: the draft is there.
        await leader.goto(f"{base}/cycles/{X.cycle_id}")
        await leader.goto(f"{base}/cycles/{X.cycle_id}/self-evaluation")
        assert await leader.is_checked(f'input[name="level-{indicators[0]}"][value="2"]')
        for indicator in indicators[3:]:
            await leader.check(f'input[name="level-{indicator}"][value="3"]')
            if indicator != indicators[5]:
                await leader.fill(f'textarea[name="evidence-{indicator}"]', f"Programme map for {indicator}")
        await leader.click("text=Submit self-evaluation")
        error = leader.locator(f"#error-{indicators[5]}".replace(".", "\\."))
        assert "Add a note of your evidence" in await error.inner_text()
        await shot(leader, "3-self-evaluation-field-error")
        await leader.fill(f'textarea[name="evidence-{indicators[5]}"]', "Destinations data, three years")
        await leader.click("text=Submit self-evaluation")
        assert leader.url.endswith(f"/cycles/{X.cycle_id}")

        facilitator = await browser.new_page()
        await facilitator.goto(
            await link(pool, base, Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER))
        )
        row = facilitator.locator(f'tr[data-cycle="{X.cycle_id}"]')
        assert "Self evaluation" in await row.inner_text()
        await clock.on(date(2027, 2, 1), time(10))  # the review stage opens on its day
        await facilitator.reload()
        assert "Review" in await facilitator.locator(f'tr[data-cycle="{X.cycle_id}"]').inner_text()
        await shot(facilitator, "4-dashboard")
        await facilitator.check('input[name="overdue"]')
        await facilitator.click("text=Filter")
        assert await facilitator.locator(f'tr[data-cycle="{Y.cycle_id}"]').count() == 1
        assert await facilitator.locator(f'tr[data-cycle="{X.cycle_id}"]').count() == 0
        await shot(facilitator, "5-dashboard-overdue")

        admin = await browser.new_page()
        await admin.goto(await link(pool, base, Principal(role=Role.ADMIN, expires_at=LATER)))
        await admin.click("text=Launch a cohort from a roster")
        bad = tmp_path / "bad.csv"
        bad.write_text(roster_template() + "12AB,Nowhere,primary,London,Hub,,expert,,,x@y.example\n")
        await admin.fill('input[name="cohort"]', "browser-2027")
        await admin.set_input_files('input[name="roster"]', str(bad))
        await admin.click("text=Check and launch")
        problems = await admin.locator("#problems").inner_text()
        assert "line 6 (URN 12AB): urn" in problems
        await shot(admin, "6-roster-refused")
        good = tmp_path / "roster.csv"
        good.write_text(roster_template())
        await admin.fill('input[name="cohort"]', "browser-2027")
        await admin.set_input_files('input[name="roster"]', str(good))
        await admin.click("text=Check and launch")
        assert "4 cycles started" in await admin.locator("#launched").inner_text()
        await shot(admin, "7-roster-launched")


async def test_the_lead_publishes_and_the_careers_leader_plans_from_the_report(
    env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str, browser: Browser, tmp_path: Path
) -> None:
    engine = Engine(env, pool)
    spec = factories.cycle_spec(urn="100095", deliver_mail=True)
    cycle = spec.cycle_id
    clock = CohortTime(env, spec.start_date)
    stack = StackAddresses(temporal_address=env.client.service_client.config.target_host, database_url=database_url)
    settings = Settings(task_queue=engine.task_queue, search_attributes=False, data_dir=tmp_path)
    smtp = SmtpServer()
    smtp.start()
    port = free_port()
    mail = MAIL.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})  # links in mail reach this web app
    outbox = SmtpSettings(host="127.0.0.1", port=smtp.port, timeout_seconds=5)
    leader_email = "leader@school.example"  # named at onboarding (tests/factories.py)
    try:
        async with (
            build_worker(engine.client, pool, engine.task_queue, smtp=outbox, mail=mail),
            serving_web(stack, "browser-secret", "127.0.0.1", port, settings=settings) as base,
        ):
            await engine.start(spec)
            await clock.on(spec.start_date, time(10))
            await engine.submit(cycle, "onboarding", factories.onboarding())
            await clock.on(date(2027, 1, 11), time(10))
            await engine.submit(cycle, "self-evaluation", factories.evaluation())
            await clock.on(date(2027, 2, 1), time(10))
            await engine.schedule_review_day(cycle, date(2027, 2, 1), time(11))
            await clock.on(date(2027, 2, 1), time(12))

            # The review lead: reads the self-evaluation, records findings against it.
            lead = await browser.new_page()
            await lead.goto(
                await link(pool, base, Principal(role=Role.REVIEWER, cycle_id=cycle, email=LEAD, expires_at=LATER))
            )
            await lead.goto(f"{base}/cycles/{cycle}/submissions/self-evaluation")
            first = factories.SCHOOLS_MODEL.indicator_ids()[0]
            assert f"Evidence for {first}" in await lead.locator(f"#rating-{first}".replace(".", "\\.")).inner_text()
            await lead.goto(f"{base}/cycles/{cycle}/work/review")
            await lead.select_option(f'select[name="agreed-{first}"]', "3")
            await lead.fill(f'textarea[name="rationale-{first}"]', "Governors' minutes seen on the day")
            await lead.fill("#strengths", "Students lead the careers fair")
            await lead.fill("#development_priorities", "Map careers learning into every subject")
            await lead.fill("#recommendations", "Appoint subject careers champions\nTrack destinations for three years")
            await lead.click("text=Record the findings")
            assert "Governors' minutes seen on the day" in await lead.content()
            await clock.on(date(2027, 2, 22), time(10))
            await lead.goto(f"{base}/cycles/{cycle}/work/report")
            assert await lead.input_value("#strengths") == "Students lead the careers fair"  # from the findings
            await lead.fill("#body", "A well-led programme with uneven subject links.")
            await lead.fill("#summary_for_staff", "Careers is strong; every subject can now show where it leads.")
            await lead.click("text=Preview the report")
            assert await lead.is_visible("#preview")
            await shot(lead, "8-report-preview")
            await lead.click("text=Publish the report")
            assert lead.url.endswith(f"/cycles/{cycle}/report")

            # The careers leader: the report email's own sign-in link, the report, its PDF, the plan from it.
            await clock.on(date(2027, 2, 22), time(12))
            await eventually(lambda: any("report_published" in kinds(m) for m in smtp.inbox.to(leader_email)), "mail")
            mail_message = next(m for m in smtp.inbox.to(leader_email) if "report_published" in kinds(m))
            body = mail_message.get_body(preferencelist=("plain",))
            assert body is not None
            signin = next(w for w in body.get_content().split() if "/signin?token=" in w)
            leader = await browser.new_page()
            await leader.goto(signin)
            assert leader.url.endswith(f"/cycles/{cycle}/report")
            assert "Students lead the careers fair" in await leader.locator("#strengths").inner_text()
            await shot(leader, "9-report")
            async with leader.expect_download() as download:
                await leader.click("text=Download the report (PDF)")
            saved = tmp_path / "report.pdf"
            await (await download.value).save_as(saved)
            assert saved.read_bytes().startswith(b"%PDF")
            await clock.on(date(2027, 3, 8), time(10))
            await leader.reload()
            await leader.click("text=Plan an action for this: Track destinations for three years")
            assert await leader.input_value("#title-0") == "Track destinations for three years"
            await leader.fill("#owner-0", "careers leader")
            await leader.fill("#due-0", "2027-06-30")
            await leader.fill("#measure-0", "Destinations known for nine in ten leavers")
            pathways = factories.SCHOOLS_MODEL.themes[4].indicators[0]
            await leader.locator("#action-0 summary").click()
            await leader.check(f"#indicators-0-{pathways.id}".replace(".", "\\."))
            await shot(leader, "10-action-plan-from-report")
            await leader.click("text=Submit the action plan")
            assert leader.url.endswith(f"/cycles/{cycle}/submissions/action-plan")
            assert "Track destinations for three years" in await leader.locator("table.actions").inner_text()
    finally:
        smtp.stop()
