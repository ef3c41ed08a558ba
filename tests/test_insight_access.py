"""Who sees which insight, and small groups withheld: a cohort written straight into the event store (the
insight reads projections only, so no workflow is needed), with a Careers Hub of four institutions and one of six.

tests/test_access_matrix.py declares the insight routes with the app's others; ACCESS below adds what the matrix
cannot see from its two cohorts: other cohorts and hubs asked for by name, and the roles' statuses route by route.
"""

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from domain.access import Principal, Role
from domain.events import (
    AppendRequest,
    CycleStarted,
    DomainEvent,
    EventMetadata,
    NewEvent,
    ReEvaluationSubmitted,
    ReviewFindingsRecorded,
    SelfEvaluationSubmitted,
    StageClosed,
    StageOpened,
)
from domain.london_time import at_london
from domain.stages import Phase, ReviewType, Stage
from domain.submissions import AgreedLevel, DevelopmentPriority, Rating, ThemeLevel
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.event_store import EventStore
from tests import factories
from tests.test_outcome import pdf_text
from web.app import create_app
from web.csv_cells import safe_cell

CIS = str(Path(sys.executable).parent / "cis")
COHORT = "access-2027"
# A hub of four (every aggregate over it is withheld), one of them named like a spreadsheet formula.
NORTH = [*(f"North {n} Academy" for n in range(3)), "=SUM(1) North Academy"]
SOUTH = [f"South {n} College" for n in range(6)]
ELSEWHERE = "Elsewhere School"  # another cohort, in Hub West
MODEL = factories.SCHOOLS_MODEL
THEMES = [t.id for t in MODEL.themes]
LATER = datetime.now(UTC) + timedelta(hours=1)

PRINCIPALS = {
    "admin": Principal(role=Role.ADMIN, expires_at=LATER),
    "facilitator of the cohort": Principal(role=Role.FACILITATOR, cohort=COHORT, expires_at=LATER),
    "facilitator of Hub North": Principal(role=Role.FACILITATOR, careers_hub="Hub North", expires_at=LATER),
    "facilitator of Hub West": Principal(role=Role.FACILITATOR, careers_hub="Hub West", expires_at=LATER),
    "facilitator of another cohort": Principal(role=Role.FACILITATOR, cohort="other-2027", expires_at=LATER),
    "reviewer": Principal(role=Role.REVIEWER, cycle_id="400001-access-2027", expires_at=LATER),
    "institution": Principal(role=Role.INSTITUTION, cycle_id="400001-access-2027", expires_at=LATER),
}
ROUTES = tuple(f"{route}?cohort={COHORT}" for route in ("/api/insight", "/insight", "/insight.csv", "/insight.pdf"))
# 200 = allowed; 404 = out of scope, as if the cohort did not exist; 403 = no insight for this role (the API);
# 303 = a page sends a reviewer or an institution to their own cycle; 401 = not signed in.
ACCESS = {
    "admin": (200, 200, 200, 200),
    "facilitator of the cohort": (200, 200, 200, 200),
    "facilitator of Hub North": (200, 200, 200, 200),
    "facilitator of Hub West": (404, 404, 404, 404),
    "facilitator of another cohort": (404, 404, 404, 404),
    "reviewer": (403, 303, 303, 303),
    "institution": (403, 303, 303, 303),
    "nobody": (401, 401, 401, 401),
}


