"""The JSON API and who may see what: every role against every route, in and out of scope;
tokens kept only as hashes; revoked and expired tokens refused."""

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx
import pytest
from icalendar import Calendar
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.london_time import at_london
from domain.stages import ReviewType
from stack.addresses import StackAddresses
from store.access_tokens import issue_token, revoke_token
from tests import factories
from tests.engine import LEAD, Engine, running_worker
from web.app import create_app

X = factories.cycle_spec(urn="100081", careers_hub="Hub North")  # cohort test-2027, expert
Y = factories.cycle_spec(urn="100082", review_type=ReviewType.PEER)  # cohort test-2027, no hub
Z = factories.cycle_spec(urn="100083", cohort="other-2027", careers_hub="Hub North")
LATER = datetime.now(UTC) + timedelta(days=30)

PRINCIPALS = {
    "admin": Principal(role=Role.ADMIN, expires_at=LATER),
    "facilitator of test-2027": Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER),
    "facilitator of other-2027": Principal(role=Role.FACILITATOR, cohort="other-2027", expires_at=LATER),
    "facilitator of Hub North": Principal(role=Role.FACILITATOR, careers_hub="Hub North", expires_at=LATER),
    # The review lead factories assign to every expert cycle: a reviewer token names its person.
    "reviewer of X": Principal(role=Role.REVIEWER, cycle_id=X.cycle_id, email=LEAD, expires_at=LATER),
    "institution X": Principal(role=Role.INSTITUTION, cycle_id=X.cycle_id, expires_at=LATER),
    "institution Z": Principal(role=Role.INSTITUTION, cycle_id=Z.cycle_id, expires_at=LATER),
}
# Written out, not derived from the code under test: (reads of X, reads of Z, onboarding on X, onboarding on Z).
# 200 = allowed; 422 = allowed, and the workflow's validator turned the bad payload down; 403 = in scope, not
# theirs to submit; 404 = out of scope, as if the cycle did not exist.
EXPECTED = {
    "admin": (200, 200, 422, 422),
    "facilitator of test-2027": (200, 404, 403, 404),
    "facilitator of other-2027": (404, 200, 404, 403),
    "facilitator of Hub North": (200, 200, 403, 403),
    "reviewer of X": (200, 404, 403, 404),
    "institution X": (200, 404, 422, 404),
    "institution Z": (404, 200, 404, 422),
}
LISTED = {
    "admin": {X.cycle_id, Y.cycle_id, Z.cycle_id},
    "facilitator of test-2027": {X.cycle_id, Y.cycle_id},
    "facilitator of other-2027": {Z.cycle_id},
    "facilitator of Hub North": {X.cycle_id, Z.cycle_id},
    "reviewer of X": {X.cycle_id},
    "institution X": {X.cycle_id},
    "institution Z": {Z.cycle_id},
}
BAD_ONBOARDING = factories.onboarding("not-an-email")


