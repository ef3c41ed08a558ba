"""The server-rendered pages: sign-in from a link, the dashboard with its filters, counts and CSV, a page per
cycle, and who may see which (in and out of scope, signed in or not, revoked)."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import time

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.london_time import at_london
from domain.requests import WithdrawRequest
from operations import cycles
from stack.addresses import StackAddresses
from store.access_tokens import issue_token, revoke_token
from tests import factories
from tests.engine import Engine, running_worker
from tests.test_api_access import PRINCIPALS, X, Y, Z
from web.app import create_app


@pytest.fixture
async def web(env: WorkflowEnvironment, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    engine = Engine(env, pool)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    async with running_worker(engine.client, pool, engine.task_queue):
        for spec in (X, Y, Z):
            await engine.start(spec)
        await engine.advance_to(X.cycle_id, at_london(X.start_date, time(10)))
        await engine.submit(X.cycle_id, "onboarding", factories.onboarding())
        await cycles.withdraw(engine.client, Z.cycle_id, WithdrawRequest(reason="closing", actor="cec"))
        # Y never onboards: a day past its due date it is overdue.
        await engine.advance_to(X.cycle_id, at_london(factories.CALENDAR.add_school_days(X.start_date, 6), time(10)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as client:
            yield client


async def sign_in(web: httpx.AsyncClient, pool: asyncpg.Pool, who: str) -> str:
    token = await issue_token(pool, PRINCIPALS[who])
    web.cookies.clear()
    response = await web.get(f"/signin?token={token}")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("cis_session=") and "httponly" in cookie and "samesite=lax" in cookie
    assert token not in response.headers["set-cookie"], "the token is not in the cookie in clear"
    return token


async def test_a_facilitator_signs_in_filters_sorts_and_exports(web: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await sign_in(web, pool, "facilitator of test-2027")
    page = await web.get("/dashboard")
    assert page.status_code == 200
    assert X.name in page.text and Y.name in page.text and Z.name not in page.text
    assert 'data-stage="self_evaluation"><strong>1</strong>' in page.text
    assert 'data-stage="onboarding"><strong>1</strong>' in page.text
    overdue = await web.get("/dashboard?overdue=true")
    assert Y.name in overdue.text and X.name not in overdue.text
    export = await web.get("/dashboard.csv?overdue=true")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["cycle_id"] for r in rows] == [Y.cycle_id] and int(rows[0]["days_overdue"]) >= 1
    assert X.urn in page.text and "test-2027" in page.text, "URN and cohort columns"
    northern = await web.get("/dashboard?hub=north")  # X's hub is "Hub North": part of the name is enough
    assert X.name in northern.text and Y.name not in northern.text
    late = await web.get("/dashboard?group=overdue")
    assert Y.name in late.text and X.name not in late.text
    by_name = await web.get("/dashboard?sort=institution&descending=true")
    assert by_name.text.index(Y.name) < by_name.text.index(X.name)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_pages_in_and_out_of_scope(web: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    expected = {  # (dashboard, page of X, page of Z) — written out, not derived
        "admin": (200, 200, 200),
        "facilitator of test-2027": (200, 200, 404),
        "facilitator of other-2027": (200, 404, 200),
        "reviewer of X": (303, 200, 404),
        "institution X": (303, 200, 404),
        "institution Z": (303, 404, 200),
    }
    seen = {}
    for who in expected:
        await sign_in(web, pool, who)
        statuses = []
        for path in ("/dashboard", f"/cycles/{X.cycle_id}", f"/cycles/{Z.cycle_id}"):
            statuses.append((await web.get(path)).status_code)
        seen[who] = tuple(statuses)
        # The timeline download follows the page: the same scope, the same answer.
        for cycle_id, page_status in ((X.cycle_id, statuses[1]), (Z.cycle_id, statuses[2])):
            assert (await web.get(f"/cycles/{cycle_id}/timeline.ics")).status_code == page_status, (who, cycle_id)
    assert seen == expected


async def test_an_institution_sees_its_own_page_and_a_revoked_link_stops_working(
    web: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    assert (await web.get("/dashboard")).status_code == 401  # not signed in
    token = await sign_in(web, pool, "institution X")
    page = await web.get(f"/cycles/{X.cycle_id}")
    assert page.status_code == 200
    assert "Onboarding" in page.text and "Onboarding completed" in page.text and "timeline.ics" in page.text
    assert (await web.get(f"/cycles/{X.cycle_id}/timeline.ics")).headers["content-type"].startswith("text/calendar")
    await revoke_token(pool, token)
    assert (await web.get(f"/cycles/{X.cycle_id}")).status_code == 401
    assert (await web.get(f"/signin?token={token}")).status_code == 401
    assert (await web.get("/signin?token=made-up")).status_code == 401


async def test_forms_without_a_valid_csrf_token_are_refused(web: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await sign_in(web, pool, "institution X")
    theme = f"/cycles/{X.cycle_id}/self-evaluation/themes/{factories.SCHOOLS_MODEL.themes[0].id}"
    form = await web.get(theme)
    assert form.status_code == 200 and 'name="csrf"' in form.text
    token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    fields = {"action": "later", "level-" + factories.SCHOOLS_MODEL.indicator_ids()[0]: "2"}
    for bad in ({}, {"csrf": "forged"}):
        refused = await web.post(theme, data=fields | bad)
        assert refused.status_code == 403
    saved = await web.post(theme, data=fields | {"csrf": token})
    assert saved.status_code == 303 and saved.headers["location"].endswith("saved=true")
    # Another session's token is no good either.
    await sign_in(web, pool, "institution X")
    assert (await web.post(theme, data=fields | {"csrf": token})).status_code == 403
    upload = await web.post("/admin/roster", data={"cohort": "x"}, files={"roster": ("r.csv", b"urn\n")})
    assert upload.status_code == 404  # not an admin: as if the page did not exist


async def test_form_pages_in_and_out_of_scope(web: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    pages = [
        f"/cycles/{X.cycle_id}/self-evaluation",
        f"/cycles/{X.cycle_id}/re-evaluation",
        f"/cycles/{X.cycle_id}/work/review",
        f"/cycles/{X.cycle_id}/work/report",
        f"/cycles/{X.cycle_id}/work/action-plan",
        f"/cycles/{X.cycle_id}/work/check-in",
        "/admin/roster",
    ]
    # Written out: 200 allowed, 403 in scope but not theirs to fill in, 404 out of scope (or not for them at all).
    expected = {
        "admin": (200, 200, 200, 200, 200, 200, 200),
        "facilitator of test-2027": (403, 403, 200, 200, 403, 403, 404),
        "facilitator of other-2027": (404, 404, 404, 404, 404, 404, 404),
        "reviewer of X": (403, 403, 200, 200, 403, 403, 404),
        "institution X": (200, 200, 403, 403, 200, 200, 404),
        "institution Z": (404, 404, 404, 404, 404, 404, 404),
    }
    seen = {}
    for who in expected:
        await sign_in(web, pool, who)
        statuses = []
        for path in pages:
            statuses.append((await web.get(path)).status_code)
        seen[who] = tuple(statuses)
    assert seen == expected


async def test_posting_a_form_is_held_to_the_same_roles_as_opening_it(
    web: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, "reviewer of X")
    csrf = (await web.get(f"/cycles/{X.cycle_id}/work/review")).text.split('name="csrf" value="', 1)[1].split('"')[0]
    for path in (f"/cycles/{X.cycle_id}/self-evaluation", f"/cycles/{X.cycle_id}/work/action-plan"):
        refused = await web.post(path, data={"csrf": csrf, "action": "draft"})
        assert refused.status_code == 403, path