def institution_events(n: int, name: str, hub: str, cohort: str = COHORT) -> list[DomainEvent]:
    cycle_id = f"{400000 + n}-{cohort}"
    at = at_london(date(2027, 1, 4), time(9))
    levels = [1 + (n + k) % 4 for k in range(len(THEMES))]
    return [
        CycleStarted(
            cycle_id=cycle_id,
            at=at,
            urn=str(400000 + n),
            name=name,
            phase=Phase.COLLEGE if "College" in name else Phase.SECONDARY,
            review_type=ReviewType.PEER if n % 2 else ReviewType.EXPERT,
            cohort=cohort,
            start_date=date(2027, 1, 4),
            model_id=MODEL.id,
            model_version=MODEL.version,
            milestones=[],
            closing_date=date(2027, 6, 30),
            careers_leader_email=None,
            facilitator_email="hub@hub.example",
            seconds_per_week=None,
            region="North West",
            careers_hub=hub,
            trust="Trust A" if n % 3 == 0 else None,
        ),
        StageOpened(cycle_id=cycle_id, at=at, stage=Stage.SELF_EVALUATION, due=date(2027, 2, 1)),
        SelfEvaluationSubmitted(
            cycle_id=cycle_id,
            at=at + timedelta(days=14),
            ratings=[Rating(indicator_id=i, level=2, evidence="Seen") for i in MODEL.indicator_ids()],
            theme_levels=[ThemeLevel(theme_id=t, level=level) for t, level in zip(THEMES, levels, strict=True)],
            contributors=[],
            actor="institution",
        ),
        StageClosed(
            cycle_id=cycle_id,
            at=at + timedelta(days=14),
            stage=Stage.SELF_EVALUATION,
            due=date(2027, 2, 1),
            on_time=n % 4 != 1,
        ),
        ReviewFindingsRecorded(
            cycle_id=cycle_id,
            at=at + timedelta(days=30),
            strengths=["Leadership"],
            development_priorities=[DevelopmentPriority(text=f"Links for {name}", indicator_ids=["encounters.1"])],
            agreed_levels=[AgreedLevel(indicator_id="leadership.1", level=2, rationale="Seen")],
            recommendations=["Champions"],
            resources=[],
            themes_in_scope=[],
            actor="reviewer",
            agreed_theme_levels=[ThemeLevel(theme_id="leadership", level=2)],
        ),
        ReEvaluationSubmitted(
            cycle_id=cycle_id,
            at=at + timedelta(days=100),
            ratings=[Rating(indicator_id=i, level=3, evidence="Seen") for i in MODEL.indicator_ids()],
            theme_levels=[
                ThemeLevel(theme_id=t, level=min(4, level + 1)) for t, level in zip(THEMES, levels, strict=True)
            ],
            contributors=[],
            indicator_changes=[],
            theme_changes=[],
            actor="institution",
        ),
    ]


async def append(pool: asyncpg.Pool, events: list[DomainEvent]) -> None:
    stream = f"cycle-{events[0].cycle_id}"
    metadata = EventMetadata(actor="test", workflow_id=stream, correlation_id=events[0].cycle_id)
    new = [NewEvent(event_id=str(uuid.uuid4()), event=e, metadata=metadata) for e in events]
    await EventStore(pool).append(AppendRequest(stream_id=stream, expected_version=0, events=new))


@pytest.fixture
async def web(pool: asyncpg.Pool) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """A signed-in browser (and a bearer token for the API) per principal, and one signed in as nobody."""
    for n, name in enumerate(NORTH):
        await append(pool, institution_events(n, name, "Hub North"))
    for n, name in enumerate(SOUTH, start=10):
        await append(pool, institution_events(n, name, "Hub South"))
    await append(pool, institution_events(20, ELSEWHERE, "Hub West", cohort="other-2027"))
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool = pool  # insight reads PostgreSQL only
    clients: dict[str, httpx.AsyncClient] = {}
    transport = httpx.ASGITransport(app=app)
    for who, principal in [*PRINCIPALS.items(), ("nobody", None)]:
        client = httpx.AsyncClient(transport=transport, base_url="http://cis.test")
        if principal is not None:
            token = await issue_token(pool, principal)
            client.headers["Authorization"] = f"Bearer {token}"
            assert (await client.get(f"/signin?token={token}")).status_code == 303
        clients[who] = client
    yield clients
    for client in clients.values():
        await client.aclose()


def aggregates(figures: dict[str, Any]) -> list[Any]:
    """Every number an insight's figures hold (the heatmap's rows are not figures: they are named institutions)."""
    found: list[Any] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, int | float) and not isinstance(value, bool) and key not in ("round",):
            found.append((key, value))

    walk(figures)
    return found


