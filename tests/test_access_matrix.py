"""The access matrix: every route of the app (the API as /openapi.json describes it, and every HTML route) for every
kind of caller, on a resource of theirs and on one that is not: 0 leaks, 0 unexpected statuses.

ROUTES below is the one place where each route says who may use it. A route missing from it fails the test, so
a new route is added here with its rule. Two cohorts whose ids are prefixes of each other (sec-a and sec-a-b)
each hold a cycle and a peer group: nothing of one may be reached from the other. Cohort sec-a also holds an
institution of Hub B: the facilitator scoped to Hub A never sees it by name, on any route (insight included).

How a cell is judged:
- no, a bad or a revoked token: 401 on every route that needs sign-in;
- a resource outside the caller's scope: 404, as if it did not exist;
- in scope, but not the caller's to use: the route's `denied` status (403, or 404 where the route hides itself);
- allowed: one of the route's `ok` statuses (bodies are ones the rules refuse, so an allowed write is a 422 and
  nothing changes).
A leak is a 2xx or 3xx where the caller was not allowed, or the other cohort's institution named in any answer
to a caller who may not see it.
"""

import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.access import SUBMITTED_BY, Principal, Role
from domain.submissions import SubmissionKind
from operations.cohorts import launch_cohort
from stack.addresses import StackAddresses
from store.access_tokens import issue_token, revoke_token
from store.read_models import get_peer_group
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.eventually import eventually
from tests.test_peer_groups import START, group_of
from web.app import create_app
from web.security_headers import SECURITY_HEADERS

LATER = datetime.now(UTC) + timedelta(days=30)
OWN = factories.cycle_spec(urn="400001", cohort="sec-a", start=START, careers_hub="Hub A")
OTHER = factories.cycle_spec(urn="400002", cohort="sec-a-b", start=START, careers_hub="Hub B")
OWN_GROUP = [
    s.model_copy(update={"cohort": "sec-a", "peer_group": "b-pg1", "careers_hub": "Hub A"})
    for s in group_of(3, first_urn=400010)
]
OTHER_GROUP = [
    s.model_copy(update={"cohort": "sec-a-b", "peer_group": "pg1", "careers_hub": "Hub B"})
    for s in group_of(3, first_urn=400020)
]
OTHER_NAMES = [OTHER.name, *(s.name for s in OTHER_GROUP)]
# Cohort sec-a's one institution in another Careers Hub: its cohort's facilitator may see it, Hub A's may not.
OTHER_HUB = factories.cycle_spec(urn="400003", cohort="sec-a", start=START, careers_hub="Hub B")
SEES_OTHER_HUB = frozenset({"admin", "facilitator"})

# Kinds of caller; the unauthenticated ones are checked on every route that needs sign-in.
CALLERS: dict[str, Principal | None] = {
    "admin": Principal(role=Role.ADMIN, expires_at=LATER),
    "facilitator": Principal(role=Role.FACILITATOR, cohort="sec-a", expires_at=LATER),
    "hub": Principal(role=Role.FACILITATOR, careers_hub="Hub A", expires_at=LATER),
    "lead": Principal(role=Role.REVIEWER, cycle_id=OWN.cycle_id, email=LEAD, expires_at=LATER),
    "member": Principal(role=Role.REVIEWER, cycle_id=OWN.cycle_id, email="member@cec.example", expires_at=LATER),
    "institution": Principal(role=Role.INSTITUTION, cycle_id=OWN.cycle_id, expires_at=LATER),
    "none": None,
    "bad": None,
    "revoked": None,
}
SIGNED_IN = frozenset({"admin", "facilitator", "hub", "lead", "member", "institution"})
STAFF = frozenset({"admin", "facilitator", "hub"})
ROLE_OF = {"admin": Role.ADMIN, "facilitator": Role.FACILITATOR, "hub": Role.FACILITATOR}
ROLE_OF |= {"lead": Role.REVIEWER, "member": Role.REVIEWER, "institution": Role.INSTITUTION}


def submitters(kind: SubmissionKind) -> frozenset[str]:
    """Who submits a kind on an expert review's cycle: the role's kinds, and the lead's acts the lead's alone."""
    if kind in (SubmissionKind.REVIEW, SubmissionKind.REPORT):
        return frozenset({"lead"})
    return frozenset(who for who, role in ROLE_OF.items() if kind in SUBMITTED_BY[role])


