"""The web app's edges, on a real PostgreSQL: error pages for people and problem details for the API, security
headers on every answer (500s too), bodies over 256 KB refused before parsing, server-side sessions, a brake on
guessing, API docs for signed-in callers only, CSV cells safe to open, and cycles that need attention."""

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from cli import runtime
from cli.main import app as cli_app
from domain.access import Principal, Role
from domain.events import NeedsAttention
from stack.addresses import StackAddresses
from stack.embedded import free_port
from store.access_tokens import issue_token, principal_for, revoke_token
from tests.test_projections import append_all, at, started
from web.app import create_app
from web.security_headers import SECURITY_HEADERS

LATER = datetime.now(UTC) + timedelta(days=30)
PLAIN = "100001-edge-2027"
FORMULA = "100002-edge-2027"
ADMIN = Principal(role=Role.ADMIN, expires_at=LATER)
INSTITUTION = Principal(role=Role.INSTITUTION, cycle_id=PLAIN, expires_at=LATER)
# A roster typed by someone, or by someone hoping a facilitator opens the export in a spreadsheet.
FORMULAS = {"name": '=HYPERLINK("http://evil.example","Click")', "trust": "@SUM(1+1)", "careers_hub": "+44 hub"}


@pytest.fixture
async def app_and_pool(pool: asyncpg.Pool, env: WorkflowEnvironment) -> AsyncIterator[tuple[object, asyncpg.Pool]]:
    """The app on the store, its cycles recorded there only: Temporal knows none of them (as after they end)."""
    await append_all(
        pool,
        [
            (f"cycle-{PLAIN}", started(PLAIN)),
            (f"cycle-{FORMULA}", started(FORMULA, **FORMULAS)),
            (
                f"cycle-{FORMULA}",
                NeedsAttention(
                    cycle_id=FORMULA,
                    at=at(datetime(2026, 9, 8).date()),
                    reason="StageOpened could not be stored",
                    source=f"cycle-{FORMULA}",
                ),
            ),
        ],
    )
    app = create_app(
        StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret", sign_in_failures_allowed=5
    )
    app.state.pool, app.state.client = pool, env.client
    yield app, pool


def client_of(app: object) -> httpx.AsyncClient:
    # raise_app_exceptions=False: a 500 is answered as a browser would see it, not raised into the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://cis.test")


def secured(response: httpx.Response) -> bool:
    return all(response.headers.get(name) == value for name, value in SECURITY_HEADERS.items())


async def signed_in(app: object, pool: asyncpg.Pool, principal: Principal) -> httpx.AsyncClient:
    web = client_of(app)
    assert (await web.get(f"/signin?token={await issue_token(pool, principal)}")).status_code == 303
    return web