def readable(response: httpx.Response) -> str:
    """A response's text; a PDF's as pdftotext reads it."""
    if not response.content.startswith(b"%PDF"):
        return response.text
    with tempfile.TemporaryDirectory() as folder:
        return pdf_text(response.content, Path(folder), "insight-facilitator-of-hub-north")


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_every_principal_on_every_insight_route(web: dict[str, httpx.AsyncClient]) -> None:
    seen = {}
    for who, client in web.items():
        statuses = []
        for route in ROUTES:
            response = await client.get(route, follow_redirects=False)
            statuses.append(response.status_code)
            if not route.startswith("/api/"):
                assert "json" not in response.headers.get("content-type", ""), f"{who}: {route} answered JSON"
        seen[who] = tuple(statuses)
    assert seen == ACCESS


async def test_a_hub_of_four_gets_no_aggregate_in_the_csv_or_the_api_as_a_facilitator_and_an_admin_sees_it(
    web: dict[str, httpx.AsyncClient],
) -> None:
    views = {
        "facilitator of Hub North": ["", f"cohort={COHORT}&hub=Hub+North"],
        "facilitator of the cohort": [f"cohort={COHORT}&hub=Hub+North"],
    }
    for who, queries in views.items():
        for query in queries:
            api = (await web[who].get(f"/api/insight?{query}")).json()
            for figures in (api["overall"], api["expert"], api["peer"]):
                assert figures["withheld"] and figures["institutions"] is None, (who, query)
                assert aggregates({k: v for k, v in figures.items() if k != "review_type"}) == [], (who, query)
            rows = csv_rows((await web[who].get(f"/insight.csv?{query}")).text)
            figures_rows = [r for r in rows if r["section"] != "institution"]
            assert figures_rows and all(r["measure"] == "withheld" and r["institutions"] == "" for r in figures_rows)
            assert not any(r["value"] and r["value"][0].isdigit() for r in figures_rows), (who, query)
            # Not aggregates: the four institutions themselves, which these facilitators may see by name (a name a
            # spreadsheet would run as a formula is written as text).
            assert {r["institution"] for r in rows if r["section"] == "institution"} == {safe_cell(n) for n in NORTH}
            page = (await web[who].get(f"/insight?{query}")).text
            assert "withheld: fewer than 5 institutions" in page

    admin = (await web["admin"].get(f"/api/insight?cohort={COHORT}&hub=Hub+North")).json()
    assert admin["overall"]["institutions"] == 4 and not admin["overall"]["withheld"]
    self_levels = next(s for s in admin["overall"]["levels"] if s["stage"] == "self_evaluation")
    assert all(t["institutions"] == 4 and sum(t["counts"].values()) == 4 for t in self_levels["themes"])
    assert admin["overall"]["priorities"]["institutions"] == 4
    rows = csv_rows((await web["admin"].get(f"/insight.csv?cohort={COHORT}&hub=Hub+North")).text)
    assert not any(r["measure"] == "withheld" for r in rows if r["review_type"] == "all")
    assert {"levels", "movement", "calibration", "priorities", "timeliness"} <= {r["section"] for r in rows}

    # The whole cohort (ten institutions) shows its figures to the cohort's facilitator; halves under five do not.
    cohort = (await web["facilitator of the cohort"].get(f"/api/insight?cohort={COHORT}")).json()
    assert cohort["overall"]["institutions"] == 10 and cohort["expert"]["institutions"] == 5
    assert cohort["peer"]["institutions"] == 5
    trust = (await web["facilitator of the cohort"].get(f"/api/insight?cohort={COHORT}&trust=Trust+A")).json()
    assert trust["overall"]["withheld"]


