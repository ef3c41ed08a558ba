"""The bad-input catalogue, on the Temporal dev server and a real PostgreSQL: what an attacker or a careless user
sends through the API, the forms, CLI files and roster rows.

Each case must get a clear refusal (a 4xx naming the field, or exit 2 with one line naming it), or be stored and
shown safely; none may answer 500, print a traceback or take over 5 s. After the whole catalogue, Temporal's own
description of every workflow on the server shows no workflow task that failed and no activity attempt beyond
the first: nothing anyone typed jammed a cycle. The memory case (2,000,000 action-plan rows) runs here too,
against the same process that runs the worker, as `cis dev` does.
"""

import asyncio
import json
import os
import re
import sys
import time as clock
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from activities.mail_delivery import SmtpSettings
from cli import runtime
from cli.main import app as cli_app
from domain.access import Principal, Role
from domain.cycle_clock import CycleClock
from domain.cycle_spec import cycle_workflow_id
from domain.events import AppendRequest, CycleWithdrawn, EventMetadata, NewEvent
from domain.london_time import at_london
from domain.schedule import SchedulePolicy, StagePlan
from domain.stages import Stage
from operations import cycles
from operations.cohorts import launch_cohort
from settings import Settings
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from store.database import create_pool
from store.event_store import EventStore
from store.migrations_runner import apply_migrations
from store.read_models import get_cycle_status, get_peer_group, list_cycle_status
from tests import factories
from tests.engine import MAIL
from tests.eventually import eventually
from tests.smtp_server import SmtpServer
from tests.test_peer_groups import group_of
from web.app import create_app
from worker import build_worker
from workflows.search_attributes import ALL_KEYS

BIN = Path(sys.executable).parent
JSON = {"Content-Type": "application/json"}
LATER = datetime.now(UTC) + timedelta(days=30)
START = date(2027, 1, 4)
COHORT = "cat-2027"
LEAD = "lead@cec.example"
FACILITATOR = "hub-lead@hub.example"
# One cycle week a second, and a self-evaluation that stays open for months of that: the cycle sits in
# self-evaluation (due on day 700) for as long as the catalogue takes.
FAST = CycleClock(seconds_per_week=7.0)
LONG_SELF_EVALUATION = SchedulePolicy(
    stages=(
        StagePlan(stage=Stage.ONBOARDING, opens_after_days=0, due_after_days=7),
        StagePlan(stage=Stage.SELF_EVALUATION, opens_after_days=7, due_after_days=700),
        StagePlan(stage=Stage.REVIEW, opens_after_days=700, due_after_days=707),
        StagePlan(stage=Stage.REPORT, opens_after_days=707, due_after_days=714),
        StagePlan(stage=Stage.ACTION_PLANNING, opens_after_days=714, due_after_days=721),
        StagePlan(stage=Stage.RE_EVALUATION, opens_after_days=728, due_after_days=735),
    ),
    closing_after_days=800,
)
ONB = factories.cycle_spec(
    urn="500001", cohort=COHORT, start=START, review_lead_email=LEAD, careers_hub="Hub C", search_attributes=True
)
SE = factories.cycle_spec(
    urn="500002", cohort=COHORT, start=START, clock=FAST, policy=LONG_SELF_EVALUATION, search_attributes=True
)
GROUP = [
    s.model_copy(update={"cohort": COHORT, "peer_group": "g1", "careers_hub": "Hub C", "search_attributes": True})
    for s in group_of(3, first_urn=500010)
]
BROKEN = factories.cycle_spec(urn="500099", cohort=COHORT, start=START, search_attributes=True)
FIRST = factories.SCHOOLS_MODEL.indicator_ids()[0]
NOT_FOUND = frozenset({404})
HEADER = "urn,name,phase,region,careers_hub,trust,review_type,peer_group,facilitator_email,careers_leader_email"


@dataclass
class Answer:
    status: int
    text: str
    seconds: float
    html: bool = False


