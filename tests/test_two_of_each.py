"""Past one machine (issue 16, acceptance 2): two `cis worker` processes and two `cis web` processes against one
Temporal and one PostgreSQL (a `cis dev --no-worker` stack's). A cohort launched through one web replica and
driven through the other, over the API, completes every cycle; each fact is recorded once and each email sent
once (to a real SMTP server), though either worker may take any task and both did."""

import asyncio
import csv
import io
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from domain.access import Principal, Role
from domain.mail import mailbox_workflow_id
from domain.roster import roster_template
from domain.roster_launch import launch_workflow_id
from stack.embedded import free_port
from store.access_tokens import issue_token
from tests import factories
from tests.dev_stack_process import CIS, Stack
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.slow

# As tests/test_cli_end_to_end.py: the stages' windows must hold a few HTTP calls on a busy 2-core machine.
SECONDS_PER_WEEK = 6.0
START = date(2027, 1, 4)
COHORT = "two-of-each"
LEAD = "lead@cec.example"
SCHOOLS = [
    ("130504", "Northgate College", "college", "careers@northgate-college.example"),
    ("137412", "Riverside Academy", "secondary", "careers@riverside-academy.example"),
]


def roster() -> bytes:
    """Two expert reviews, in the roster template's columns."""
    header = next(csv.reader(io.StringIO(roster_template())))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for urn, name, phase, email in SCHOOLS:
        writer.writerow(
            {
                "urn": urn,
                "name": name,
                "phase": phase,
                "region": "North West",
                "careers_hub": "Greater Manchester Careers Hub",
                "review_type": "expert",
                "careers_leader_email": email,
            }
        )
    return buffer.getvalue().encode()


