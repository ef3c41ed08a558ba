"""A roster launched from the web runs as a workflow: the request returns at once with a page that shows the
launch's progress; the workers start the cohort's groups, then its cycles a batch at a time; uploading the same
roster again attaches to the same launch and starts nothing twice."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.roster import parse_roster, roster_template
from domain.roster_launch import RosterLaunch, launch_id_for, launch_workflow_id
from operations.cohorts import launch_in_background, launch_progress
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.read_models import list_cycle_status
from tests.engine import Engine, running_worker, save_history
from tests.eventually import eventually
from web.app import create_app
from web.body_limit import LARGER_BODIES, MAX_BODY_BYTES

START = date(2027, 1, 4)
DAY = {"day": "4", "month": "1", "year": "2027"}
ADMIN = Principal(role=Role.ADMIN, expires_at=datetime.now(UTC) + timedelta(days=1))


@pytest.fixture
async def engine(env: WorkflowEnvironment, pool: asyncpg.Pool) -> AsyncIterator[Engine]:
    engine = Engine(env, pool)
    async with running_worker(engine.client, pool, engine.task_queue):
        yield engine


async def test_a_launch_runs_in_batches_and_reports_its_progress(engine: Engine, pool: asyncpg.Pool) -> None:
    rows = parse_roster(roster_template()).rows
    launch = RosterLaunch(
        launch_id=launch_id_for("batches-2027", START, None, rows),
        cohort="batches-2027",
        start_date=START,
        time_scale=None,
        rows=rows,
        launched_by="cec",
    )
    await launch_in_background(engine.client, pool, launch, engine.task_queue, batch_size=3)
    handle = engine.client.get_workflow_handle(launch_workflow_id(launch.launch_id))
    done = await handle.result()
    await save_history(handle, "roster_launch")
    assert done["done"] and len(done["started"]) == len(rows) == 4 and not done["failed"]
    progress = await launch_progress(engine.client, launch.launch_id)
    assert progress is not None and progress.handled == 4 and progress.groups_done
    history = await handle.fetch_history()
    batches = [
        e
        for e in history.events
        if e.activity_task_scheduled_event_attributes.activity_type.name == "start_roster_cycles"
    ]
    assert len(batches) == 2  # 4 rows, 3 at a time

    async def all_recorded() -> bool:
        urns = sorted(r.urn for r in await list_cycle_status(pool, cohort="batches-2027"))
        return urns == sorted(r.urn for r in rows)

    await eventually(all_recorded, "every row's cycle started and recorded")
    assert await launch_progress(engine.client, "nothing-2027-000000000000") is None


async def cycles_in(pool: asyncpg.Pool, cohort: str, count: int) -> bool:
    return len(await list_cycle_status(pool, cohort=cohort)) == count


async def test_the_web_launch_returns_at_once_and_shows_the_progress(
    engine: Engine, pool: asyncpg.Pool, env: WorkflowEnvironment
) -> None:
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    app.state.settings = app.state.settings.model_copy(update={"task_queue": engine.task_queue})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as web:
        await web.get(f"/signin?token={await issue_token(pool, ADMIN)}")
        form = await web.get("/admin/roster")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None

        async def upload() -> httpx.Response:
            return await web.post(
                "/admin/roster",
                data={
                    "csrf": csrf[1],
                    "cohort": "web-2027",
                    "start-day": "4",
                    "start-month": "1",
                    "start-year": "2027",
                },
                files={"roster": ("roster.csv", roster_template().encode(), "text/csv")},
            )

        launched = await upload()
        assert launched.status_code == 303
        page_url = launched.headers["location"]
        assert re.fullmatch(r"/admin/launches/web-2027-[0-9a-f]{12}", page_url)
        page = await web.get(page_url)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert 'id="launch-progress"' in page.text

        async def finished() -> bool:
            shown = await web.get(page_url)
            return 'id="launched"' in shown.text and "data-cis-refresh" not in shown.text

        await eventually(finished, "the launch page saying the cohort is launched")
        final = (await web.get(page_url)).text
        assert "4 cycles started, 0 already existed, 0 failed; 1 peer groups started." in final
        # The same roster again is the same launch: nothing new starts.
        again = await upload()
        assert again.headers["location"] == page_url
        await eventually(lambda: cycles_in(pool, "web-2027", 4), "the four cycles recorded")
        assert (await web.get("/admin/launches/no-such-launch-000000000000")).status_code == 404
        # Only CEC sees launches.
        web.cookies.clear()
        facilitator = Principal(role=Role.FACILITATOR, cohort="web-2027", expires_at=ADMIN.expires_at)
        await web.get(f"/signin?token={await issue_token(pool, facilitator)}")
        assert (await web.get(page_url)).status_code == 404


async def test_a_national_roster_is_not_refused_for_its_size(pool: asyncpg.Pool) -> None:
    """Every school in England is about 24,000 rows; the other forms keep the usual limit."""
    header, example = roster_template().splitlines()[:2]
    national = "\n".join([header, *([example] * 24_000)]).encode()
    assert MAX_BODY_BYTES < len(national) < LARGER_BODIES["/admin/roster"]
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool = pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as web:
        await web.get(f"/signin?token={await issue_token(pool, ADMIN)}")
        big = {"roster": ("roster.csv", national, "text/csv")}
        # Past the size check to the form's own checks (no CSRF token here: 403, not 413).
        assert (await web.post("/admin/roster", files=big)).status_code == 403
        too_big = await web.post("/cycles/x/work/onboarding", content=b"x" * (MAX_BODY_BYTES + 1))
        assert too_big.status_code == 413