@dataclass
class World:
    app: Any
    pool: asyncpg.Pool
    client: Client
    env: dict[str, str]
    files: Path
    tokens: dict[str, str] = field(default_factory=dict)
    pages: dict[str, tuple[httpx.AsyncClient, str]] = field(default_factory=dict)
    cli_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))

    @property
    def cli_env(self) -> dict[str, str | None]:
        return {k: v for k, v in self.env.items() if k.startswith("CIS_")}

    def web(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://cis.test", timeout=30)


Send = Callable[[World], Awaitable[Answer]]


@dataclass(frozen=True)
class Case:
    name: str
    send: Send
    names: str  # what the refusal must say: the field, or the rule in a person's words
    statuses: frozenset[int] = frozenset({422})


async def _timed(call: Awaitable[httpx.Response]) -> Answer:
    started = clock.monotonic()
    response = await call
    html = response.headers.get("content-type", "").startswith("text/html")
    return Answer(response.status_code, response.text, clock.monotonic() - started, html)


def api(method: str, path: str | Callable[[], str], who: str, **request: Any) -> Send:
    async def send(world: World) -> Answer:
        url = path() if callable(path) else path
        headers = {"Authorization": f"Bearer {world.tokens[who]}", **request.pop("headers", {})}
        async with world.web() as web:
            return await _timed(web.request(method, url, headers=headers, **request))

    return send


def page(method: str, path: str, who: str, data: dict[str, Any] | None = None, **request: Any) -> Send:
    async def send(world: World) -> Answer:
        web, csrf = world.pages[who]
        if method == "GET":
            return await _timed(web.get(path, **request))
        return await _timed(web.post(path, data={"csrf": csrf, **(data or {})}, **request))

    return send


def _materialised(world: World, args: tuple[str, ...], file: tuple[str, bytes] | None) -> list[str]:
    """The case's file written (b"<folder>": a folder made), and its path put where the arguments say FILE."""
    if file is not None and not (world.files / file[0]).exists():
        if file[1] == b"<folder>":
            (world.files / file[0]).mkdir()
        else:
            (world.files / file[0]).write_bytes(file[1])
    return [str(world.files / file[0]) if a == "FILE" and file else a for a in args]


def cli(*args: str, file: tuple[str, bytes] | None = None) -> Send:
    async def send(world: World) -> Answer:
        argv = _materialised(world, args, file)
        async with world.cli_gate:
            started = clock.monotonic()
            process = await asyncio.create_subprocess_exec(
                str(BIN / "cis"),
                *argv,
                env=world.env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await process.communicate()
        # What a person reads: stderr (refusals go there; stdout is for results).
        return Answer(process.returncode or 0, err.decode(errors="replace"), clock.monotonic() - started)

    send.in_a_process = True  # type: ignore[attr-defined]
    return send


def cli_here(*args: str, file: tuple[str, bytes] | None = None) -> Send:
    """The same `cis` command in this process (its exit made an exception instead of os._exit): a real process
    per case would cost seconds each; a few cases above run as real processes to show the binary's face."""

    async def send(world: World) -> Answer:
        argv = _materialised(world, args, file)
        started = clock.monotonic()
        result = await asyncio.to_thread(CliRunner(env=world.cli_env).invoke, cli_app, argv)
        text = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            text += "Traceback: " + repr(result.exception)
        return Answer(result.exit_code, text, clock.monotonic() - started)

    return send


def roster(*rows: str, cohort: str = "cat-roster", start: str = "", raw: bytes | None = None) -> Send:
    body = raw if raw is not None else ("\n".join([HEADER, *rows]) + "\n").encode()

    # The start date as GOV.UK's date input sends it: three boxes, or what was typed in the first.
    year, _, rest = start.partition("-")
    month, _, day = rest.partition("-")
    when = {"start-day": day, "start-month": month, "start-year": year} if rest else {"start-day": start}

    async def send(world: World) -> Answer:
        web, csrf = world.pages["admin"]
        files = {"roster": ("roster.csv", body, "text/csv")}
        return await _timed(web.post("/admin/roster", data={"csrf": csrf, "cohort": cohort, **when}, files=files))

    return send


def row(urn: str, name: str = "School", group: str = "", hub: str = "Hub C", review: str = "expert") -> str:
    facilitator = FACILITATOR if review == "peer" else ""
    cells = [urn, name, "secondary", "North", hub, "", review, group, facilitator, f"c{urn}@school.example"]
    return ",".join(f'"{c}"' if any(x in c for x in ',"\n\r') else c for c in (c.replace('"', '""') for c in cells))


def onboarding_with(**contact: str) -> dict[str, Any]:
    data = factories.onboarding()
    data["contacts"]["careers_leader"].update(contact)
    return data


def evaluation_with(**rating: Any) -> dict[str, Any]:
    data = factories.evaluation()
    data["ratings"][0].update(rating)
    return data


def nested(depth: int) -> dict[str, Any]:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return {"contacts": value}


def se(kind: str = "self-evaluation") -> str:
    return f"/api/cycles/{SE.cycle_id}/submissions/{kind}"


ONB_SUBMIT = f"/api/cycles/{ONB.cycle_id}/submissions/onboarding"
STAFF = f"/api/cycles/{ONB.cycle_id}"
GROUP_API = f"/api/groups/{COHORT}/g1"
LEVEL = f"level-{FIRST}"
THEME_PAGE = f"/cycles/{SE.cycle_id}/self-evaluation/themes/{factories.SCHOOLS_MODEL.themes[0].id}"
EVIDENCE = f"evidence-{FIRST}"


def form_evaluation(**fields: str) -> dict[str, str]:
    """The first theme's page, filled in, then spoilt by `fields`."""
    ids = [i.id for i in factories.SCHOOLS_MODEL.themes[0].indicators]
    values = {f"level-{i}": "2" for i in ids} | {f"evidence-{i}": "minutes and survey" for i in ids}
    return values | {"action": "next"} | fields


CASES: list[Case] = [
    # ----- API bodies: onboarding (the institution, onboarding open) -----
    Case("contact name with NUL", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(name="Sam\x00Patel")), "name"),
    Case("contact name with CR LF", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(name="Sam\r\nPatel")), "name"),
    Case("contact name with a tab", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(name="Sam\tPatel")), "name"),
    Case("contact name 300 long", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(name="S" * 300)), "name"),
    Case("contact name with ESC", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(name="Sam\x1b[2J")), "name"),
    Case("contact name U+2028", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(name="Sam\u2028P")), "name"),
    Case(
        "lone surrogate in a name",
        api(
            "POST",
            ONB_SUBMIT,
            "onb",
            content=b'{"contacts": {"careers_leader": {"name": "\\ud800", "email": "a@b.co"}}}',
            headers=JSON,
        ),
        "not valid Unicode",
    ),
    Case(
        "email with CR LF", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(email="a@b.example\r\nBcc: x")), "email"
    ),
    Case("email with NUL", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(email="a\x00@b.example")), "email"),
    Case(
        "email 400 long", api("POST", ONB_SUBMIT, "onb", json=onboarding_with(email="a" * 390 + "@b.example")), "email"
    ),
    Case("unknown field", api("POST", ONB_SUBMIT, "onb", json=factories.onboarding() | {"score": 9}), "score"),
    Case(
        "acknowledged as text",
        api("POST", ONB_SUBMIT, "onb", json=factories.onboarding() | {"timeline_acknowledged": "maybe"}),
        "timeline_acknowledged",
    ),
    Case("contacts as a list", api("POST", ONB_SUBMIT, "onb", json={"contacts": [1, 2]}), "contacts"),
    Case("JSON 15 deep", api("POST", ONB_SUBMIT, "onb", json=nested(15)), "nested"),
    Case(
        "JSON 100,000 deep",
        api(
            "POST",
            ONB_SUBMIT,
            "onb",
            content=b"[" * 100_000 + b"]" * 100_000,
            headers={"Content-Type": "application/json"},
        ),
        "body",
        frozenset({400, 413, 422}),
    ),
    Case(
        "malformed JSON",
        api("POST", ONB_SUBMIT, "onb", content=b'{"contacts": ', headers=JSON),
        "JSON",
        frozenset({400, 422}),
    ),
    Case("a JSON array", api("POST", ONB_SUBMIT, "onb", json=[1, 2]), "dictionary"),
    Case(
        "a 5 MB body",
        api("POST", ONB_SUBMIT, "onb", content=b"{" + b" " * 5_000_000 + b"}", headers=JSON),
        "256 KB",
        frozenset({413}),
    ),
    Case(
        "a 300 KB string",
        api("POST", ONB_SUBMIT, "onb", json=onboarding_with(name="x" * 300_000)),
        "256 KB",
        frozenset({413}),
    ),
    Case(
        "a kind that does not exist",
        api("POST", f"/api/cycles/{ONB.cycle_id}/submissions/essay", "onb", json={}),
        "kind",
    ),
    Case("a kind with NUL", api("POST", f"/api/cycles/{ONB.cycle_id}/submissions/self%00", "onb", json={}), "kind"),
    Case(
        "a stage not open yet",
        api("POST", f"/api/cycles/{ONB.cycle_id}/submissions/self-evaluation", "onb", json=factories.evaluation()),
        "self-evaluation",
    ),
    # ----- API bodies: the self-evaluation (open) -----
    Case("evidence with NUL", api("POST", se(), "se", json=evaluation_with(evidence="minutes\x00")), "evidence"),
    Case("evidence with BEL", api("POST", se(), "se", json=evaluation_with(evidence="a\x07b")), "evidence"),
    Case("evidence 4001 long", api("POST", se(), "se", json=evaluation_with(evidence="e" * 4001)), "evidence"),
    Case("level abc", api("POST", se(), "se", json=evaluation_with(level="abc")), "level"),
    Case("level 1e9", api("POST", se(), "se", json=evaluation_with(level=1e9)), "level"),
    Case("level -1", api("POST", se(), "se", json=evaluation_with(level=-1)), "level"),
    Case("level 2.5", api("POST", se(), "se", json=evaluation_with(level=2.5)), "level"),
    Case("indicator with CR LF", api("POST", se(), "se", json=evaluation_with(indicator_id="a\r\nb")), "indicator_id"),
    Case("what changed with NUL", api("POST", se(), "se", json=evaluation_with(what_changed="\x00")), "what_changed"),
    Case("201 ratings", api("POST", se(), "se", json={"ratings": [evaluation_with()["ratings"][0]] * 201}), "ratings"),
    Case("no ratings", api("POST", se(), "se", json={"ratings": []}), "ratings"),
    Case(
        "31 contributors",
        api("POST", se(), "se", json=factories.evaluation() | {"contributors": ["x"] * 31}),
        "contributors",
    ),
    Case(
        "contributor with CR",
        api("POST", se(), "se", json=factories.evaluation() | {"contributors": ["a\rb"]}),
        "contributors",
    ),
    Case(
        "theme unknown",
        api("POST", se(), "se", json=factories.evaluation() | {"theme_levels": [{"theme_id": "nope", "level": 2}]}),
        "theme_levels",
    ),
    Case(
        "action plan due 9999",
        api(
            "POST",
            se("action-plan"),
            "se",
            json=factories.action_plan(due=date(2027, 6, 1)) | {"actions": [{"due": "9999-12-31"}]},
        ),
        "action-plan",
    ),
    Case("check-in before any", api("POST", se("check-in"), "se", json=factories.check_in({"A1": "done"})), "check-in"),
    # ----- API bodies: CEC's changes (admin) and the lead's -----
    Case(
        "extend to 9999",
        api("POST", f"{STAFF}/extend", "admin", json={"stage": "onboarding", "to": "9999-12-31"}),
        "to",
    ),
    Case(
        "extend to 1900",
        api("POST", f"{STAFF}/extend", "admin", json={"stage": "onboarding", "to": "1900-01-01"}),
        "to",
    ),
    Case(
        "extend a year",
        api("POST", f"{STAFF}/extend", "admin", json={"stage": "onboarding", "to": "2027-12-01"}),
        "26 weeks",
    ),
    Case("extend to abc", api("POST", f"{STAFF}/extend", "admin", json={"stage": "onboarding", "to": "abc"}), "to"),
    Case(
        "extend a holiday",
        api("POST", f"{STAFF}/extend", "admin", json={"stage": "holiday", "to": "2027-02-01"}),
        "stage",
    ),
    Case(
        "extend reason NUL",
        api("POST", f"{STAFF}/extend", "admin", json={"stage": "onboarding", "to": "2027-02-01", "reason": "a\x00"}),
        "reason",
    ),
    Case(
        "extend reason CR LF",
        api("POST", f"{STAFF}/extend", "admin", json={"stage": "onboarding", "to": "2027-02-01", "reason": "a\r\nb"}),
        "reason",
    ),
    Case("withdraw reason NUL", api("POST", f"{STAFF}/withdraw", "admin", json={"reason": "closing\x00"}), "reason"),
    Case("withdraw reason CR LF", api("POST", f"{STAFF}/withdraw", "admin", json={"reason": "a\r\nBcc: x"}), "reason"),
    Case("withdraw reason 600", api("POST", f"{STAFF}/withdraw", "admin", json={"reason": "r" * 600}), "reason"),
    Case("withdraw reason blank", api("POST", f"{STAFF}/withdraw", "admin", json={"reason": "  "}), "reason"),
    Case("withdraw without reason", api("POST", f"{STAFF}/withdraw", "admin", json={}), "reason"),
    Case(
        "reassign email CR LF",
        api("POST", f"{STAFF}/reassign", "admin", json={"role": "facilitator", "email": "a@b.example\r\nBcc: c@d.e"}),
        "email",
    ),
    Case(
        "reassign email NUL",
        api("POST", f"{STAFF}/reassign", "admin", json={"role": "facilitator", "email": "a\x00@b.example"}),
        "email",
    ),
    Case(
        "reassign CEC", api("POST", f"{STAFF}/reassign", "admin", json={"role": "cec", "email": "a@b.example"}), "role"
    ),
    Case("review team lead bad", api("POST", f"{STAFF}/review-team", "admin", json={"lead": "not an email"}), "lead"),
    Case(
        "review team 21",
        api(
            "POST",
            f"{STAFF}/review-team",
            "admin",
            json={"lead": LEAD, "members": [f"m{n}@cec.example" for n in range(21)]},
        ),
        "members",
    ),
    Case(
        "review team member CR",
        api("POST", f"{STAFF}/review-team", "admin", json={"lead": LEAD, "members": ["a@b\r.example"]}),
        "members",
    ),
    Case("review day 9999", api("POST", f"{STAFF}/review-day", "lead", json={"on": "9999-12-31"}), "on"),
    Case(
        "review day 25:00",
        api("POST", f"{STAFF}/review-day", "lead", json={"on": "2027-02-01", "start": "25:00"}),
        "start",
    ),
    # ----- API paths -----
    Case("cycle id NUL", api("GET", "/api/cycles/%00", "admin"), "no cycle", frozenset({404})),
    Case("cycle id 300 long", api("GET", "/api/cycles/" + "1" * 300, "admin"), "no cycle", frozenset({404})),
    Case("cycle id dots", api("GET", "/api/cycles/%2e%2e%2f%2e%2e%2fetc", "admin"), "Not Found", frozenset({404})),
    Case("timeline of NUL", api("GET", "/api/cycles/%00/timeline.ics", "admin"), "no cycle", frozenset({404})),
    Case("group cohort bad", api("GET", "/api/groups/Bad%20Cohort!/g1", "admin"), "no peer group", frozenset({404})),
    Case("group NUL", api("GET", f"/api/groups/{COHORT}/%00", "admin"), "no peer group", frozenset({404})),
    Case("findings for NUL", api("POST", f"{GROUP_API}/findings/%00", "admin", json={}), "no member", frozenset({404})),
    # ----- a cohort whose id starts another's: cat's facilitator reaches nothing of cat-2027 (defect 2) -----
    Case("prefix reads the group", api("GET", "/api/groups/cat/2027-g1", "prefix"), "no peer group", NOT_FOUND),
    Case("prefix reads the group dotted", api("GET", "/api/groups/cat/2027.g1", "prefix"), "no peer group", NOT_FOUND),
    Case("prefix reads by its path", api("GET", GROUP_API, "prefix"), "no peer group", NOT_FOUND),
    Case(
        "prefix moves a member",
        api(
            "POST",
            "/api/groups/cat/2027-g1/moves",
            "prefix",
            json={"cycle_id": GROUP[0].cycle_id, "to": "expert_review"},
        ),
        "no peer group",
        NOT_FOUND,
    ),
    Case(
        "prefix starts a group",
        api(
            "POST",
            f"{GROUP_API}/moves",
            "prefix",
            json={"cycle_id": GROUP[0].cycle_id, "to": "later_group", "later_group": "g9"},
        ),
        "no peer group",
        NOT_FOUND,
    ),
    Case(
        "prefix schedules a meeting",
        api("POST", f"{GROUP_API}/meeting", "prefix", json={"on": "2027-02-10", "start": "09:30"}),
        "no peer group",
        NOT_FOUND,
    ),
    Case("prefix opens the page", page("GET", "/groups/cat/2027-g1", "prefix"), "no peer group", NOT_FOUND),
    Case("prefix reads a member", api("GET", f"/api/cycles/{GROUP[0].cycle_id}", "prefix"), "no cycle", NOT_FOUND),
    # ----- API bodies: the peer group (its facilitator) -----
    Case(
        "meeting on 9999",
        api("POST", f"{GROUP_API}/meeting", "facilitator", json={"on": "9999-12-31", "start": "09:30"}),
        "on",
    ),
    Case("meeting on abc", api("POST", f"{GROUP_API}/meeting", "facilitator", json={"on": "abc", "start": "9"}), "on"),
    Case(
        "meeting 31 themes",
        api(
            "POST",
            f"{GROUP_API}/meeting",
            "facilitator",
            json={"on": "2027-02-10", "start": "09:30", "themes_in_scope": ["t"] * 31},
        ),
        "themes_in_scope",
    ),
    Case(
        "meeting theme NUL",
        api(
            "POST",
            f"{GROUP_API}/meeting",
            "facilitator",
            json={"on": "2027-02-10", "start": "09:30", "themes_in_scope": ["\x00"]},
        ),
        "themes_in_scope",
    ),
    Case(
        "meeting slot 1e9",
        api(
            "POST",
            f"{GROUP_API}/meeting",
            "facilitator",
            json={"on": "2027-02-10", "start": "09:30", "slot_minutes": 1e9},
        ),
        "slot_minutes",
    ),
    Case(
        "move to a bad group",
        api(
            "POST",
            f"{GROUP_API}/moves",
            "facilitator",
            json={"cycle_id": GROUP[0].cycle_id, "to": "later_group", "later_group": "Bad Group!"},
        ),
        "later_group",
    ),
    Case(
        "move to a dotted group",
        api(
            "POST",
            f"{GROUP_API}/moves",
            "facilitator",
            json={"cycle_id": GROUP[0].cycle_id, "to": "later_group", "later_group": "a.b"},
        ),
        "later_group",
    ),
    Case(
        "move reason CR LF",
        api(
            "POST",
            f"{GROUP_API}/moves",
            "facilitator",
            json={"cycle_id": GROUP[0].cycle_id, "to": "expert_review", "reason": "a\r\nb"},
        ),
        "reason",
    ),
    Case(
        "move a made-up member",
        api("POST", f"{GROUP_API}/moves", "facilitator", json={"cycle_id": "../etc", "to": "expert_review"}),
        "cycle_id",
    ),
    Case(
        "move cut-off 9999",
        api(
            "POST",
            f"{GROUP_API}/moves",
            "facilitator",
            json={
                "cycle_id": GROUP[0].cycle_id,
                "to": "later_group",
                "later_group": "g2",
                "later_cut_off": "9999-12-31",
            },
        ),
        "later_cut_off",
    ),
    Case(
        "findings nested deep",
        api("POST", f"{GROUP_API}/findings/{GROUP[0].cycle_id}", "facilitator", json=nested(15)),
        "nested",
    ),
    Case(
        "findings before meeting",
        api("POST", f"{GROUP_API}/findings/{GROUP[0].cycle_id}", "facilitator", json=factories.review_findings()),
        "findings",
    ),
    # ----- pages: queries -----
    Case("dashboard stage NUL", page("GET", "/dashboard?stage=%00", "admin"), "stage"),
    Case("dashboard huge page", page("GET", "/dashboard?page=99999999999999999999", "admin"), "page"),
    Case("dashboard page 0", page("GET", "/dashboard?page=0", "admin"), "page"),
    Case("dashboard page abc", page("GET", "/dashboard?page=abc", "admin"), "page"),
    Case("dashboard cohort path", page("GET", "/dashboard?cohort=..%2F..%2Fetc", "admin"), "cohort"),
    Case("dashboard hub 300", page("GET", "/dashboard?hub=" + "h" * 300, "admin"), "hub"),
    Case("dashboard review x", page("GET", "/dashboard?review_type=x", "admin"), "review_type"),
    Case("dashboard sort NUL", page("GET", "/dashboard?sort=%00", "admin"), "main-content", frozenset({200})),
    Case("csv stage NUL", page("GET", "/dashboard.csv?stage=%00", "admin"), "stage"),
    Case("cycle page NUL", page("GET", "/cycles/%00", "admin"), "no cycle", frozenset({404})),
    Case("group page NUL", page("GET", "/groups/sec%00/x", "admin"), "no peer group", frozenset({404})),
    Case("sign-in token NUL", page("GET", "/signin?token=%00", "anonymous"), "does not work", frozenset({401})),
    Case("sign-in token 300", page("GET", "/signin?token=" + "t" * 300, "anonymous"), "token"),
    Case(
        "opt-out NUL",
        page("GET", "/mail/nudges-off?cycle=%00&to=%00&token=x", "anonymous"),
        "not valid",
        frozenset({404}),
    ),
    Case("opt-out missing", page("GET", "/mail/nudges-off", "anonymous"), "cycle"),
    # ----- pages: form posts -----
    Case("rows abc", page("POST", f"/cycles/{SE.cycle_id}/work/action-plan", "se", {"rows": "abc"}), "rows"),
    Case("rows 30000", page("POST", f"/cycles/{SE.cycle_id}/work/action-plan", "se", {"rows": "30000"}), "rows"),
    Case("rows 2000000", page("POST", f"/cycles/{SE.cycle_id}/work/action-plan", "se", {"rows": "2000000"}), "rows"),
    Case("rows -1", page("POST", f"/cycles/{SE.cycle_id}/work/action-plan", "se", {"rows": "-1"}), "rows"),
    Case(
        "rows huge and more",
        page("POST", f"/cycles/{SE.cycle_id}/work/action-plan", "se", {"rows": "9" * 40, "action": "more"}),
        "rows",
    ),
    Case(
        "form level abc",
        page("POST", THEME_PAGE, "se", form_evaluation(**{LEVEL: "abc"})),
        "level",
    ),
    Case(
        "form level 1e9",
        page("POST", THEME_PAGE, "se", form_evaluation(**{LEVEL: "1e9"})),
        "level",
    ),
    Case(
        "form evidence NUL",
        page("POST", THEME_PAGE, "se", form_evaluation(**{EVIDENCE: "minutes\x00"})),
        "U+0000",
    ),
    Case(
        "draft evidence NUL",
        page("POST", THEME_PAGE, "se", form_evaluation(**{EVIDENCE: "minutes\x00", "action": "later"})),
        "U+0000",
    ),
    Case(
        "form 40 contributors",
        page("POST", f"/cycles/{SE.cycle_id}/self-evaluation", "se", {"contributors": ",".join(["x"] * 40)}),
        "Who contributed",
    ),
    Case(
        "form body 300 KB",
        page("POST", THEME_PAGE, "se", form_evaluation(**{EVIDENCE: "e" * 300_000})),
        "256 KB",
        frozenset({413}),
    ),
    Case(
        "onboarding name CR LF",
        page(
            "POST",
            f"/cycles/{ONB.cycle_id}/work/onboarding",
            "onb",
            {
                "careers_leader-name": "Sam\r\nPatel",
                "careers_leader-email": "a@b.example",
                "senior_leader-name": "Al",
                "senior_leader-email": "h@b.example",
                "timeline_acknowledged": "yes",
            },
        ),
        "one line",
    ),
    Case(
        "onboarding email NUL",
        page(
            "POST",
            f"/cycles/{ONB.cycle_id}/work/onboarding",
            "onb",
            {
                "careers_leader-name": "Sam",
                "careers_leader-email": "a\x00@b.example",
                "senior_leader-name": "Al",
                "senior_leader-email": "h@b.example",
                "timeline_acknowledged": "yes",
            },
        ),
        "email",
    ),
    Case(
        "admin extend 9999",
        page(
            "POST",
            f"/cycles/{ONB.cycle_id}/admin/extend",
            "admin",
            {"stage": "onboarding", "to": "9999-12-31", "reason": "x"},
        ),
        "to",
    ),
    Case(
        "admin extend abc",
        page(
            "POST", f"/cycles/{ONB.cycle_id}/admin/extend", "admin", {"stage": "onboarding", "to": "abc", "reason": "x"}
        ),
        "to",
    ),
    Case(
        "admin withdraw NUL",
        page("POST", f"/cycles/{ONB.cycle_id}/admin/withdraw", "admin", {"reason": "closing\x00"}),
        "reason",
    ),
    Case(
        "admin reassign CR LF",
        page(
            "POST",
            f"/cycles/{ONB.cycle_id}/admin/reassign",
            "admin",
            {"role": "facilitator", "email": "a@b.example\r\nBcc: x"},
        ),
        "email",
    ),
    Case(
        "review day form 9999", page("POST", f"/cycles/{ONB.cycle_id}/review-day", "lead", {"on": "9999-12-31"}), "date"
    ),
    Case(
        "group move bad group",
        page(
            "POST",
            f"/groups/{COHORT}/g1/move",
            "facilitator",
            {"cycle_id": GROUP[0].cycle_id, "to": "later_group", "later_group": "Bad!"},
        ),
        "later_group",
    ),
    Case(
        "group findings bad id",
        page("POST", f"/groups/{COHORT}/g1/findings", "facilitator", {"cycle_id": "x\x00", "strengths": "a"}),
        "is not in this group",
        frozenset({404}),
    ),
    # ----- roster rows (CEC's upload) -----
    Case("cohort Bad Cohort!", roster(row("510001"), cohort="Bad Cohort!"), "cohort"),
    Case("cohort ../../etc", roster(row("510001"), cohort="../../etc"), "cohort"),
    Case("cohort 300 long", roster(row("510001"), cohort="c" * 300), "cohort"),
    Case("cohort with NUL", roster(row("510001"), cohort="c\x00"), "cohort"),
    Case("start 9999", roster(row("510001"), start="9999-12-31"), "start"),
    Case("start 1900", roster(row("510001"), start="1900-01-01"), "start"),
    Case("start abc", roster(row("510001"), start="abc"), "start"),
    Case("start outside the calendar", roster(row("510001"), start="2031-09-01"), "outside the school calendar"),
    Case("roster not UTF-8", roster(raw=b"\xff\xfe\x00b\x00i\x00n"), "UTF-8"),
    # A national roster is allowed up to 16 MB (web/body_limit.py); past that, refused before it is read.
    Case("roster 17 MB", roster(raw=b"x" * 17_000_000), "16 MB", frozenset({413})),
    Case("name with NUL", roster(row("510002", name="Nul\x00School")), "U+0000"),
    Case("name 300 long", roster(row("510003", name="N" * 300)), "name"),
    Case("urn with NUL", roster(row("51000\x004")), "urn"),
    Case("group with a dot", roster(*(row(f"51001{n}", group="g.1", review="peer") for n in range(3))), "peer_group"),
    Case(
        "group across hubs",
        roster(*(row(f"51002{n}", group="g2", review="peer", hub=f"Hub {n % 2}") for n in range(3))),
        "careers_hub",
    ),
    Case("a header only", roster(), "roster"),
    Case("columns of a spreadsheet", roster(raw=b"a;b;c\n1;2;3\n"), "semicolons"),
    # ----- CLI files and options: exit 2, one line, no traceback -----
    Case(
        "cli binary file",
        cli("submit", ONB.cycle_id, "onboarding", "FILE", file=("bin.json", bytes(range(256)))),
        "UTF-8",
        frozenset({2}),
    ),
    Case(
        "cli 100,000 deep",
        cli("submit", ONB.cycle_id, "onboarding", "FILE", file=("deep.json", b"[" * 100_000 + b"]" * 100_000)),
        "deep",
        frozenset({2}),
    ),
    Case(
        "cli JSON 15 deep",
        cli_here("submit", ONB.cycle_id, "onboarding", "FILE", file=("nested.json", json.dumps(nested(15)).encode())),
        "nested",
        frozenset({2}),
    ),
    Case(
        "cli a folder",
        cli_here("submit", ONB.cycle_id, "onboarding", "FILE", file=("folder", b"<folder>")),
        "folder",
        frozenset({2}),
    ),
    Case(
        "cli a 300 KB file",
        cli_here("submit", ONB.cycle_id, "onboarding", "FILE", file=("big.json", b" " * 300_000)),
        "256 KB",
        frozenset({2}),
    ),
    Case(
        "cli NUL in a name",
        cli_here(
            "submit",
            ONB.cycle_id,
            "onboarding",
            "FILE",
            file=("nul.json", json.dumps(onboarding_with(name="Sam\x00")).encode()),
        ),
        "name",
        frozenset({2}),
    ),
    Case(
        "cli a JSON array",
        cli_here("submit", ONB.cycle_id, "onboarding", "FILE", file=("list.json", b"[1]")),
        "object",
        frozenset({2}),
    ),
    Case(
        "cli start 9999",
        cli(
            "cycle",
            "start",
            "--urn",
            "520001",
            "--name",
            "X",
            "--phase",
            "secondary",
            "--review",
            "expert",
            "--cohort",
            COHORT,
            "--start",
            "9999-12-01",
        ),
        "--start",
        frozenset({2}),
    ),
    Case(
        "cli start 1900",
        cli_here(
            "cycle",
            "start",
            "--urn",
            "520002",
            "--name",
            "X",
            "--phase",
            "secondary",
            "--review",
            "expert",
            "--cohort",
            COHORT,
            "--start",
            "1900-01-01",
        ),
        "--start",
        frozenset({2}),
    ),
    Case(
        "cli cohort bad",
        cli_here(
            "cycle",
            "start",
            "--urn",
            "520003",
            "--name",
            "X",
            "--phase",
            "secondary",
            "--review",
            "expert",
            "--cohort",
            "Bad Cohort!",
        ),
        "--cohort",
        frozenset({2}),
    ),
    Case(
        "cli name with a line break",
        cli_here(
            "cycle",
            "start",
            "--urn",
            "520004",
            "--name",
            "X\nY",
            "--phase",
            "secondary",
            "--review",
            "expert",
            "--cohort",
            COHORT,
            "--start",
            "2027-01-04",
        ),
        "name",
        frozenset({2}),
    ),
    Case(
        "cli launch a folder",
        cli("cohort", "launch", "FILE", "--cohort", COHORT, file=("rosters", b"<folder>")),
        "folder",
        frozenset({2}),
    ),
    Case(
        "cli launch start 9999",
        cli_here(
            "cohort",
            "launch",
            "FILE",
            "--cohort",
            COHORT,
            "--start",
            "9999-12-31",
            file=("ok.csv", f"{HEADER}\n{row('530001')}\n".encode()),
        ),
        "--start",
        frozenset({2}),
    ),
    Case(
        "cli launch cohort path",
        cli_here(
            "cohort",
            "launch",
            "FILE",
            "--cohort",
            "../../etc",
            file=("ok2.csv", f"{HEADER}\n{row('530002')}\n".encode()),
        ),
        "--cohort",
        frozenset({2}),
    ),
    Case(
        "cli launch binary",
        cli_here("cohort", "launch", "FILE", "--cohort", COHORT, file=("bin.csv", b"\xff\xfe\x00")),
        "UTF-8",
        frozenset({2}),
    ),
    Case(
        "cli launch NUL row",
        cli_here(
            "cohort",
            "launch",
            "FILE",
            "--cohort",
            COHORT,
            file=("nul.csv", f"{HEADER}\n{row('530003', name='A\x00B')}\n".encode()),
        ),
        "U+0000",
        frozenset({2}),
    ),
    Case(
        "cli extend 9999",
        cli_here("cycle", "extend", ONB.cycle_id, "--stage", "onboarding", "--to", "9999-12-31"),
        "to",
        frozenset({2}),
    ),
    Case(
        "cli extend abc",
        cli_here("cycle", "extend", ONB.cycle_id, "--stage", "onboarding", "--to", "abc"),
        "--to",
        frozenset({2}),
    ),
    Case(
        "cli withdraw ESC", cli_here("cycle", "withdraw", ONB.cycle_id, "--reason", "a\x1bb"), "reason", frozenset({2})
    ),
    Case(
        "cli reviewer nameless",
        cli_here("token", "issue", "--role", "reviewer", "--cycle", ONB.cycle_id),
        "--email",
        frozenset({2}),
    ),
    Case(
        "cli token cohort bad",
        cli_here("token", "issue", "--role", "facilitator", "--cohort", "Bad!"),
        "--cohort",
        frozenset({2}),
    ),
    Case(
        "cli review day 9999",
        cli_here("review", "day", ONB.cycle_id, "--on", "9999-12-31", "--as", LEAD),
        "on",
        frozenset({2}),
    ),
    Case(
        "cli move to a dotted group",
        cli_here("group", "move", COHORT, "g1", GROUP[0].cycle_id, "--to", "later_group", "--later-group", "a.b"),
        "later_group",
        frozenset({2}),
    ),
]