# The insight routes' resources are the institutions a query asks for: (query, the staff it is in scope for).
# Reviewers and institutions have no insight whatever they ask (the API refuses, the pages send them to their cycle).
INSIGHT_QUERIES = {
    "own": ("", STAFF),  # the caller's own cohort or hub
    "cohort": ("cohort=sec-a", STAFF),  # Hub A takes part in sec-a: its figures, but only Hub A's names
    "other": ("cohort=sec-a-b", frozenset({"admin"})),  # the cohort whose id starts with the caller's
    "other hub": ("hub=Hub+B", SEES_OTHER_HUB),  # for sec-a's facilitator, their cohort's Hub B institution
}


@dataclass(frozen=True)
class Use:
    """Who may use a route: `who` (caller kinds, or per value of a path parameter), within `scope`."""

    who: frozenset[str] | dict[str, frozenset[str]]
    ok: frozenset[int] = frozenset({200})
    scope: str = "cycle"  # cycle | group | insight | none (the caller's own listing) | public
    denied: int = 403
    body: dict[str, Any] = field(default_factory=dict)  # JSON for the API, form fields (or a query) for pages
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)  # values tried for other path parameters


ALLOWED_WRITE = frozenset({422})
KINDS = tuple(k.value for k in SubmissionKind)
WORK_KINDS = ("onboarding", "action-plan", "check-in", "review", "report")
BAD_FINDINGS: dict[str, Any] = {"strengths": []}
THEME = factories.SCHOOLS_MODEL.themes[0].id
NOT_SIGNED = {"cycle": OWN.cycle_id, "to": "someone@school.example", "token": "0" * 32}

