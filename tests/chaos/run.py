"""The chaos run (`make chaos`): a cohort through its whole cycle on the embedded stack while it fails.

    .venv/bin/python -m tests.chaos.run                      # 200 cycles, 12 kills: the full run
    .venv/bin/python -m tests.chaos.run --cycles 20 --seconds-per-week 6 --kills 3   # a quick look

`cis dev --no-worker` serves Temporal and the web app; `cis worker` runs as its own process, killed with SIGKILL
at random moments and started again; PostgreSQL (this run's own, so it can be stopped) goes down and comes back;
the SMTP server refuses connections for a while. Simulated people act through the JSON API only. At the end the
verdict is read from the event store, the mail the SMTP server received and Temporal, and printed.
"""

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from content.calendar_catalog import default_calendar
from domain.schedule import SchedulePolicy, build_schedule
from domain.school_calendar import SchoolCalendar
from domain.stages import Stage
from stack.embedded import EmbeddedPostgres
from store.database import create_pool
from tests.chaos.cohort import COHORT, REVIEW_LEAD, Persona, chaos_cohort, roster_csv
from tests.chaos.faults import FaultKind, Faults, Worker, plan_faults, worker_env
from tests.chaos.people import People
from tests.chaos.verdict import Verdict, all_events, judge, lost_prompts
from tests.dev_stack_process import Stack
from tests.smtp_server import Inbox, SmtpServer

START = date(2027, 1, 4)


class ChaosConfig(BaseModel):
    cycles: int = 200
    seconds_per_week: float = 20.0
    kills: int = 12
    # Every fault falls between these fractions of the cycles' 18 weeks (the kills at random moments in it, the
    # outages spread over it): the first week is the launch, the last weeks the re-evaluations.
    faults_from: float = 0.05
    kills_until: float = 0.85
    postgres_restarts: int = 2
    postgres_down: float = 20.0
    smtp_down: float = 45.0
    seed: int = 15
    round_seconds: float = 1.0  # between two looks at the cycle list
    # How much later CEC makes the re-evaluation due (see People._extend): for the cycles whose people finish
    # them (they end when they complete, so this costs no run time), and for those that stop at the action plan
    # (they lapse at the later closing date, so the run lasts this much longer).
    extension_weeks: int = 26
    stopping_extension_weeks: int = 10
    drain_seconds: float = 240.0
    # Export the cohort's live histories (`cis histories export`) and replay them on this code at the end.
    replay_histories: bool = True