# Stored and shown safely: each becomes a cycle whose name, page, timeline and export are safe to read.
SAFE_ROSTER = [
    row("540001", name="The Old Grammar\r\nSixth Form"),
    row("540002", name='=HYPERLINK("http://evil.example","Click")'),
    row("540003", name="+44 School"),
    row("540004", name="@SUM(1+1) Academy"),
    *(row(f"54001{n}", name=f"Peer {n}", group="Group A", review="peer") for n in range(3)),
]


@pytest.fixture(scope="module")
async def world(postgres_server_uri: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_uri)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = postgres_server_uri.replace("/postgres?", f"/{name}?")
    await apply_migrations(url)
    pool = await create_pool(url, min_size=1, max_size=8)
    smtp = SmtpServer()
    smtp.start()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=ALL_KEYS,
        ui=False,
    )
    queue = f"catalogue-{uuid.uuid4().hex[:8]}"
    files = tmp_path_factory.mktemp("catalogue")
    settings = Settings(task_queue=queue, secret_key="catalogue-secret", data_dir=files, search_attributes=True)
    app = create_app(
        StackAddresses(temporal_address="unused:7233", database_url="unused"),
        "catalogue-secret",
        settings=settings,
        sign_in_failures_allowed=10_000,
    )
    app.state.pool, app.state.client = pool, env.client
    cli_env = {
        **os.environ,
        "CIS_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "CIS_DATABASE_URL": url,
        "CIS_TASK_QUEUE": queue,
        "CIS_SECRET_KEY": "catalogue-secret",
        "CIS_DATA_DIR": str(files),
    }
    smtp_settings = SmtpSettings(host="127.0.0.1", port=smtp.port, timeout_seconds=5)
    try:
        with _in_process_exits():
            async with build_worker(env.client, pool, queue, smtp=smtp_settings, mail=MAIL):
                world = World(app=app, pool=pool, client=env.client, env=cli_env, files=files)
                await _prepare(world, queue)
                yield world
    finally:
        await env.shutdown()
        smtp.stop()
        await pool.close()
        admin = await asyncpg.connect(postgres_server_uri)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextmanager
def _in_process_exits() -> Iterator[None]:
    """`cis` ends its process with os._exit (see cli/runtime.py); run in this one, it raises SystemExit instead."""

    def leave(code: int) -> NoReturn:
        raise SystemExit(code)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime, "_leave", leave)
        yield


async def _prepare(world: World, queue: str) -> None:
    await launch_cohort(world.client, [ONB, SE, *GROUP], queue)
    await eventually(lambda: _stage_is(world, SE.cycle_id, Stage.ONBOARDING), "the fast cycle to open onboarding")
    await cycles.submit(world.client, SE.cycle_id, "onboarding", factories.onboarding())
    await eventually(lambda: _stage_is(world, SE.cycle_id, Stage.SELF_EVALUATION), "its self-evaluation to open")
    await eventually(lambda: _group_formed(world), "the peer group projected")
    principals = {
        "admin": Principal(role=Role.ADMIN, expires_at=LATER),
        "onb": Principal(role=Role.INSTITUTION, cycle_id=ONB.cycle_id, expires_at=LATER),
        "se": Principal(role=Role.INSTITUTION, cycle_id=SE.cycle_id, expires_at=LATER),
        "lead": Principal(role=Role.REVIEWER, cycle_id=ONB.cycle_id, email=LEAD, expires_at=LATER),
        "facilitator": Principal(role=Role.FACILITATOR, cohort=COHORT, expires_at=LATER),
    }
    form_of = {
        "admin": "/admin/roster",
        "onb": f"/cycles/{ONB.cycle_id}/work/onboarding",
        "se": f"/cycles/{SE.cycle_id}/self-evaluation/check",
        "lead": f"/cycles/{ONB.cycle_id}/work/review",
        "facilitator": f"/groups/{COHORT}/g1",
    }
    for who, principal in principals.items():
        token = await issue_token(world.pool, principal)
        world.tokens[who] = token
        web = world.web()
        assert (await web.get(f"/signin?token={token}")).status_code == 303
        form = await web.get(form_of[who])
        assert form.status_code == 200, (who, form.status_code, form.text[:300])
        world.pages[who] = (web, form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0])
    world.pages["anonymous"] = (world.web(), "")
    # The facilitator of cohort "cat", whose id starts "cat-2027": reads only (it has no page with a form).
    prefix = await issue_token(world.pool, Principal(role=Role.FACILITATOR, cohort="cat", expires_at=LATER))
    world.tokens["prefix"] = prefix
    web = world.web()
    assert (await web.get(f"/signin?token={prefix}")).status_code == 303
    world.pages["prefix"] = (web, "")