ROUTES: dict[str, Use] = {
    # ----- the JSON API -----
    "GET /api/cycles": Use(SIGNED_IN, scope="none"),
    "GET /api/cycles/{cycle_id}": Use(SIGNED_IN),
    "GET /api/cycles/{cycle_id}/timeline.ics": Use(SIGNED_IN),
    "GET /api/cycles/{cycle_id}/submissions/{kind}": Use(SIGNED_IN, params={"kind": ("onboarding",)}),
    "POST /api/cycles/{cycle_id}/submissions/{kind}": Use(
        {kind: submitters(SubmissionKind(kind)) for kind in KINDS}, ok=ALLOWED_WRITE, params={"kind": KINDS}
    ),
    "POST /api/cycles/{cycle_id}/extend": Use(
        frozenset({"admin"}), ok=ALLOWED_WRITE, body={"stage": "onboarding", "to": "2026-12-01", "reason": "late"}
    ),
    "POST /api/cycles/{cycle_id}/withdraw": Use(frozenset({"admin"}), ok=ALLOWED_WRITE, body={"reason": " "}),
    # A calendar version the registry does not hold: refused before the cycle hears of it.
    "POST /api/cycles/{cycle_id}/calendar": Use(
        frozenset({"admin"}), ok=ALLOWED_WRITE, body={"calendar": "england-2026-2028@99"}
    ),
    "POST /api/cycles/{cycle_id}/reassign": Use(
        frozenset({"admin"}), ok=ALLOWED_WRITE, body={"role": "facilitator", "email": "not-an-email"}
    ),
    "POST /api/cycles/{cycle_id}/review-team": Use(frozenset({"admin"}), ok=ALLOWED_WRITE, body={"lead": "nobody"}),
    "POST /api/cycles/{cycle_id}/review-day": Use(
        frozenset({"lead"}),
        ok=ALLOWED_WRITE,
        body={"on": "2027-01-09", "start": "09:30"},  # a Saturday
    ),
    "GET /api/groups/{cohort}/{group}": Use(STAFF, scope="group"),
    # Cohort insight: staff only, over their own cohort or hub, asked for each of INSIGHT_QUERIES
    # (tests/test_insight_access.py has the withheld small groups and more filters).
    "GET /api/insight": Use(STAFF, scope="insight"),
    "POST /api/groups/{cohort}/{group}/meeting": Use(STAFF, scope="group", ok=ALLOWED_WRITE, body={"on": "x"}),
    "POST /api/groups/{cohort}/{group}/moves": Use(STAFF, scope="group", ok=ALLOWED_WRITE, body={"to": "x"}),
    "POST /api/groups/{cohort}/{group}/findings/{cycle_id}": Use(
        STAFF, scope="group", ok=ALLOWED_WRITE, body=BAD_FINDINGS
    ),
    # ----- pages -----
    "GET /signin": Use(SIGNED_IN, scope="public", ok=frozenset({401})),  # no token in the link: it does not work
    "GET /": Use(SIGNED_IN, scope="public", ok=frozenset({200, 303})),
    "GET /signout": Use(SIGNED_IN, scope="public"),
    "GET /healthz": Use(SIGNED_IN, scope="public"),
    # An opt-out link not signed for anyone: nobody's nudges change.
    "GET /mail/nudges-off": Use(SIGNED_IN, scope="public", ok=frozenset({404}), body=NOT_SIGNED),
    "POST /mail/nudges-off": Use(SIGNED_IN, scope="public", ok=frozenset({404}), body=NOT_SIGNED),
    "GET /openapi.json": Use(SIGNED_IN, scope="none"),
    "GET /docs": Use(SIGNED_IN, scope="none"),
    "GET /redoc": Use(SIGNED_IN, scope="none"),
    "GET /dashboard": Use(SIGNED_IN, scope="none", ok=frozenset({200, 303})),  # a one-cycle person goes to it
    "GET /dashboard.csv": Use(SIGNED_IN, scope="none"),
    "GET /admin/roster": Use(frozenset({"admin"}), scope="none", denied=404),
    "POST /admin/roster": Use(frozenset({"admin"}), scope="none", denied=404, ok=ALLOWED_WRITE, body={"cohort": "x"}),
    # A launch's progress is CEC's alone; no launch by that id here, so CEC too is told it does not exist
    # (tests/test_roster_launch.py shows CEC one that does).
    "GET /admin/launches/{launch_id}": Use(
        frozenset({"admin"}),
        scope="none",
        denied=404,
        ok=frozenset({404}),
        params={"launch_id": ("sec-a-0123456789ab",)},
    ),
    "GET /cycles/{cycle_id}": Use(SIGNED_IN),
    "GET /cycles/{cycle_id}/timeline.ics": Use(SIGNED_IN),
    "GET /cycles/{cycle_id}/submissions/{kind}": Use(SIGNED_IN, params={"kind": ("onboarding",)}),
    "GET /cycles/{cycle_id}/self-evaluation": Use(submitters(SubmissionKind.SELF_EVALUATION)),
    "POST /cycles/{cycle_id}/self-evaluation": Use(submitters(SubmissionKind.SELF_EVALUATION), ok=ALLOWED_WRITE),
    "GET /cycles/{cycle_id}/re-evaluation": Use(submitters(SubmissionKind.RE_EVALUATION)),
    "POST /cycles/{cycle_id}/re-evaluation": Use(submitters(SubmissionKind.RE_EVALUATION), ok=ALLOWED_WRITE),
    # The evaluation a theme at a time, then the check page; a theme's answers are saved as a draft as they go.
    "GET /cycles/{cycle_id}/self-evaluation/themes/{theme_id}": Use(
        submitters(SubmissionKind.SELF_EVALUATION), params={"theme_id": (THEME,)}
    ),
    "POST /cycles/{cycle_id}/self-evaluation/themes/{theme_id}": Use(
        submitters(SubmissionKind.SELF_EVALUATION), ok=frozenset({303, 422}), params={"theme_id": (THEME,)}
    ),
    "GET /cycles/{cycle_id}/self-evaluation/check": Use(submitters(SubmissionKind.SELF_EVALUATION)),
    "GET /cycles/{cycle_id}/re-evaluation/themes/{theme_id}": Use(
        submitters(SubmissionKind.RE_EVALUATION), params={"theme_id": (THEME,)}
    ),
    "POST /cycles/{cycle_id}/re-evaluation/themes/{theme_id}": Use(
        submitters(SubmissionKind.RE_EVALUATION), ok=frozenset({303, 422}), params={"theme_id": (THEME,)}
    ),
    "GET /cycles/{cycle_id}/re-evaluation/check": Use(submitters(SubmissionKind.RE_EVALUATION)),
    # Accepted work (onboarding here) reads back for everyone who sees the cycle; the rest is the role's.
    "GET /cycles/{cycle_id}/work/{kind}": Use(
        {"onboarding": SIGNED_IN}
        | {k: frozenset(w for w, r in ROLE_OF.items() if SubmissionKind(k) in SUBMITTED_BY[r]) for k in WORK_KINDS[1:]},
        ok=frozenset({200, 303}),
        params={"kind": WORK_KINDS},
    ),
    "POST /cycles/{cycle_id}/work/{kind}": Use(
        {k: submitters(SubmissionKind(k)) for k in WORK_KINDS}, ok=ALLOWED_WRITE, params={"kind": WORK_KINDS}
    ),
    # The action plan checked before it is submitted: with nothing kept by the editor's Continue, back to it.
    "GET /cycles/{cycle_id}/work/action-plan/check": Use(submitters(SubmissionKind.ACTION_PLAN), ok=frozenset({303})),
    "POST /cycles/{cycle_id}/review-day": Use(frozenset({"lead"}), ok=ALLOWED_WRITE, body={"on": "not-a-date"}),
    # The follow-up meeting: everyone who sees the cycle reads it; an expert review's lead (or CEC) runs it. Here
    # no follow-up is running yet, so an allowed write is refused.
    "GET /cycles/{cycle_id}/follow-up-meeting": Use(SIGNED_IN),
    "POST /cycles/{cycle_id}/follow-up-meeting": Use(frozenset({"admin", "lead"}), ok=ALLOWED_WRITE),
    "POST /cycles/{cycle_id}/follow-up-meeting/notes": Use(frozenset({"admin", "lead"}), ok=ALLOWED_WRITE),
    "GET /cycles/{cycle_id}/admin/{action}": Use(
        frozenset({"admin"}), denied=404, params={"action": ("extend", "withdraw", "reassign")}
    ),
    "POST /cycles/{cycle_id}/admin/{action}": Use(
        frozenset({"admin"}),
        ok=ALLOWED_WRITE,
        denied=404,
        body={"stage": "onboarding", "to": "2026-12-01", "reason": " ", "role": "x", "email": "y"},
        params={"action": ("extend", "withdraw", "reassign")},
    ),
    # Before a report is published, its pages say so (404) or send its writers to write it (303).
    "GET /cycles/{cycle_id}/report": Use(SIGNED_IN, ok=frozenset({303, 404})),
    "GET /cycles/{cycle_id}/report.pdf": Use(SIGNED_IN, ok=frozenset({404})),
    "GET /cycles/{cycle_id}/summary": Use(SIGNED_IN, ok=frozenset({303, 404})),
    "GET /cycles/{cycle_id}/progress": Use(SIGNED_IN, ok=frozenset({404})),
    # The meeting pack: the review team's and the facilitator's, never the school's (its questions are for them).
    "GET /cycles/{cycle_id}/pack": Use(STAFF | {"lead", "member"}),
    "GET /cycles/{cycle_id}/pack.pdf": Use(STAFF | {"lead", "member"}),
    # Evaluations shared in a peer group: this cycle is an expert review's, so there is no group to share with.
    "GET /cycles/{cycle_id}/peer-evaluations": Use(SIGNED_IN, ok=frozenset({404})),
    # Who will attend the review: everyone preparing it may say (a role the rules do not know is a 422).
    "POST /cycles/{cycle_id}/attendance": Use(SIGNED_IN, ok=ALLOWED_WRITE, body={"expected": "chair"}),
    "GET /groups/{cohort}/{group}": Use(STAFF, scope="group"),
    "GET /groups/{cohort}/{group}/pack": Use(STAFF, scope="group"),
    "GET /groups/{cohort}/{group}/pack.pdf": Use(STAFF, scope="group"),
    "GET /groups/{cohort}/{group}/evaluations": Use(STAFF, scope="group"),
    "GET /groups/{cohort}/{group}/members/{cycle_id}/findings": Use(STAFF, scope="group"),
    # The whole group's follow-up meeting: no member has an action plan here, so arranging it is refused.
    "GET /groups/{cohort}/{group}/follow-up-meeting": Use(STAFF, scope="group"),
    "POST /groups/{cohort}/{group}/follow-up-meeting": Use(STAFF, scope="group", ok=ALLOWED_WRITE),
    # Insight pages: a one-cycle person goes to their cycle, as from the dashboard.
    "GET /insight": Use(SIGNED_IN, scope="insight", ok=frozenset({200, 303})),
    "GET /insight.csv": Use(SIGNED_IN, scope="insight", ok=frozenset({200, 303})),
    "GET /insight.pdf": Use(SIGNED_IN, scope="insight", ok=frozenset({200, 303})),
    "POST /groups/{cohort}/{group}/{action}": Use(
        STAFF,
        scope="group",
        ok=ALLOWED_WRITE,
        body={"cycle_id": "{cycle_id}"},  # the group's own member (the path's group), findings with nothing in them
        params={"action": ("schedule", "move", "findings")},
    ),
}
NOT_SIGNED_IN_FIRST = ("GET /signout",)  # ends the session: each caller's last cell
# A page with a form for each kind of caller: its CSRF token is the session's.
FORM_PAGES = {"admin": "/admin/roster", "institution": f"/cycles/{OWN.cycle_id}/self-evaluation/check"} | {
    who: f"/cycles/{OWN.cycle_id}/work/review" for who in ("facilitator", "hub", "lead", "member")
}