async def chunks(size: int) -> AsyncIterator[bytes]:
    """A body sent without a Content-Length (chunked), as a client streaming an upload would."""
    for _ in range(size // 4096 + 1):
        yield b"x" * 4096


async def test_errors_are_pages_for_people_and_problem_details_for_the_api(
    app_and_pool: tuple[object, asyncpg.Pool],
) -> None:
    app, pool = app_and_pool
    web = await signed_in(app, pool, ADMIN)
    bearer = {"Authorization": f"Bearer {await issue_token(pool, ADMIN)}"}
    pages = {
        "/nowhere": 404,
        "/cycles/%00": 404,
        f"/cycles/{PLAIN}x": 404,
        "/groups/sec-a/b-pg1": 404,
        "/dashboard?stage=%00": 422,
        "/dashboard?stage=holiday": 422,
        "/dashboard?page=99999999999999999999": 422,
        "/dashboard?cohort=Bad%20Cohort!": 422,
        "/dashboard?hub=" + "h" * 300: 422,
    }
    for path, status in pages.items():
        page = await web.get(path)
        assert (page.status_code, page.headers["content-type"].split(";")[0]) == (status, "text/html"), path
        assert secured(page) and "<h1" in page.text and "{" not in page.text.split("<main", 1)[1][:200], path
    apis = {"/api/nowhere": 404, "/api/cycles/%00": 404, "/api/groups/sec-a/b-pg1": 404}
    for path, status in apis.items():
        answer = await web.get(path, headers=bearer)
        assert answer.status_code == status and answer.headers["content-type"] == "application/problem+json", path
        assert answer.json()["status"] == status and answer.json()["detail"] and secured(answer), path

    # Over 256 KB: refused before anything is parsed, with or without a declared length.
    big = b"{" + b" " * (300 * 1024) + b"}"
    too_big = await web.post(f"/api/cycles/{PLAIN}/submissions/onboarding", content=big, headers=bearer)
    assert too_big.status_code == 413 and too_big.json()["status"] == 413 and secured(too_big)
    form = await web.post(
        f"/cycles/{PLAIN}/work/action-plan",
        content=chunks(300 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 413 and form.headers["content-type"].startswith("text/html") and secured(form)

    # A failure is a page too, with the headers: here the store is gone.
    broken = client_of(app)
    await pool.close()
    failed = await broken.get("/signin?token=" + "t" * 43)
    assert failed.status_code == 500 and "Sorry, something went wrong" in failed.text and secured(failed)


async def test_while_postgresql_cannot_be_reached_people_are_told_to_try_again_not_shown_a_failure(
    app_and_pool: tuple[object, asyncpg.Pool],
) -> None:
    """PostgreSQL stopped or restarting is an outage: a 503 with Retry-After, as a page or as problem details."""
    app, pool = app_and_pool
    token = await issue_token(pool, ADMIN)
    nothing_listens = f"postgresql://cis@127.0.0.1:{free_port()}/cis"
    down = await asyncpg.create_pool(nothing_listens, min_size=0, max_size=1)
    app.state.pool = down  # type: ignore[attr-defined]
    web = client_of(app)
    try:
        page = await web.get(f"/signin?token={token}")
        api = await web.get("/api/cycles", headers={"Authorization": f"Bearer {token}"})
    finally:
        await down.close()
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html") and secured(page)
    assert "The service is not available just now" in page.text and "try again" in page.text
    assert api.status_code == 503 and api.headers["content-type"] == "application/problem+json" and secured(api)
    assert api.json()["status"] == 503 and "database" in api.json()["detail"]
    assert int(page.headers["Retry-After"]) > 0 and int(api.headers["Retry-After"]) > 0


async def test_a_session_ends_at_sign_out_even_for_a_copied_cookie(app_and_pool: tuple[object, asyncpg.Pool]) -> None:
    app, pool = app_and_pool
    token = await issue_token(pool, INSTITUTION)
    web = client_of(app)
    signed = await web.get(f"/signin?token={token}")
    cookie = signed.cookies["cis_session"]
    assert token not in signed.headers["set-cookie"]
    assert (await web.get(f"/cycles/{PLAIN}/timeline.ics")).status_code in (200, 404)  # signed in: not 401
    copy = client_of(app)
    copy.cookies.set("cis_session", cookie)
    assert (await copy.get("/")).status_code == 303  # the copy works while the session is open...
    assert (await web.get("/signout")).status_code == 200
    assert (await copy.get("/dashboard")).status_code == 401  # ...and not after sign-out
    assert (await web.get("/dashboard")).status_code == 401
    again = await signed_in(app, pool, INSTITUTION)
    await revoke_token(pool, token)
    assert (await again.get("/dashboard")).status_code == 303  # another token's session is unaffected


async def test_failed_sign_ins_and_bearer_checks_are_braked_per_client(
    app_and_pool: tuple[object, asyncpg.Pool],
) -> None:
    app, pool = app_and_pool
    good = await issue_token(pool, ADMIN)
    web = client_of(app)
    statuses = [(await web.get(f"/signin?token=guess-{n}")).status_code for n in range(5)]
    statuses += [
        (await web.get("/api/cycles", headers={"Authorization": f"Bearer guess-{n}"})).status_code for n in (6,)
    ]
    assert statuses == [401] * 5 + [429]
    held = await web.get(f"/signin?token={good}")  # while held back, even the right token waits
    assert held.status_code == 429 and int(held.headers["retry-after"]) >= 1 and secured(held)
    assert "Too many attempts" in held.text
    api = await web.get("/api/cycles", headers={"Authorization": f"Bearer {good}"})
    assert api.status_code == 429 and api.json()["status"] == 429 and "retry-after" in api.headers
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("10.0.0.9", 4000)),  # type: ignore[arg-type]
        base_url="http://cis.test",
    )
    assert (await other.get("/api/cycles", headers={"Authorization": f"Bearer {good}"})).status_code == 200


async def test_api_docs_are_for_signed_in_callers_only(app_and_pool: tuple[object, asyncpg.Pool]) -> None:
    app, pool = app_and_pool
    anonymous = client_of(app)
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert (await anonymous.get(path)).status_code == 401, path
    bearer = {"Authorization": f"Bearer {await issue_token(pool, INSTITUTION)}"}
    assert "/api/cycles/{cycle_id}" in (await anonymous.get("/openapi.json", headers=bearer)).json()["paths"]
    person = await signed_in(app, pool, INSTITUTION)
    assert (await person.get("/docs")).status_code == 200 and (await person.get("/redoc")).status_code == 200


async def test_the_csv_is_safe_to_open_and_cycles_needing_attention_show(
    app_and_pool: tuple[object, asyncpg.Pool],
) -> None:
    app, pool = app_and_pool
    web = await signed_in(app, pool, ADMIN)
    rows = {r["cycle_id"]: r for r in csv.DictReader(io.StringIO((await web.get("/dashboard.csv")).text))}
    formula = rows[FORMULA]
    assert formula["institution"] == "'" + FORMULAS["name"]
    assert (formula["trust"], formula["careers_hub"]) == ("'@SUM(1+1)", "'+44 hub")
    assert rows[PLAIN]["institution"] == "Academy 100001"
    board = await web.get("/dashboard")
    assert '<li id="attention-count"><strong>1</strong>' in board.text
    flagged = await web.get("/dashboard?attention=true")
    assert FORMULA in flagged.text and PLAIN not in flagged.text
    page = await web.get(f"/cycles/{FORMULA}")
    assert 'id="needs-attention"' in page.text and "could not be stored" in page.text


@pytest.fixture
def cis_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """`cis` run in this process, on the test's database: the environment to give it."""

    def leave(code: int) -> NoReturn:
        raise SystemExit(code)

    monkeypatch.setattr(runtime, "_leave", leave)  # `cis` ends its process with os._exit; not this one's
    return {"CIS_DATABASE_URL": database_url, "CIS_TEMPORAL_ADDRESS": "unused:7233"}


async def test_cis_status_lists_the_cycles_that_need_attention(
    app_and_pool: tuple[object, asyncpg.Pool], cis_env: dict[str, str]
) -> None:
    env = cis_env
    listed = await asyncio.to_thread(CliRunner(env=env).invoke, cli_app, ["status", "--attention", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(r["cycle_id"], r["attention_reason"]) for r in json.loads(listed.stdout)] == [
        (FORMULA, "StageOpened could not be stored")
    ]
    table = await asyncio.to_thread(CliRunner(env=env).invoke, cli_app, ["status"])
    assert "2 cycle(s), 1 needing attention" in table.stdout


async def test_cis_issues_a_reviewers_token_naming_the_person(
    app_and_pool: tuple[object, asyncpg.Pool], cis_env: dict[str, str]
) -> None:
    _, pool = app_and_pool
    argv = ["token", "issue", "--role", "reviewer", "--cycle", PLAIN, "--email", "associate@cec.example"]
    issued = await asyncio.to_thread(CliRunner(env=cis_env).invoke, cli_app, argv)
    assert issued.exit_code == 0, issued.output
    holder = await principal_for(pool, issued.stdout.strip().splitlines()[-1], datetime.now(UTC))
    assert holder is not None and (holder.role, holder.cycle_id, holder.email) == (
        Role.REVIEWER,
        PLAIN,
        "associate@cec.example",
    )