async def _group_formed(world: World) -> bool:
    return await get_peer_group(world.pool, COHORT, "g1") is not None


async def _stage_is(world: World, cycle_id: str, stage: Stage) -> bool:
    row = await get_cycle_status(world.pool, cycle_id)
    return row is not None and row.stage == stage.value


def _judge(case: Case, answer: Answer) -> list[str]:
    problems = []
    if answer.status not in case.statuses:
        problems.append(f"answered {answer.status}, expected {sorted(case.statuses)}: {answer.text[:200]!r}")
    if case.names not in answer.text:
        problems.append(f"does not say {case.names!r}: {answer.text[:300]!r}")
    if "Traceback" in answer.text or "Internal Server Error" in answer.text:
        problems.append("shows a traceback")
    # The issue's bound for a request: a refusal is immediate, never left hanging. (A `cis` process takes its
    # own start-up time, which on a loaded machine is seconds: what it must not do is print a traceback.)
    if case.statuses != frozenset({2}) and answer.seconds > 5:
        problems.append(f"took {answer.seconds:.1f} s")
    lines = answer.text.strip().splitlines()
    # A refusal is one line; a roster's is one line per problem (each naming its line and column).
    if case.statuses == frozenset({2}) and (not lines or not all(re.match(r"(error|line \d+)", x) for x in lines)):
        problems.append(f"printed {len(lines)} lines that are not refusals: {answer.text[:300]!r}")
    return problems