def app_routes(app: Any) -> Iterator[tuple[str, str, bool]]:
    """(method, path, in the API description) of every route, through included routers."""

    def walk(routes: list[Any]) -> Iterator[tuple[str, str, bool]]:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes)
            elif getattr(route, "methods", None):
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, route.path, bool(getattr(route, "include_in_schema", False))

    yield from walk(app.routes)


@dataclass
class Cell:
    route: str
    caller: str
    resource: str
    path: str
    status: int
    expected: frozenset[int]
    leak: str | None


@pytest.fixture
async def world(env: WorkflowEnvironment, pool: asyncpg.Pool) -> AsyncIterator[tuple[Any, asyncpg.Pool]]:
    engine = Engine(env, pool)
    app = create_app(
        StackAddresses(temporal_address="unused:7233", database_url="unused"),
        "test-secret",
        sign_in_failures_allowed=10_000,  # every bad-token cell is a failure; the brake has its own test
    )
    app.state.pool, app.state.client = pool, env.client
    async with running_worker(engine.client, pool, engine.task_queue):
        await launch_cohort(engine.client, [OWN, OTHER, OTHER_HUB, *OWN_GROUP, *OTHER_GROUP], engine.task_queue)
        clock = CohortTime(env, START)
        await clock.on(START, time(10))
        for spec in (OWN, OTHER):
            await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())

        async def formed() -> bool:
            groups = [await get_peer_group(pool, "sec-a", "b-pg1"), await get_peer_group(pool, "sec-a-b", "pg1")]
            return None not in groups

        await eventually(formed, "both peer groups projected")
        yield app, pool