class ArrivalsInbox(Inbox):
    """The test SMTP server's inbox, with the wall-clock time each message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        self.arrivals.append((time.time(), str(self.messages[-1]["Message-ID"])))
        return answer


class ChaosReport(BaseModel):
    config: ChaosConfig
    seconds: float
    phases: dict[str, float]  # seconds from the start at which each phase ended
    load: tuple[float, float, float]  # the machine's load average at the end (1, 5, 15 minutes)
    kills: int
    worker_starts: int
    worker_exits: dict[int, int]
    postgres_restarts: int
    smtp_outages: int
    people: dict[str, int]
    faults: list[str]
    histories_exported: str
    histories_replayed: str
    histories_replay_ok: bool
    verdict: Verdict

    @property
    def passed(self) -> bool:
        return self.verdict.passed and self.kills >= self.config.kills and self.histories_replay_ok

    def text(self) -> str:
        v, c = self.verdict, self.config
        lines = [
            f"chaos run: {c.cycles} cycles at {c.seconds_per_week:g} s per cycle week (seed {c.seed}), "
            f"wall time {self.seconds:.0f} s; load average {' '.join(f'{n:.1f}' for n in self.load)}",
            "  phases ended at: " + ", ".join(f"{name} {at:.0f} s" for name, at in self.phases.items()),
            f"kills: worker killed with SIGKILL {self.kills} times",
            f"restarts: worker started {self.worker_starts} times "
            f"(exits by code: {', '.join(f'{k}: {n}' for k, n in sorted(self.worker_exits.items())) or 'none'}); "
            f"PostgreSQL stopped and restarted {self.postgres_restarts} times ({c.postgres_down:g} s down each); "
            f"SMTP refused connections {self.smtp_outages} time(s) for {c.smtp_down:g} s",
            "cycles by final state:   expected  actual",
        ]
        for state in sorted(set(v.cycles_expected) | set(v.cycles_actual)):
            lines.append(f"  {state:<26}{v.cycles_expected.get(state, 0):>6}{v.cycles_actual.get(state, 0):>8}")
        lines += [f"  mismatch: {m}" for m in v.mismatched]
        lines.append(f"events: {v.events}")
        lines.append(f"duplicate events: {len(v.duplicate_events)}")
        lines += [f"  {d}" for d in v.duplicate_events[:20]]
        delivered = ", ".join(f"{n} {kind}" for kind, n in sorted(v.prompts_delivered.items()))
        lines.append(
            f"prompts: {v.prompts_issued} issued ({delivered}; {v.prompts_waiting} waiting for their send day; "
            f"{v.prompts_unaddressed} with nobody to send to)"
        )
        lines.append(f"prompts lost: {len(v.prompts_lost)}")
        lines += [f"  {p}" for p in v.prompts_lost[:20]]
        outside = [d for d in v.emails_duplicated if d.fault is None]
        lines.append(
            f"emails: {v.emails_received} received; duplicated: {len(v.emails_duplicated)}, "
            f"{len(v.emails_duplicated) - len(outside)} of them in the documented crash window "
            "(the server had the message, the outbox not yet marked), "
            f"{len(outside)} outside it"
        )
        lines += [f"  {d.message_id} x{d.copies}: {d.fault or 'NO FAULT NEARBY'}" for d in v.emails_duplicated]
        projections = "equal" if not v.projection_differences else "DIFFERENT"
        lines.append(f"projections vs rebuild: {projections} ({v.projection_tables} tables, {v.projection_rows} rows)")
        lines += [f"  {d}" for d in v.projection_differences]
        by_status = ", ".join(f"{n} {s}" for s, n in sorted(v.workflows.items()))
        by_type = ", ".join(f"{n} {t}" for t, n in sorted(v.workflow_types.items()))
        lines.append(
            f"workflow runs: {sum(v.workflows.values())} ({by_status}; {by_type}); "
            f"failed: {len(v.workflows_failed)}; with a failing workflow task: {len(v.failing_tasks)}"
        )
        lines += [f"  {w}" for w in (v.workflows_failed + v.failing_tasks)[:20]]
        lines.append(f"live histories: {self.histories_exported}; replayed: {self.histories_replayed}")
        lines.append("faults, from the start of the run:")
        lines += [f"  {fault}" for fault in self.faults]
        lines.append(f"people's requests: {', '.join(f'{n} {k}' for k, n in sorted(self.people.items()))}")
        lines.append(f"verdict: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)


def lead_tokens(stack: Stack) -> Callable[[str], Awaitable[str]]:
    """CEC signs the review lead in to one cycle (`cis token issue`), two commands at a time at most."""
    limit = asyncio.Semaphore(2)

    async def issue(cycle_id: str) -> str:
        async with limit:
            command = ["token", "issue", "--role", "reviewer", "--cycle", cycle_id, "--email", REVIEW_LEAD]
            issued = await asyncio.to_thread(stack.cis, *command)
        return issued.stdout.split()[-1]

    return issue


async def chaos_run(config: ChaosConfig, keep: Path | None = None, histories: Path | None = None) -> ChaosReport:
    """Run the whole scenario; the work folder is removed afterwards unless `keep` names one to use. The cohort's
    live histories are exported into `histories` (`make histories`), by default a folder inside the work folder."""
    began = time.monotonic()
    began_wall = time.time()
    phases: dict[str, float] = {}

    def reached(phase: str) -> None:
        phases[phase] = time.monotonic() - began

    root = keep or Path(tempfile.mkdtemp(prefix="cis-chaos-"))
    root.mkdir(parents=True, exist_ok=True)
    calendar = default_calendar()
    institutions = chaos_cohort(config.cycles, config.seed)
    postgres = EmbeddedPostgres(root / "db")
    database_url = await postgres.start()
    smtp = SmtpServer()
    inbox = ArrivalsInbox()
    smtp.inbox = inbox
    smtp.start()
    env = {"CIS_DATABASE_URL": database_url, "CIS_SMTP_HOST": "127.0.0.1", "CIS_SMTP_PORT": str(smtp.port)}
    (root / "stack").mkdir(exist_ok=True)
    stack = Stack(root / "stack", config.seconds_per_week, "--no-worker", env=env)
    worker = Worker(worker_env(stack.env), root / "worker.log")
    supervising: asyncio.Task[None] | None = None
    try:
        await asyncio.to_thread(stack.start)
        supervising = asyncio.create_task(worker.supervise())
        admin = (await asyncio.to_thread(stack.cis, "token", "issue", "--role", "admin")).stdout.split()[-1]
        facilitator = (
            await asyncio.to_thread(stack.cis, "token", "issue", "--role", "facilitator", "--cohort", COHORT)
        ).stdout.split()[-1]
        roster = root / "roster.csv"
        roster.write_text(roster_csv(institutions))
        launch = [
            "cohort", "launch", str(roster), "--cohort", COHORT, "--start", START.isoformat(),
            "--time-scale", f"{config.seconds_per_week:g}",
        ]  # fmt: skip
        reached("stack up")
        await asyncio.to_thread(stack.cis, *launch)
        reached("cohort launched")

        loop = asyncio.get_running_loop()
        started = loop.time()
        schedule = build_schedule(START, SchedulePolicy(), calendar)
        active = (schedule.closing_date - START).days / 7 * config.seconds_per_week
        re_evaluation_due = schedule.milestone(Stage.RE_EVALUATION).due
        plan = plan_faults(
            active,
            config.kills,
            config.faults_from,
            config.kills_until,
            config.postgres_restarts,
            config.postgres_down,
            config.smtp_down,
            config.seed,
        )
        faults = Faults(plan, worker, postgres, smtp)
        people = People(
            stack.addresses()["web_url"],
            admin,
            facilitator,
            institutions,
            calendar,
            config.seconds_per_week,
            lead_tokens(stack),
            root / "people.log",
            look_every=config.round_seconds,
            extensions={
                persona: re_evaluation_due + timedelta(weeks=weeks)
                for persona, weeks in (
                    (Persona.PROMPT, config.extension_weeks),
                    (Persona.LATE, config.extension_weeks),
                    (Persona.STOPS, config.stopping_extension_weeks),
                )
                if weeks > 0
            },
        )
        stop_people = asyncio.Event()
        acting = asyncio.create_task(people.run(stop_people))
        await faults.run(started)
        # Every cycle closes by its closing date; allow for the stalls the faults caused.
        deadline = started + active + (config.stopping_extension_weeks + 6) * config.seconds_per_week + 120
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(people.closed.wait(), timeout=max(0.0, deadline - loop.time()))
        reached("cycles ended" if people.closed.is_set() else "cycles NOT all ended")
        await _drain(database_url, inbox, config, calendar, loop.time() + config.drain_seconds)
        reached("mail drained")
        stop_people.set()
        await acting
        await people.close()
        await worker.stop()
        worker_stopped = datetime.now(UTC)
        client = await Client.connect(stack.addresses()["temporal_address"], data_converter=pydantic_data_converter)
        pool = await create_pool(database_url)
        try:
            verdict = await judge(
                pool,
                client,
                institutions,
                inbox.arrivals,
                faults.log,
                config.seconds_per_week,
                calendar,
                worker_stopped,
            )
        finally:
            await pool.close()
        reached("verdict read")
        exported, replayed, replay_ok = "not exported (--replay-histories false)", "not replayed", True
        if config.replay_histories:
            # What an operator does before a deploy: pull the cohort's live histories and replay them on this code.
            histories = histories or root / "histories"
            export = ["histories", "export", "--cohort", COHORT, "--out", str(histories)]
            exported = (await asyncio.to_thread(stack.cis, *export)).stdout.strip()
            replay = await asyncio.to_thread(stack.cis, "histories", "replay", str(histories), check=False)
            replayed, replay_ok = (replay.stdout + replay.stderr).strip(), replay.returncode == 0
            reached("histories replayed")
        return ChaosReport(
            config=config,
            seconds=time.monotonic() - began,
            phases=phases,
            load=os.getloadavg(),
            kills=faults.count(FaultKind.WORKER_KILLED),
            worker_starts=worker.starts,
            worker_exits=dict(worker.exits),
            postgres_restarts=faults.count(FaultKind.POSTGRES_STARTED),
            smtp_outages=faults.count(FaultKind.SMTP_UP),
            people=dict(people.outcomes),
            faults=[f"{fault.at - began_wall:6.1f} s  {fault.kind.value}" for fault in faults.log],
            histories_exported=exported,
            histories_replayed=replayed,
            histories_replay_ok=replay_ok,
            verdict=verdict,
        )
    finally:
        await worker.stop()
        if supervising is not None:
            await supervising
        await asyncio.to_thread(stack.stop)
        smtp.stop()
        await asyncio.to_thread(postgres.stop)
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


async def _drain(
    database_url: str, inbox: ArrivalsInbox, config: ChaosConfig, calendar: SchoolCalendar, until: float
) -> None:
    """Faults over, every cycle closed: give the mail whose day has come the time to go (a delivery the
    SMTP outage left in backoff retries minutes later)."""
    pool = await create_pool(database_url, max_size=2)
    loop = asyncio.get_running_loop()
    try:
        while loop.time() < until:
            events = await all_events(pool)
            received = {message_id for _, message_id in inbox.arrivals}
            now = datetime.now(UTC)
            lost, *_ = lost_prompts(events, received, config.seconds_per_week, calendar, SchedulePolicy(), now)
            if not lost:
                return
            await asyncio.sleep(5)
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    defaults = ChaosConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, value in defaults.model_dump().items():
        kind = (lambda text: text.lower() in ("1", "true", "yes")) if isinstance(value, bool) else type(value)
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=value)
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it (logs, data) afterwards")
    args = vars(parser.parse_args(argv))
    keep = args.pop("keep")
    report = asyncio.run(chaos_run(ChaosConfig(**args), keep))
    print(report.text())
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