async def test_every_bad_input_is_refused_clearly_or_kept_safely(world: World) -> None:
    assert len(CASES) + len(SAFE_ROSTER) >= 120, len(CASES)
    in_processes = [c for c in CASES if getattr(c.send, "in_a_process", False)]
    here = [c for c in CASES if c not in in_processes]
    failures: dict[str, list[str]] = {}
    # The real `cis` processes run alongside; the rest one at a time (the in-process CLI swaps sys.stdout).
    processes = asyncio.gather(*(case.send(world) for case in in_processes))
    answers = [(case, await case.send(world)) for case in here]
    answers += list(zip(in_processes, await processes, strict=True))
    for case, answer in answers:
        problems = _judge(case, answer)
        if problems:
            failures[case.name] = problems

    assert not failures, "\n".join(f"{name}: {'; '.join(p)}" for name, p in failures.items())
    # Stored and shown safely: launched, then read back on every surface without a line break or a formula.
    launched = await roster(*SAFE_ROSTER, cohort="cat-safe", start="2027-01-04")(world)
    assert launched.status == 303, launched.text[:500]
    web, _ = world.pages["admin"]
    launch_id = await world.pool.fetchval("SELECT launch_id FROM roster_launches WHERE cohort = 'cat-safe'")

    async def launched_in_full() -> bool:
        # The launch runs as a workflow (the upload redirects to its page); the page shows the outcome once done.
        return "7 cycles started" in (await web.get(f"/admin/launches/{launch_id}")).text

    await eventually(launched_in_full, "the launch page saying 7 cycles started")

    async def all_started() -> bool:
        return len(await list_cycle_status(world.pool, cohort="cat-safe")) == len(SAFE_ROSTER)

    await eventually(all_started, "the launched cycles on record")
    rows = await list_cycle_status(world.pool, cohort="cat-safe")
    assert {r.name for r in rows} >= {"The Old Grammar Sixth Form", "+44 School"}
    assert {r.peer_group for r in rows} == {None, "group-a"}
    for cycle_row in rows:
        for path in (f"/cycles/{cycle_row.cycle_id}", f"/cycles/{cycle_row.cycle_id}/timeline.ics"):
            shown = await web.get(path)
            assert shown.status_code == 200 and "\r\n" not in cycle_row.name, (path, shown.status_code)
    export = (await web.get("/dashboard.csv?cohort=cat-safe")).text
    assert "'=HYPERLINK" in export and "'+44 School" in export and "'@SUM" in export

    await _nothing_jammed(world)