class Replica:
    """One `cis` process (a worker or a web app) joining the stack."""

    def __init__(self, stack: Stack, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.log = stack.data_dir / f"{name}.out"
        self.process = subprocess.Popen(
            [CIS, *args], env=stack.env | env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT
        )

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def two_of_each(smtp_port: int) -> Iterator[tuple[Stack, list[Replica], list[str]]]:
    """The stack (Temporal, PostgreSQL, no worker), two workers sending to `smtp_port`, two web apps."""
    data_dir = Path(tempfile.mkdtemp(prefix="cis-two-"))
    stack = Stack(data_dir, SECONDS_PER_WEEK, "--no-worker")
    with ExitStack() as running:
        running.callback(shutil.rmtree, data_dir, ignore_errors=True)
        stack.start()
        running.callback(stack.stop)
        mail = {"CIS_SMTP_HOST": "127.0.0.1", "CIS_SMTP_PORT": str(smtp_port)}
        workers = [Replica(stack, f"worker-{n}", ["worker"], mail) for n in (1, 2)]
        ports = [free_port(), free_port()]
        webs = [Replica(stack, f"web-{n}", ["web", "--port", str(port)], {}) for n, port in enumerate(ports, 1)]
        for replica in workers + webs:
            running.callback(replica.stop)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + 90
        for url, web in zip(urls, webs, strict=True):
            while True:
                web.alive()
                try:
                    if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{web.name} did not answer in 90 s"
                time.sleep(0.3)
        yield stack, workers, urls


async def token(pool: asyncpg.Pool, role: Role, cycle_id: str | None = None, email: str | None = None) -> str:
    principal = Principal(role=role, cycle_id=cycle_id, email=email, expires_at=datetime.now(UTC) + timedelta(days=1))
    return await issue_token(pool, principal)


async def launch_through(web: httpx.AsyncClient, pool: asyncpg.Pool) -> str:
    """CEC signs in on one replica and uploads the roster there; the launch page reports it launched."""
    await web.get(f"/signin?token={await token(pool, Role.ADMIN)}")
    form = await web.get("/admin/roster")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None, form.text
    day = {"start-day": str(START.day), "start-month": str(START.month), "start-year": str(START.year)}
    launched = await web.post(
        "/admin/roster",
        data={"csrf": csrf[1], "cohort": COHORT, **day},
        files={"roster": ("roster.csv", roster(), "text/csv")},
    )
    assert launched.status_code == 303, launched.text
    page_url = launched.headers["location"]
    deadline = time.monotonic() + 60
    while 'id="launched"' not in (page := await web.get(page_url)).text:
        assert time.monotonic() < deadline, page.text
        await asyncio.sleep(0.5)
    assert f"{len(SCHOOLS)} cycles started, 0 already existed, 0 failed" in page.text
    return page_url.rsplit("/", 1)[1]


class Driver:
    """Drives one cycle through the other replica's API, as a school, CEC and the review lead would."""

    def __init__(self, api: httpx.AsyncClient, pool: asyncpg.Pool, cycle_id: str) -> None:
        self.api, self.pool, self.cycle_id = api, pool, cycle_id
        self.tokens: dict[str, str] = {}

    async def as_(self, who: str) -> dict[str, str]:
        if who not in self.tokens:
            roles = {"cec": (Role.ADMIN, None), "school": (Role.INSTITUTION, None), "lead": (Role.REVIEWER, LEAD)}
            role, email = roles[who]
            self.tokens[who] = await token(self.pool, role, None if role is Role.ADMIN else self.cycle_id, email)
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def post(self, path: str, body: dict[str, Any], who: str) -> httpx.Response:
        return await self.api.post(f"/api/cycles/{self.cycle_id}{path}", json=body, headers=await self.as_(who))

    async def view(self) -> dict[str, Any]:
        shown = await self.api.get(f"/api/cycles/{self.cycle_id}", headers=await self.as_("cec"))
        assert shown.status_code == 200, shown.text
        return shown.json()  # type: ignore[no-any-return]

    async def wait_for(self, stage: str) -> dict[str, Any]:
        deadline = time.monotonic() + 120
        while True:
            view = (await self.view())["view"]
            if view is not None and view["stage"] == stage and view["due"] is not None:
                return view  # type: ignore[no-any-return]
            assert time.monotonic() < deadline, f"{self.cycle_id} never reached {stage}: {view}"
            await asyncio.sleep(0.2)

    async def submit(self, stage: str, kind: str, data: dict[str, Any], who: str = "school") -> None:
        await self.wait_for(stage)
        accepted = await self.post(f"/submissions/{kind}", data, who)
        assert accepted.status_code == 200, f"{self.cycle_id} {kind}: {accepted.text}"

    async def through_every_stage(self, careers_leader: str) -> None:
        # The school confirms its careers leader: the timeline (sent within the cycle's spread of the start, maybe
        # after this) still goes to the roster's address.
        await self.submit("onboarding", "onboarding", factories.onboarding(careers_leader))
        await self.submit("self_evaluation", "self-evaluation", factories.evaluation(level=2))
        await self.wait_for("review")
        team = await self.post("/review-team", {"lead": LEAD, "members": ["second@cec.example"]}, "cec")
        assert team.status_code == 200, team.text
        # A few school days ahead of the cycle's today; a day that passed while the request travelled is refused.
        for _ in range(5):
            today = date.fromisoformat((await self.view())["view"]["today"])
            review_day = factories.CALENDAR.add_school_days(today, 3)
            scheduled = await self.post("/review-day", {"on": review_day.isoformat(), "start": "09:30"}, "lead")
            if scheduled.status_code == 200:
                break
            assert "past" in scheduled.text or "passed" in scheduled.text, scheduled.text
        assert scheduled.status_code == 200, scheduled.text
        deadline = time.monotonic() + 60
        while (findings := await self.post("/submissions/review", factories.review_findings(), "lead")).is_error:
            assert "on or after the review day" in findings.text and time.monotonic() < deadline, findings.text
            await asyncio.sleep(0.5)
        await self.submit("report", "report", factories.report("report"), "lead")
        await self.submit("action_planning", "action-plan", factories.action_plan(START + timedelta(weeks=30)))
        await self.submit("re_evaluation", "re-evaluation", factories.evaluation(level=3))
        deadline = time.monotonic() + 60
        while (row := (await self.view())["cycle"])["status"] != "completed":
            assert time.monotonic() < deadline, row
            await asyncio.sleep(0.5)


def workers_in(history_events: Sequence[HistoryEvent]) -> set[str]:
    """The identities of the workers that completed this workflow's tasks and ran its activities."""
    identities = set()
    for event in history_events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            identities.add(event.workflow_task_completed_event_attributes.identity)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            identities.add(event.activity_task_started_event_attributes.identity)
    return identities


def test_a_cohort_launched_on_one_replica_and_driven_on_the_other_completes_once() -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        with two_of_each(smtp.port) as (stack, workers, (first, second)):
            asyncio.run(launch_and_drive(stack, workers, first, second, smtp))
    finally:
        smtp.stop()


async def launch_and_drive(stack: Stack, workers: list[Replica], first: str, second: str, smtp: SmtpServer) -> None:
    addresses = stack.addresses()
    pool = await asyncpg.create_pool(addresses["database_url"], min_size=1, max_size=4)
    try:
        async with (
            httpx.AsyncClient(base_url=first, timeout=30) as one,
            httpx.AsyncClient(base_url=second, timeout=30) as other,
        ):
            launch_id = await launch_through(one, pool)
            cycle_ids = sorted(f"{urn}-{COHORT}" for urn, *_ in SCHOOLS)
            admin = {"Authorization": f"Bearer {await token(pool, Role.ADMIN)}"}
            deadline = time.monotonic() + 60
            # The other replica lists them once their workflows have recorded that they started.
            while sorted(r["cycle_id"] for r in (await other.get("/api/cycles", headers=admin)).json()) != cycle_ids:
                assert time.monotonic() < deadline, "the launched cycles listed on the other replica"
                await asyncio.sleep(0.5)
            leaders = {f"{urn}-{COHORT}": email for urn, _, _, email in SCHOOLS}
            await asyncio.gather(*(Driver(other, pool, c).through_every_stage(leaders[c]) for c in cycle_ids))
        for replica in workers:
            replica.alive()
        await each_fact_once(pool, cycle_ids)
        await each_email_once(pool, cycle_ids, smtp)
        client = await Client.connect(addresses["temporal_address"])
        ran = set()
        for workflow_id in [launch_workflow_id(launch_id)] + [
            w for c in cycle_ids for w in (f"cycle-{c}", mailbox_workflow_id(c))
        ]:
            ran |= workers_in((await client.get_workflow_handle(workflow_id).fetch_history()).events)
        pids = {identity.split("@", 1)[0] for identity in ran}
        assert pids == {str(w.process.pid) for w in workers}, f"both workers took tasks: {ran}"
    finally:
        await pool.close()


async def each_fact_once(pool: asyncpg.Pool, cycle_ids: list[str]) -> None:
    rows = await pool.fetch(
        "SELECT stream_id, type, data::text AS data FROM events "
        "WHERE stream_id = ANY($1::text[]) OR stream_id LIKE ANY($2::text[])",
        [f"cycle-{c}" for c in cycle_ids],
        [f"{mailbox_workflow_id(c)}-%" for c in cycle_ids],  # each mailbox's stream (workflows/mailbox.py)
    )
    assert any(r["type"] == "PromptSent" for r in rows), "the mailboxes' streams are read too"
    for cycle_id in cycle_ids:
        types = Counter(r["type"] for r in rows if r["stream_id"] == f"cycle-{cycle_id}")
        assert types["CycleStarted"] == types["CycleCompleted"] == 1, types
        for submitted in ("SelfEvaluationSubmitted", "ReviewFindingsRecorded", "ReEvaluationSubmitted"):
            assert types[submitted] == 1, (cycle_id, types)
    twice = [key for key, n in Counter((r["stream_id"], r["type"], r["data"]) for r in rows).items() if n > 1]
    assert not twice, f"facts recorded more than once: {twice}"


async def each_email_once(pool: asyncpg.Pool, cycle_ids: list[str], smtp: SmtpServer) -> None:
    received = Counter(smtp.inbox.message_ids())
    assert received and max(received.values()) == 1, f"an email sent twice: {received.most_common(3)}"
    sent = await pool.fetch(
        "SELECT DISTINCT message_id FROM prompts WHERE cycle_id = ANY($1::text[]) AND message_id IS NOT NULL",
        cycle_ids,
    )
    assert sent and {r["message_id"] for r in sent} <= set(received), "every message the store says went, arrived"
    for _, _, _, email in SCHOOLS:
        timelines = [m for m in smtp.inbox.to(email) if "timeline" in str(m["X-CIS-Prompt-Kinds"])]
        assert len(timelines) == 1, f"{email} got the timeline {len(timelines)} times"