async def test_a_hub_facilitator_never_sees_another_hubs_institutions_by_name(
    web: dict[str, httpx.AsyncClient],
) -> None:
    north = web["facilitator of Hub North"]
    views = [
        "",
        f"cohort={COHORT}",
        f"cohort={COHORT}&hub=Hub+South",
        f"cohort={COHORT}&trust=Trust+A",
        f"cohort={COHORT}&phase=college",
        f"cohort={COHORT}&review_type=expert",
        f"cohort={COHORT}&page=2",
    ]
    for query in views:
        for route in ("/api/insight", "/insight", "/insight.csv", "/insight.pdf"):
            response = await north.get(f"{route}?{query}")
            assert response.status_code == 200, (route, query)
            text = readable(response)
            for name in SOUTH:
                assert name not in text, (route, query, name)
            if route == "/insight.pdf" and query == f"cohort={COHORT}":
                assert NORTH[0] in text and "Where institutions stand" in text
    # Hub South's figures are there to compare with (six institutions), but none of its institutions by name.
    south = (await north.get(f"/api/insight?cohort={COHORT}&hub=Hub+South")).json()
    assert south["overall"]["institutions"] == 6 and south["heatmap"]["rows"] == []
    # Their own hub (in every cohort), by name; another hub without a cohort, or a cohort they are not in: nothing.
    own = (await north.get("/api/insight")).json()
    assert {r["name"] for r in own["heatmap"]["rows"]} == set(NORTH)
    assert (await north.get("/api/insight?hub=Hub+South")).status_code == 404
    assert (await north.get("/api/insight?cohort=other-2027")).status_code == 404
    west = web["facilitator of Hub West"]
    assert {r["name"] for r in (await west.get("/api/insight")).json()["heatmap"]["rows"]} == {ELSEWHERE}
    assert (await west.get("/api/insight?cohort=other-2027")).status_code == 200
    # The admin sees every name.
    everyone = (await web["admin"].get(f"/api/insight?cohort={COHORT}")).json()
    assert {r["name"] for r in everyone["heatmap"]["rows"]} == {*NORTH, *SOUTH}


async def test_bad_filters_are_refused_naming_the_field(web: dict[str, httpx.AsyncClient]) -> None:
    admin = web["admin"]
    api = await admin.get("/api/insight?phase=primary")
    assert api.status_code == 422 and "phase" in api.json()["detail"]
    page = await admin.get("/insight?review_type=both")
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "Review type" in page.text
    long = await admin.get("/api/insight?cohort=" + "x" * 201)
    assert long.status_code == 422
    for download in ("/insight.csv", "/insight.pdf"):  # a link followed: refused with a page, not a file
        refused = await admin.get(f"{download}?phase=primary")
        assert refused.status_code == 400 and refused.headers["content-type"].startswith("text/html")
        assert "phase" in refused.text and "<h1" in refused.text


async def test_cis_insight_reads_as_an_admin_in_tables_json_and_csv(
    web: dict[str, httpx.AsyncClient], database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")} | {
        "CIS_DATABASE_URL": database_url,
        "CIS_TEMPORAL_ADDRESS": "unused:7233",  # insight needs the database only
        "CIS_DATA_DIR": str(tmp_path),
    }

    def cis(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CIS, "insight", *args], env=env, capture_output=True, text=True, timeout=60)

    tables = cis("--cohort", COHORT)
    assert tables.returncode == 0, tables.stderr
    assert "10 institutions" in tables.stdout and "Levels by theme" in tables.stdout and "Momentum" in tables.stdout
    shown = json.loads(cis("--cohort", COHORT, "--hub", "Hub North", "--json").stdout)
    assert shown["overall"]["institutions"] == 4 and not shown["withholding"]
    assert {r["name"] for r in shown["heatmap"]["rows"]} == set(NORTH)
    rows = csv_rows(cis("--cohort", COHORT, "--hub", "Hub North", "--csv").stdout)
    assert rows and not any(r["measure"] == "withheld" for r in rows)
    for refused, words in (
        (cis("--cohort", "nobody-2027"), "no institutions in cohort nobody-2027"),
        (cis("--cohort", COHORT, "--json", "--csv"), "choose one of --json and --csv"),
        (cis("--cohort", "x" * 201), "cohort"),
    ):
        assert refused.returncode != 0 and words in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