async def _nothing_jammed(world: World) -> None:
    """Temporal's description of every workflow: no failed workflow task, no activity attempt beyond the first."""
    jammed: list[str] = []
    seen = 0
    async for execution in world.client.list_workflows():
        seen += 1
        handle = world.client.get_workflow_handle(execution.id, run_id=execution.run_id)
        described = (await handle.describe()).raw_description
        if described.pending_workflow_task.attempt > 1:
            jammed.append(f"{execution.id}: workflow task attempt {described.pending_workflow_task.attempt}")
        jammed += [
            f"{execution.id}: {a.activity_type.name} attempt {a.attempt}"
            for a in described.pending_activities
            if a.attempt > 1
        ]
        history = await handle.fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                jammed.append(f"{execution.id}: a workflow task failed")
            started = event.activity_task_started_event_attributes
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED and started.attempt > 1:
                jammed.append(f"{execution.id}: an activity ran more than once")
    assert seen >= 10, seen
    assert not jammed, "\n".join(jammed)


async def test_a_cycle_page_shows_the_store_when_its_workflow_cannot_answer(world: World) -> None:
    """A stream moved by another writer fails the workflow's task (deliberately: an operator must look); the
    cycle's page still answers, from the store, and quickly."""
    stream = cycle_workflow_id(BROKEN.cycle_id)
    intruder = CycleWithdrawn(
        cycle_id=BROKEN.cycle_id, at=at_london(START, day_time(8)), stage=Stage.ONBOARDING, reason="x", actor="x"
    )
    metadata = EventMetadata(actor="x", workflow_id="elsewhere", correlation_id=BROKEN.cycle_id)
    await EventStore(world.pool).append(
        AppendRequest(
            stream_id=stream,
            expected_version=0,
            events=[NewEvent(event_id=str(uuid.uuid4()), event=intruder, metadata=metadata)],
        )
    )
    await world.pool.execute(
        "INSERT INTO cycle_status (cycle_id, urn, name, phase, review_type, cohort, start_date, closing_date, "
        "model_id, model_version, updated_position) VALUES ($1, $2, 'Broken Academy', 'secondary', 'expert', $3, "
        "$4, $4, 'm', '1', 0)",
        BROKEN.cycle_id,
        BROKEN.urn,
        COHORT,
        START,
    )
    handle = await cycles.start_cycle(world.client, BROKEN, world.env["CIS_TASK_QUEUE"])
    assert handle.started

    async def task_failing() -> bool:
        history = await world.client.get_workflow_handle(stream).fetch_history()
        return any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events)

    await eventually(task_failing, "the workflow task failing on the moved stream")
    web, _ = world.pages["admin"]
    try:
        started = clock.monotonic()
        shown = await web.get(f"/cycles/{BROKEN.cycle_id}")
        assert shown.status_code == 200 and "Broken Academy" in shown.text
        assert clock.monotonic() - started < 5
        api = await web.get(
            f"/api/cycles/{BROKEN.cycle_id}", headers={"Authorization": f"Bearer {world.tokens['admin']}"}
        )
        assert api.status_code == 200 and api.json()["view"] is None
    finally:
        await world.client.get_workflow_handle(stream).terminate("test over")


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024  # type: ignore[index]


