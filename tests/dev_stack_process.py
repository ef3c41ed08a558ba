"""`cis dev` as a real process for end-to-end tests, and the `cis` command run against it."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.stages import Stage
from domain.timeline import CycleView
from operations import cycles

BIN = Path(sys.executable).parent
CIS = str(BIN / "cis")
# The code under test: a `cis` process imports from this checkout even when the virtualenv's editable install
# points at another one (a venv shared between worktrees).
CODE = str(Path(__file__).resolve().parents[1])


class Stack:
    def __init__(
        self, data_dir: Path, seconds_per_week: float, *dev_args: str, env: dict[str, str] | None = None
    ) -> None:
        """`env`: CIS_* settings for `cis dev` and every `cis` command (external services, say)."""
        self.data_dir = data_dir
        self.seconds_per_week = seconds_per_week
        self.dev_args = dev_args
        self.process: subprocess.Popen[bytes] | None = None
        self.env = (
            {k: v for k, v in os.environ.items() if not k.startswith("CIS_")}
            | {
                "CIS_DATA_DIR": str(data_dir),
                "XDG_RUNTIME_DIR": str(data_dir / "run"),
                "COLUMNS": "80",  # the tables `cis` prints are read at a terminal's usual width
                "PYTHONPATH": os.pathsep.join(filter(None, [CODE, os.environ.get("PYTHONPATH")])),
            }
            | (env or {})
        )
        (data_dir / "run").mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [CIS, "dev", "--time-scale", str(self.seconds_per_week), *self.dev_args],
            env=self.env,
            stdout=(self.data_dir / "dev.out").open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            # Up when the file names this process (one killed outright leaves its own behind).
            if self.addresses().get("pid") == self.process.pid:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"cis dev exited: {(self.data_dir / 'dev.out').read_text()[-3000:]}")
            time.sleep(0.3)
        raise AssertionError("cis dev did not come up in 90 s")

    def addresses(self) -> dict[str, Any]:
        try:
            return json.loads((self.data_dir / "stack.json").read_text())  # type: ignore[no-any-return]
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer does: no cleanup runs in `cis dev`."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None

    def cis(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([CIS, *args], env=self.env, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"cis {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def show(self, cycle_id: str) -> dict[str, Any]:
        return json.loads(self.cis("cycle", "show", cycle_id, "--json").stdout)  # type: ignore[no-any-return]

    def query(self, cycle_id: str) -> CycleView:
        """Polling goes straight to Temporal: a `cis` process per poll costs a second, weeks of cycle time."""
        address = self.addresses()["temporal_address"]

        async def ask() -> CycleView:
            client = await Client.connect(address, data_converter=pydantic_data_converter)
            return await cycles.cycle_view(client, cycle_id)

        return asyncio.run(ask())

    def wait_for_stage(self, cycle_id: str, stage: Stage, timeout: float = 90) -> CycleView:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            view = self.query(cycle_id)
            if view.stage is stage and view.due is not None:
                return view
            time.sleep(0.1)
        raise AssertionError(f"{cycle_id} never reached {stage}: {self.query(cycle_id)}")


@contextmanager
def stack_in_a_new_folder(prefix: str, seconds_per_week: float) -> Iterator[Stack]:
    """`cis dev` on a data folder of its own, stopped and the folder removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    running = Stack(data_dir, seconds_per_week)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
