"""What fails during the chaos run, and when: the worker killed outright (and started again, as a process
manager would), PostgreSQL stopped and started, the SMTP server refusing connections. Every fault is
written down with its wall-clock time, so the verdict can tell which crash each duplicated email followed."""

import asyncio
import os
import random
import signal
import time
from collections import Counter
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

from stack.embedded import EmbeddedPostgres
from tests.dev_stack_process import CIS
from tests.smtp_server import SmtpServer


class FaultKind(StrEnum):
    WORKER_KILLED = "worker killed (SIGKILL)"
    POSTGRES_STOPPED = "PostgreSQL stopped"
    POSTGRES_STARTED = "PostgreSQL started"
    SMTP_DOWN = "SMTP refusing connections"
    SMTP_UP = "SMTP accepting again"


class Fault(BaseModel, frozen=True):
    kind: FaultKind
    at: float  # time.time()


class FaultPlan(BaseModel, frozen=True):
    """When each fault happens, in seconds from the start of the run."""

    kills: list[float]
    postgres_outages: list[tuple[float, float]]  # (from, for how long)
    smtp_outage: tuple[float, float] | None


def plan_faults(
    active_seconds: float,
    kills: int,
    faults_from: float,
    kills_until: float,
    postgres_restarts: int,
    postgres_down: float,
    smtp_down: float,
    seed: int,
) -> FaultPlan:
    """Kills at random moments between `faults_from` and `kills_until` (fractions of the run); the outages
    spread out between them, so the run also sees each fault on its own."""
    rng = random.Random(seed)
    span = kills_until - faults_from
    kill_times = sorted(rng.uniform(faults_from, kills_until) * active_seconds for _ in range(kills))
    outages = [
        ((faults_from + span * (n + 1) / (postgres_restarts + 2)) * active_seconds, postgres_down)
        for n in range(postgres_restarts)
    ]
    smtp = ((faults_from + span * 0.45) * active_seconds, smtp_down) if smtp_down > 0 else None
    return FaultPlan(kills=kill_times, postgres_outages=outages, smtp_outage=smtp)


class Worker:
    """`cis worker` as its own process, started again whenever it ends, as systemd's Restart=always would:
    after a kill, and after a start that failed because PostgreSQL was down."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._env = env
        self._log = log
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self.starts = 0
        self.exits: Counter[int] = Counter()
        self.up = asyncio.Event()

    async def supervise(self) -> None:
        while not self._stopping:
            with self._log.open("ab") as log:
                self._process = await asyncio.create_subprocess_exec(
                    CIS, "worker", env=self._env, stdout=log, stderr=asyncio.subprocess.STDOUT
                )
            self.starts += 1
            self.up.set()
            code = await self._process.wait()
            self.up.clear()
            if self._stopping:
                return
            self.exits[code] += 1
            await asyncio.sleep(1.0)

    def kill(self) -> bool:
        if self._process is None or self._process.returncode is not None:
            return False
        self._process.send_signal(signal.SIGKILL)
        return True

    async def stop(self) -> None:
        """SIGTERM: the worker finishes its tasks in hand and leaves (a deploy's ordinary stop)."""
        self._stopping = True
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._process.wait(), timeout=60)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None


class Faults:
    def __init__(self, plan: FaultPlan, worker: Worker, postgres: EmbeddedPostgres, smtp: SmtpServer) -> None:
        self.plan = plan
        self.worker = worker
        self.postgres = postgres
        self.smtp = smtp
        self.log: list[Fault] = []

    def _note(self, kind: FaultKind) -> None:
        self.log.append(Fault(kind=kind, at=time.time()))

    def count(self, kind: FaultKind) -> int:
        return sum(1 for fault in self.log if fault.kind is kind)

    async def run(self, started: float) -> None:
        """Play the plan from `started` (loop time); returns when every fault has happened and healed."""
        await asyncio.gather(
            self._kills(started),
            *(self._postgres_outage(started + at, down) for at, down in self.plan.postgres_outages),
            *(
                [self._smtp_outage(started + self.plan.smtp_outage[0], self.plan.smtp_outage[1])]
                if self.plan.smtp_outage
                else []
            ),
        )

    @staticmethod
    async def _until(moment: float) -> None:
        await asyncio.sleep(max(0.0, moment - asyncio.get_running_loop().time()))

    async def _kills(self, started: float) -> None:
        for at in self.plan.kills:
            await self._until(started + at)
            # A worker still starting (or crash-looping while PostgreSQL is down) is killed once it is up again.
            while not self.worker.kill():
                await self.worker.up.wait()
                await asyncio.sleep(0.5)
            self._note(FaultKind.WORKER_KILLED)

    async def _postgres_outage(self, at: float, down: float) -> None:
        await self._until(at)
        self._note(FaultKind.POSTGRES_STOPPED)
        await asyncio.to_thread(self.postgres.stop)
        await asyncio.sleep(down)
        await self.postgres.start()
        self._note(FaultKind.POSTGRES_STARTED)

    async def _smtp_outage(self, at: float, down: float) -> None:
        await self._until(at)
        self._note(FaultKind.SMTP_DOWN)
        await asyncio.to_thread(self.smtp.stop)
        await asyncio.sleep(down)
        await asyncio.to_thread(self.smtp.start)
        self._note(FaultKind.SMTP_UP)


def worker_env(base: dict[str, str]) -> dict[str, str]:
    """The worker's environment: the stack's, with logs at WARNING so a long run's log stays readable."""
    return base | {"CIS_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", "PATH": os.environ.get("PATH", "")}
