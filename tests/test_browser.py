"""Every role's main journey in a real browser (Debian's chromium, driven by Playwright) on a 375-pixel phone.
Each page passes axe-core with no serious or critical WCAG 2.2 AA violation and has no horizontal scroll; a
screenshot of each goes to tests/artifacts/ (not committed).

- The careers leader opens their sign-in link, follows the task list to the self-evaluation and completes it theme
  by theme with the keyboard alone, corrects a missing evidence note through the error summary, checks the
  answers and submits.
- The facilitator finds the peer group from the dashboard, schedules its meeting and records a member's findings.
- CEC launches a cohort from a roster (after a refused one) and extends a stage's deadline.
- The outcome: the review lead records findings against the self-evaluation, previews and publishes the report;
  the careers leader signs in from the report email's own link, reads it, downloads its PDF, plans from it,
  checks the plan's answers and submits it.

One engine, one web server and one browser for the journeys: starting them costs more than the journeys."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Browser, Page
from temporalio.testing import WorkflowEnvironment

from activities.mail_delivery import SmtpSettings
from domain.access import Principal, Role
from domain.roster import roster_template
from operations.cohorts import launch_cohort
from operations.spec_builder import SpecContext
from settings import Settings
from stack.addresses import StackAddresses
from stack.embedded import free_port
from stack.web_server import serving_web
from store.access_tokens import issue_token
from tests import factories
from tests.browser import ARTIFACTS, AXE, CHROMIUM, checked, chromium, phone_page, tab_to
from tests.cohort_time import CohortTime
from tests.engine import LEAD, MAIL, Engine
from tests.eventually import eventually
from tests.smtp_server import SmtpServer, kinds
from tests.test_api_access import X, Y
from tests.test_peer_groups import group_of
from worker import build_worker

LATER = datetime.now(UTC) + timedelta(days=30)
MODEL = factories.SCHOOLS_MODEL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install -y chromium; .ci/run installs it)"
    ),
]


async def sign_in(pool: asyncpg.Pool, base: str, page: Page, principal: Principal) -> None:
    await page.goto(f"{base}/signin?token={await issue_token(pool, principal)}")


async def test_every_role_completes_its_journey_accessibly_on_a_phone(
    env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    assert AXE.is_file(), "node_modules/axe-core is missing: run `make .venv/.installed` (npm ci)"
    engine = Engine(env, pool)
    clock = CohortTime(env, X.start_date)
    stack = StackAddresses(temporal_address=env.client.service_client.config.target_host, database_url=database_url)
    settings = Settings(task_queue=engine.task_queue, search_attributes=False, data_dir=tmp_path)
    group = group_of(3, first_urn=320000)
    reported = factories.cycle_spec(urn="100095", deliver_mail=True)  # its report email is read in the browser
    smtp = SmtpServer()
    smtp.start()
    port = free_port()
    mail = MAIL.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})  # links in mail reach this web app
    outbox = SmtpSettings(host="127.0.0.1", port=smtp.port, timeout_seconds=5)
    try:
        async with (
            build_worker(engine.client, pool, engine.task_queue, smtp=outbox, mail=mail, specs=SpecContext(settings)),
            serving_web(stack, "browser-secret", "127.0.0.1", port, settings=settings) as base,
            chromium() as browser,
        ):
            for spec in (X, Y, reported):
                await engine.start(spec)
            await launch_cohort(engine.client, group, engine.task_queue)
            await clock.on(X.start_date, time(10))
            for spec in (X, reported, *group):
                await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
            await clock.on(date(2027, 1, 11), time(10))  # self-evaluation open; Y's onboarding overdue
            for spec in (reported, *group):
                await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())

            await careers_leader_journey(pool, base, await phone_page(browser))
            await facilitator_journey(pool, base, await phone_page(browser), clock, group[0].name)
            await cec_journey(pool, base, await phone_page(browser), tmp_path)
            await outcome_journey(engine, pool, base, browser, clock, smtp, reported.cycle_id, tmp_path)
    finally:
        smtp.stop()


async def careers_leader_journey(pool: asyncpg.Pool, base: str, page: Page) -> None:
    await sign_in(pool, base, page, Principal(role=Role.INSTITUTION, cycle_id=X.cycle_id, expires_at=LATER))
    assert page.url.endswith(f"/cycles/{X.cycle_id}")
    assert "Complete your self-evaluation" in await page.locator("#next-task").inner_text()
    assert "Monday 1 February 2027" in await page.locator("#timeline").inner_text(), "dates in full"
    assert "Self-evaluation" in await page.locator("#current-stage").inner_text()
    await checked(page, "leader-1-tasks")
    await page.click("#next-task a")
    assert "0 of 6 themes done" in await page.locator("#progress").inner_text()
    await checked(page, "leader-2-themes")

    # Keyboard only from here: Tab, the arrow keys, Space, Enter and typing.
    await tab_to(page, ".govuk-task-list__link")
    await page.keyboard.press("Enter")
    for number, theme in enumerate(MODEL.themes):
        await page.wait_for_selector(f'form[action$="/themes/{theme.id}"]')
        for indicator in theme.indicators:
            await tab_to(page, f'input[name="level-{indicator.id}"]')
            await page.keyboard.press("ArrowDown")  # level 2, chosen with the arrow key
            await tab_to(page, f'textarea[name="evidence-{indicator.id}"]')
            forgotten = number == 1 and indicator == theme.indicators[-1]
            if not forgotten:
                await page.keyboard.type(f"Minutes and survey data for {indicator.id}")
        await tab_to(page, 'button[value="continue"]')
        await page.keyboard.press("Enter")
        if number == 1:
            # The forgotten note: the error summary takes the focus and its link leads to the field.
            await page.wait_for_selector(".govuk-error-summary")
            await checked(page, "leader-3-error-summary")
            missing = theme.indicators[-1]
            assert "Enter the evidence that shows your level" in await page.locator(".govuk-error-summary").inner_text()
            await tab_to(page, ".govuk-error-summary__list a")
            await page.keyboard.press("Enter")
            assert await page.evaluate("() => document.activeElement.name") == f"evidence-{missing.id}"
            await page.keyboard.type("Destinations data, three years")
            await tab_to(page, 'button[value="continue"]')
            await page.keyboard.press("Enter")
        if number == 0:
            await page.wait_for_selector(f'form[action$="/themes/{MODEL.themes[1].id}"]')
            await checked(page, "leader-4-theme")
    await page.wait_for_selector("#contributors")
    await checked(page, "leader-5-check-answers")
    await tab_to(page, "#contributors")
    await page.keyboard.type("careers leader, headteacher, governor")
    await tab_to(page, "form button")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#confirmation")
    assert "Self-evaluation submitted" in await page.locator("#confirmation").inner_text()
    assert "Review opens on" in await page.locator("main").inner_text(), "what happens next, and when"
    await checked(page, "leader-6-confirmation")


async def facilitator_journey(pool: asyncpg.Pool, base: str, page: Page, clock: CohortTime, member: str) -> None:
    await sign_in(pool, base, page, Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER))
    assert page.url.endswith("/dashboard")
    await checked(page, "facilitator-1-dashboard")
    await page.click("#schools >> text=g1")
    for _ in range(50):  # each member's cycle tells the group it is ready: wait for the last one
        if await page.locator("text=Not ready").count() == 0:
            break
        await page.wait_for_timeout(100)
        await page.reload()
    await checked(page, "facilitator-2-group")
    await page.click("button:has-text('Schedule the meeting')")  # with no day given
    await page.wait_for_selector(".govuk-error-summary")
    assert "Enter the day of the meeting" in await page.locator(".govuk-error-summary").inner_text()
    await checked(page, "facilitator-3-schedule-refused")
    for box, value in factories.date_input("on", date(2027, 1, 13)).items():
        await page.fill(f"#{box}", value)
    await page.click("button:has-text('Schedule the meeting')")
    await page.wait_for_selector("#confirmation")
    assert "Meeting scheduled" in await page.locator("#confirmation").inner_text()
    await checked(page, "facilitator-4-scheduled")
    await clock.on(date(2027, 1, 13), time(14))
    await page.reload()
    await page.click(f"text=Record {member}'s findings")
    await checked(page, "facilitator-5-findings")
    await page.fill("#strengths", "Governors champion careers")
    await page.fill("#priority-0", "Subject links")
    await page.locator("#priority-row-0 summary").click()
    await page.check("#indicators-priority-0")  # the model's first indicator, picked by name
    await page.fill("#recommendations", "Subject champions")
    await page.click("button:has-text('Record the findings')")
    await page.wait_for_selector("#confirmation")
    assert "Findings recorded" in await page.locator("#confirmation").inner_text()
    await checked(page, "facilitator-6-findings-recorded")


async def cec_journey(pool: asyncpg.Pool, base: str, page: Page, tmp_path: Path) -> None:
    await sign_in(pool, base, page, Principal(role=Role.ADMIN, expires_at=LATER))
    assert "test-2027" in await page.locator("#cohorts").inner_text()
    await checked(page, "cec-1-cohorts")
    await page.click("text=Launch a cohort from a roster")
    bad = tmp_path / "bad.csv"
    bad.write_text(roster_template() + "12AB,Nowhere,secondary,London,Hub,,expert,,,x@y.example\n")
    await page.fill("#cohort", "browser-2027")
    await page.set_input_files("#roster", str(bad))
    await page.click("button:has-text('Check and launch')")
    assert "line 6 (URN 12AB): urn" in await page.locator("#problems").inner_text()
    assert await page.locator(".govuk-error-summary a[href='#roster']").count() == 1
    await checked(page, "cec-2-roster-refused")
    good = tmp_path / "roster.csv"
    good.write_text(roster_template())
    await page.set_input_files("#roster", str(good))
    await page.click("button:has-text('Check and launch')")
    assert "4 cycles started" in await page.locator("#launched").inner_text()
    await checked(page, "cec-3-launched")

    await page.goto(f"{base}/cycles/{Y.cycle_id}")
    await checked(page, "cec-4-cycle")
    await page.click("text=Extend a deadline")
    for box, value in factories.date_input("to", date(2027, 1, 1)).items():
        await page.fill(f"#{box}", value)
    await page.fill("#reason", "The careers leader was on leave")
    await page.click("button:has-text('Extend the deadline')")
    await page.wait_for_selector(".govuk-error-summary")
    await checked(page, "cec-5-extend-refused")
    await page.click(".govuk-error-summary a[href='#to-day']")
    assert await page.evaluate("() => document.activeElement.id") == "to-day"
    await page.fill("#to-day", "25")
    await page.click("button:has-text('Extend the deadline')")
    await page.wait_for_selector("#confirmation")
    assert "Deadline extended" in await page.locator("#confirmation").inner_text()
    await checked(page, "cec-6-extended")


async def outcome_journey(
    engine: Engine,
    pool: asyncpg.Pool,
    base: str,
    browser: Browser,
    clock: CohortTime,
    smtp: SmtpServer,
    cycle: str,
    tmp_path: Path,
) -> None:
    leader_email = "leader@school.example"  # named at onboarding (tests/factories.py)
    await clock.on(date(2027, 2, 1), time(10))
    await engine.schedule_review_day(cycle, date(2027, 2, 1), time(11))
    await clock.on(date(2027, 2, 1), time(12))

    # The review lead: reads the self-evaluation, records findings against it.
    lead = await phone_page(browser)
    await sign_in(pool, base, lead, Principal(role=Role.REVIEWER, cycle_id=cycle, email=LEAD, expires_at=LATER))
    await lead.goto(f"{base}/cycles/{cycle}/submissions/self-evaluation")
    first = MODEL.indicator_ids()[0]
    assert f"Evidence for {first}" in await lead.locator(f"#rating-{first}".replace(".", "\\.")).inner_text()
    await lead.goto(f"{base}/cycles/{cycle}/work/review")
    await checked(lead, "outcome-1-findings-form")
    await lead.select_option(f'select[name="agreed-{first}"]', "3")
    await lead.fill(f'textarea[name="rationale-{first}"]', "Governors' minutes seen on the day")
    await lead.fill("#strengths", "Students lead the careers fair")
    await lead.fill("#priority-0", "Map careers learning into every subject")
    curriculum = MODEL.themes[2].indicators[0]  # the priority names the indicator it is about, by name
    await lead.locator("#priority-row-0 summary").click()
    await lead.check(f"#indicators-priority-0-{curriculum.id}".replace(".", "\\."))
    await lead.fill("#recommendations", "Appoint subject careers champions\nTrack destinations for three years")
    await lead.click("text=Record the findings")
    assert "Governors' minutes seen on the day" in await lead.content()
    assert "Review findings recorded" in await lead.locator("#confirmation").inner_text()
    await clock.on(date(2027, 2, 22), time(10))
    await lead.goto(f"{base}/cycles/{cycle}/work/report")
    assert await lead.input_value("#strengths") == "Students lead the careers fair"  # from the findings
    assert await lead.input_value("#priority-0") == "Map careers learning into every subject"
    assert await lead.is_checked(f"#indicators-priority-0-{curriculum.id}".replace(".", "\\."))
    await lead.fill("#body", "A well-led programme with uneven subject links.")
    await lead.fill("#summary_for_staff", "Careers is strong; every subject can now show where it leads.")
    await lead.click("text=Preview the report")
    assert await lead.is_visible("#preview")
    await lead.screenshot(path=str(ARTIFACTS / "outcome-2-report-preview.png"), full_page=True)
    await lead.click("text=Publish the report")
    assert lead.url.endswith(f"/cycles/{cycle}/report")

    # The careers leader: the report email's own sign-in link, the report, its PDF, the plan from it.
    await clock.on(date(2027, 2, 22), time(12))
    await eventually(lambda: any("report_published" in kinds(m) for m in smtp.inbox.to(leader_email)), "mail")
    mail_message = next(m for m in smtp.inbox.to(leader_email) if "report_published" in kinds(m))
    body = mail_message.get_body(preferencelist=("plain",))
    assert body is not None
    signin = next(w for w in body.get_content().split() if "/signin?token=" in w)
    leader = await phone_page(browser)
    await leader.goto(signin)
    assert leader.url.endswith(f"/cycles/{cycle}/report")
    assert "Students lead the careers fair" in await leader.locator("#strengths").inner_text()
    assert curriculum.text in await leader.locator("#priorities").inner_text(), "the priority names its indicator"
    await leader.screenshot(path=str(ARTIFACTS / "outcome-3-report.png"), full_page=True)
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
    for box, value in factories.date_input("due-0", date(2027, 6, 30)).items():
        await leader.fill(f"#{box}", value)
    await leader.fill("#measure-0", "Destinations known for nine in ten leavers")
    pathways = MODEL.themes[4].indicators[0]
    await leader.locator("#action-0 summary").click()
    await leader.check(f"#indicators-0-{pathways.id}".replace(".", "\\."))
    await checked(leader, "outcome-4-action-plan-from-report")
    await leader.click("button:has-text('Continue')")
    assert leader.url.endswith(f"/cycles/{cycle}/work/action-plan/check")
    assert "Track destinations for three years" in await leader.locator("#checked-actions").inner_text()
    await checked(leader, "outcome-5-action-plan-check-answers")
    await leader.click("text=Submit the action plan")
    assert leader.url.endswith(f"/cycles/{cycle}/submissions/action-plan")
    assert "Action plan submitted" in await leader.locator("#confirmation").inner_text()
    assert "Track destinations for three years" in await leader.locator("table.actions").inner_text()