def targets(use: Use, resource: str) -> dict[str, str]:
    """The path parameters for the caller's own resource or the other cohort's."""
    own = resource == "own"
    spec, group = (OWN, OWN_GROUP) if own else (OTHER, OTHER_GROUP)
    if use.scope == "group":
        return {"cohort": spec.cohort, "group": group[0].peer_group or "", "cycle_id": group[0].cycle_id}
    return {"cycle_id": spec.cycle_id}


def resources(use: Use) -> tuple[str, ...]:
    if use.scope == "insight":
        return tuple(INSIGHT_QUERIES)
    return ("own", "other") if use.scope in ("cycle", "group") else ("own",)


def in_scope(caller: str, use: Use, resource: str) -> bool:
    if use.scope == "insight":
        return caller not in STAFF or caller in INSIGHT_QUERIES[resource][1]
    if use.scope in ("none", "public") or caller == "admin":
        return True
    if resource != "own":
        return False
    return caller in STAFF if use.scope == "group" else True


def expected(route: str, use: Use, caller: str, resource: str, param: str | None) -> frozenset[int]:
    if use.scope == "public":
        return use.ok
    if caller not in SIGNED_IN:
        return frozenset({401})
    if not in_scope(caller, use, resource):
        return frozenset({404})
    who = use.who[param or ""] if isinstance(use.who, dict) else use.who
    return use.ok if caller in who else frozenset({use.denied})