@pytest.fixture
async def api(env: WorkflowEnvironment, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    engine = Engine(env, pool)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client  # what the lifespan would open
    async with running_worker(engine.client, pool, engine.task_queue):
        for spec in (X, Y, Z):
            await engine.start(spec)
        await engine.advance_to(X.cycle_id, at_london(X.start_date, time(10)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as client:
            yield client


def routes(cycle_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/api/cycles/{cycle_id}"),
        ("GET", f"/api/cycles/{cycle_id}/timeline.ics"),
        ("POST", f"/api/cycles/{cycle_id}/submissions/onboarding"),
    ]


async def call(api: httpx.AsyncClient, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if method == "POST":
        return await api.post(path, json=BAD_ONBOARDING, headers=headers)
    return await api.get(path, headers=headers)


async def test_every_role_on_every_route_in_and_out_of_scope(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    tokens = {name: await issue_token(pool, principal) for name, principal in PRINCIPALS.items()}
    seen: dict[str, tuple[int, ...]] = {}
    for name, token in tokens.items():
        read_x = {(await call(api, m, p, token)).status_code for m, p in routes(X.cycle_id)[:2]}
        read_z = {(await call(api, m, p, token)).status_code for m, p in routes(Z.cycle_id)[:2]}
        assert len(read_x) == 1 and len(read_z) == 1, f"{name}: the read routes disagree: {read_x} {read_z}"
        submit_x = await call(api, *routes(X.cycle_id)[2], token)
        submit_z = await call(api, *routes(Z.cycle_id)[2], token)
        seen[name] = (read_x.pop(), read_z.pop(), submit_x.status_code, submit_z.status_code)
        for response in (submit_x, submit_z):
            if response.status_code == 422:
                assert "contacts.careers_leader.email" in response.json()["detail"]
            if response.status_code == 404:
                assert "careers_leader" not in response.text, "a 404 reveals nothing about the cycle"
        listed = await api.get("/api/cycles", headers={"Authorization": f"Bearer {token}"})
        assert {c["cycle_id"] for c in listed.json()} == LISTED[name], name
    assert seen == EXPECTED


async def test_without_a_valid_token_every_route_is_401(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    revoked = await issue_token(pool, PRINCIPALS["admin"])
    assert await revoke_token(pool, revoked)
    expired = await issue_token(pool, PRINCIPALS["admin"].model_copy(update={"expires_at": datetime.now(UTC)}))
    for token in (None, "", "not-a-token", revoked, expired):
        for method, path in [("GET", "/api/cycles"), *routes(X.cycle_id)]:
            response = await call(api, method, path, token)
            assert response.status_code == 401, (token, path)
            assert response.headers["www-authenticate"] == "Bearer"


async def test_tokens_are_stored_only_as_hashes(pool: asyncpg.Pool) -> None:
    token = await issue_token(pool, PRINCIPALS["institution X"])
    stored = await pool.fetch("SELECT * FROM access_tokens")
    assert len(stored) == 1
    assert token not in str(dict(stored[0]))
    assert stored[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


async def test_an_institution_submits_and_reads_its_timeline_through_the_api(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    token = await issue_token(pool, PRINCIPALS["institution X"])
    headers = {"Authorization": f"Bearer {token}"}
    accepted = await api.post(
        f"/api/cycles/{X.cycle_id}/submissions/onboarding", json=factories.onboarding(), headers=headers
    )
    assert accepted.status_code == 200 and accepted.json()["stage"] == "onboarding"
    again = await api.post(
        f"/api/cycles/{X.cycle_id}/submissions/onboarding", json=factories.onboarding(), headers=headers
    )
    assert again.status_code == 422 and "already accepted" in again.json()["detail"]
    ics = await api.get(f"/api/cycles/{X.cycle_id}/timeline.ics", headers=headers)
    assert ics.headers["content-type"].startswith("text/calendar")
    assert len(list(Calendar.from_ical(ics.content).walk("VEVENT"))) == 7
    assert ics.headers["x-content-type-options"] == "nosniff"
    assert (await api.get("/openapi.json")).status_code == 401  # the API's description is for signed-in callers
    schema = await api.get("/openapi.json", headers=headers)
    assert "/api/cycles/{cycle_id}/submissions/{kind}" in schema.json()["paths"]


async def test_staff_routes_are_for_their_roles_only(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    # Bodies the workflows refuse, so an allowed call shows as 422 and nothing changes.
    routes = {
        "extend": {"stage": "onboarding", "to": "2026-01-01", "reason": "late"},
        "withdraw": {"reason": " "},
        "reassign": {"role": "facilitator", "email": "not-an-email"},
        "review-team": {"lead": "not-an-email"},
        "review-day": {"on": "2027-01-09", "start": "09:30"},  # a Saturday
    }
    expected = {  # for X, in the order above; Z's answers are 404 for everyone but admin and other-2027's facilitator
        # CEC assigns review teams; the review day is the lead's alone (recorded as the lead's), not CEC's.
        "admin": (422, 422, 422, 422, 403),
        "facilitator of test-2027": (403, 403, 403, 403, 403),
        "facilitator of other-2027": (404, 404, 404, 404, 404),
        "reviewer of X": (403, 403, 403, 403, 422),
        "institution X": (403, 403, 403, 403, 403),
        "institution Z": (404, 404, 404, 404, 404),
    }
    seen = {}
    for who in expected:
        token = await issue_token(pool, PRINCIPALS[who])
        headers = {"Authorization": f"Bearer {token}"}
        statuses = []
        for route, body in routes.items():
            statuses.append(
                (await api.post(f"/api/cycles/{X.cycle_id}/{route}", json=body, headers=headers)).status_code
            )
        seen[who] = tuple(statuses)
    assert seen == expected
    lead = {"Authorization": f"Bearer {await issue_token(pool, PRINCIPALS['reviewer of X'])}"}
    refused = await api.post(f"/api/cycles/{X.cycle_id}/review-day", json=routes["review-day"], headers=lead)
    assert "not a school day" in refused.json()["detail"]
    admin = {"Authorization": f"Bearer {await issue_token(pool, PRINCIPALS['admin'])}"}
    moved = await api.post(
        f"/api/cycles/{X.cycle_id}/extend",
        json={"stage": "onboarding", "to": "2027-01-20", "reason": "x"},
        headers=admin,
    )
    assert moved.status_code == 200 and "2027-01-20" in moved.json()["message"]