async def test_two_million_rows_are_refused_at_once_and_cost_the_worker_no_memory(world: World) -> None:
    """As the institution: the action plan editor asked for 2,000,000 rows, and 2,000,000 rows sent."""
    web, csrf = world.pages["se"]
    path = f"/cycles/{SE.cycle_id}/work/action-plan"
    await web.post(path, data={"csrf": csrf, "rows": "3", "action": "more"})  # warm up the route
    before = _rss_mb()

    async def rows_sent() -> AsyncIterator[bytes]:
        yield f"csrf={csrf}&rows=2000000".encode()
        for n in range(2_000_000):
            yield f"&title-{n}=Action+{n}&measure-{n}=m".encode()

    async def actions_sent() -> AsyncIterator[bytes]:
        yield b'{"actions": ['
        for n in range(2_000_000):
            yield b'{"title": "t"},' if n < 1_999_999 else b'{"title": "t"}]}'

    timings = {}
    for what, request in (
        ("rows=2000000", web.post(path, data={"csrf": csrf, "rows": "2000000", "action": "more"})),
        (
            "2,000,000 rows",
            web.post(path, content=rows_sent(), headers={"Content-Type": "application/x-www-form-urlencoded"}),
        ),
        (
            "2,000,000 rows by the API",
            web.post(
                f"/api/cycles/{SE.cycle_id}/submissions/action-plan",
                content=actions_sent(),
                headers={"Authorization": f"Bearer {world.tokens['se']}", "Content-Type": "application/json"},
            ),
        ),
    ):
        started = clock.monotonic()
        response = await request
        timings[what] = clock.monotonic() - started
        assert response.status_code in (413, 422), (what, response.status_code)
    after = _rss_mb()
    # The issue's bounds: under a second each, and within 50 MB of where the worker's process was.
    assert all(seconds < 1 for seconds in timings.values()), timings
    assert after - before < 50, (before, after)