def readable(response: httpx.Response) -> str:
    """A response's text; a PDF's as pdftotext reads it (the names in a PDF are not in its bytes as written)."""
    if not response.content.startswith(b"%PDF"):
        return response.text
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(response.content)
        pdf.flush()
        read = subprocess.run(["pdftotext", pdf.name, "-"], capture_output=True, check=True, timeout=60)
    return " ".join(read.stdout.decode().split())


def answered_in_kind(path: str, response: httpx.Response) -> str | None:
    """HTML routes answer people with pages, the API answers with JSON (problem details when refused), and every
    answer carries the security headers: what is wrong with this one, if anything."""
    missing = [name for name in SECURITY_HEADERS if name.lower() not in response.headers]
    if missing:
        return f"no {', '.join(missing)}"
    kind = response.headers.get("content-type", "").split(";")[0]
    api = path.startswith("/api/") or path == "/openapi.json"
    if response.status_code >= 400 and api and kind != "application/problem+json":
        return f"a {response.status_code} from the API as {kind}"
    if response.status_code >= 400 and not api and kind != "text/html":
        return f"a {response.status_code} page as {kind}"
    return None


async def clients(app: Any, pool: asyncpg.Pool) -> dict[str, tuple[httpx.AsyncClient, dict[str, str], str]]:
    made = {}
    for name, principal in CALLERS.items():
        made[name] = await client_of(app, pool, name, principal)
    return made


async def client_of(
    app: Any, pool: asyncpg.Pool, name: str, principal: Principal | None
) -> tuple[httpx.AsyncClient, dict[str, str], str]:
    """A browser-like client signed in (or not), its bearer header, and its CSRF token."""
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test")
    headers: dict[str, str] = {}
    csrf = ""
    if principal is not None:
        token = await issue_token(pool, principal)
        assert (await web.get(f"/signin?token={token}")).status_code == 303
        page = await web.get(FORM_PAGES[name])
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        headers = {"Authorization": f"Bearer {token}"}
    elif name == "bad":
        web.cookies.set("cis_session", "forged.cookie.value")
        headers = {"Authorization": "Bearer not-a-token-of-ours"}
    elif name == "revoked":
        token = await issue_token(pool, Principal(role=Role.ADMIN, expires_at=LATER))
        assert (await web.get(f"/signin?token={token}")).status_code == 303
        headers = {"Authorization": f"Bearer {token}"}
        assert await revoke_token(pool, token)
    return web, headers, csrf


async def test_every_route_for_every_caller_on_own_and_other_resources(world: tuple[Any, asyncpg.Pool]) -> None:
    app, pool = world
    openapi = (await clients_openapi(app, pool))["paths"]
    described = {f"{method.upper()} {path}" for path, methods in openapi.items() for method in methods}
    routes = {f"{method} {path}": in_schema for method, path, in_schema in app_routes(app)}
    undeclared = sorted((described | set(routes)) - set(ROUTES))
    assert not undeclared, f"routes with no rule in ROUTES (add each with who may use it): {undeclared}"
    assert described <= {r for r, in_schema in routes.items() if in_schema}, "the API description and the app agree"

    people = await clients(app, pool)
    cells: list[Cell] = []
    misshapen: list[str] = []
    order = [r for r in ROUTES if r not in NOT_SIGNED_IN_FIRST] + list(NOT_SIGNED_IN_FIRST)
    for route in order:
        use = ROUTES[route]
        method, template = route.split(" ", 1)
        param_name = next(iter(use.params), None)
        for param in use.params.get(param_name, (None,)) if param_name else (None,):
            for resource in resources(use):
                values = targets(use, resource) | ({param_name: param} if param_name and param else {})
                path = template.format(**values)
                if use.scope == "insight" and INSIGHT_QUERIES[resource][0]:
                    path += "?" + INSIGHT_QUERIES[resource][0]
                body = {k: v.format(**values) if isinstance(v, str) else v for k, v in use.body.items()}
                for caller, (web, headers, csrf) in people.items():
                    want = expected(route, use, caller, resource, param)
                    if path.startswith("/api/") or route in ("GET /openapi.json",):
                        response = await (
                            web.post(path, json=body, headers=headers)
                            if method == "POST"
                            else web.get(path, headers=headers if path.startswith("/api/") else {})
                        )
                    elif method == "POST":
                        response = await web.post(path, data={"csrf": csrf, **body})
                    else:
                        response = await web.get(path, params=body or None)  # params={} would drop the query
                    allowed = want == use.ok and use.scope != "public"
                    leak = None
                    if not allowed and use.scope != "public" and 200 <= response.status_code < 400:
                        leak = f"{response.status_code} where {sorted(want)} was due"
                    hidden = ([] if caller == "admin" else OTHER_NAMES) + (
                        [] if caller in SEES_OTHER_HUB else [OTHER_HUB.name]
                    )
                    named = [n for n in hidden if n in readable(response)]
                    if named:
                        leak = f"names {named[0]}"
                    cells.append(Cell(route, caller, resource, path, response.status_code, want, leak))
                    shape = answered_in_kind(path, response)
                    if shape:
                        misshapen.append(f"{route} [{path}] {caller}: {shape}")

    leaks = [c for c in cells if c.leak]
    unexpected = [c for c in cells if c.status not in c.expected]
    report = "\n".join(
        f"{c.route} [{c.path}] {c.caller}/{c.resource}: {c.status} (expected {sorted(c.expected)}) {c.leak or ''}"
        for c in (leaks + unexpected)[:40]
    )
    assert not misshapen, "\n".join(misshapen[:20])
    assert len(cells) >= 1000, len(cells)
    assert not leaks and not unexpected, f"{len(leaks)} leaks, {len(unexpected)} unexpected of {len(cells)}:\n{report}"

    # Nor can cohort sec-a's facilitator reach a member of sec-a-b's group through their own group's path.
    web, headers, _ = await client_of(app, pool, "facilitator", CALLERS["facilitator"])
    crafted = await web.post(
        "/api/groups/sec-a/b-pg1/moves",
        json={"cycle_id": OTHER_GROUP[0].cycle_id, "to": "expert_review"},
        headers=headers,
    )
    assert crafted.status_code == 422 and "is not a member of peer group b-pg1" in crafted.json()["detail"]

    # Evaluations shared within a peer group stay in it: a school of sec-a-b's group reaches its own group's page
    # and nothing of sec-a's group (each member's shared evaluations, the group's, the pack), as if none existed.
    outsider = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test")
    token = await issue_token(
        pool, Principal(role=Role.INSTITUTION, cycle_id=OTHER_GROUP[0].cycle_id, expires_at=LATER)
    )
    assert (await outsider.get(f"/signin?token={token}")).status_code == 303
    assert (await outsider.get(f"/cycles/{OTHER_GROUP[0].cycle_id}/peer-evaluations")).status_code == 200
    for path in [f"/cycles/{s.cycle_id}/peer-evaluations" for s in OWN_GROUP] + [
        "/groups/sec-a/b-pg1/evaluations",
        "/groups/sec-a/b-pg1/pack",
        "/groups/sec-a/b-pg1/pack.pdf",
    ]:
        reached = await outsider.get(path)
        assert reached.status_code == 404, (path, reached.status_code)
        assert not any(s.name in reached.text for s in OWN_GROUP), path

    # The insight views above do name institutions: sec-a's facilitator sees its Hub B one, Hub A's facilitator
    # sees the same cohort's figures naming only Hub A's.
    for caller, names_it in (("facilitator", True), ("hub", False)):
        web, headers, _ = await client_of(app, pool, caller, CALLERS[caller])
        rows = (await web.get("/api/insight?cohort=sec-a", headers=headers)).json()["heatmap"]["rows"]
        page = (await web.get("/insight?cohort=sec-a")).text
        for shown in ({r["name"] for r in rows}, page):
            assert OWN.name in shown and (OTHER_HUB.name in shown) is names_it, caller


async def clients_openapi(app: Any, pool: asyncpg.Pool) -> dict[str, Any]:
    """/openapi.json as a signed-in caller reads it."""
    token = await issue_token(pool, CALLERS["institution"] or Principal(role=Role.ADMIN, expires_at=LATER))
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test")
    described: dict[str, Any] = (await web.get("/openapi.json", headers={"Authorization": f"Bearer {token}"})).json()
    return described
