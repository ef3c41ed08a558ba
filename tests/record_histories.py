"""`make histories`: record this release's replay histories into a new folder, tests/histories/<version>/.

<version> is the package version and the commit (`0.1.0-1a2b3c4`); a folder that exists is never written to again,
so histories accumulate release after release and tests/test_replay.py replays them all against the current code.
Two sources fill the folder:

- the scenario tests (tests/test_cycle_scenarios.py and others) on the time-skipping server: cycles late, lapsed,
  extended, a worker restart, a peer group, a roster launched in batches; exact scenarios, but no search attributes
  (that server refuses them);
- a small cohort on the embedded dev stack with production settings: `cis dev --no-worker` with `cis worker`
  delivering mail to an SMTP server, search attributes on, simulated people acting through the JSON API (the chaos
  run without faults), until the cycles have closed, the follow-ups have continued as new and the weekly digest's
  Schedule has run a few weeks; then `cis histories export` pulls every workflow's history into the folder, as an
  operator would (of a workflow's runs, the three longest are kept; of the digest's, the last three).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.chaos.run import ChaosConfig, chaos_run

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "tests" / "histories"
SCENARIOS = [
    "tests/test_cycle_scenarios.py",
    "tests/test_follow_up.py",
    "tests/test_worker_restart.py",
    "tests/test_peer_groups.py",
    "tests/test_roster_launch.py",
    "tests/test_follow_up_meeting.py",
    "tests/test_content_by_reference.py",
    "tests/test_digest_per_facilitator.py",
    "tests/test_mail_delivery.py::test_facilitators_get_one_weekly_digest_instead_of_an_email_per_escalation",
]
# Enough cycles for every persona's path (prompt, late, stops, never, withdrawn) and one peer trio; at 8 s a cycle
# week the follow-ups get through a few rounds (each a continue-as-new) before the run ends.
# Runs kept per workflow id (a follow-up's first rounds, a few of the weekly digest's weeks).
RUNS_KEPT = 3
RECORDING = ChaosConfig(
    cycles=9,
    seconds_per_week=8.0,
    kills=0,
    postgres_restarts=0,
    smtp_down=0.0,
    round_seconds=1.0,
    drain_seconds=60.0,
)


def release_version() -> str:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    commit = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"{version}-{commit}"


def record(folder: Path) -> None:
    folder.mkdir(parents=True)
    scenarios = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SCENARIOS],
        cwd=ROOT,
        env=os.environ | {"CIS_RECORD_HISTORIES": str(folder)},
        check=False,
    )
    if scenarios.returncode != 0:
        raise SystemExit(f"the scenario tests failed; {folder} is incomplete: remove it and record again")
    report = asyncio.run(chaos_run(RECORDING, histories=folder))
    print(report.text())
    # The cycles' final states are the chaos run's business (on a loaded machine people may act too late); what a
    # recording needs is histories that replay on the code that made them.
    if not report.histories_replay_ok:
        raise SystemExit(f"the recorded histories do not replay; {folder} is incomplete: remove it and record again")
    keep_longest_runs(folder)


def keep_longest_runs(folder: Path, runs: int = RUNS_KEPT) -> None:
    """Of a workflow's many runs (a follow-up continues as new every round), keep the `runs` longest: the
    replay test's time goes to different histories, not to the same week again."""
    by_workflow: dict[str, list[tuple[int, Path]]] = {}
    for path in folder.glob("*.json"):
        recorded = json.loads(path.read_text())
        by_workflow.setdefault(recorded["workflow_id"], []).append((len(recorded["history"]["events"]), path))
    for paths in by_workflow.values():
        for _, path in sorted(paths, reverse=True)[runs:]:
            path.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=None, help="Folder name under tests/histories (default: VERSION-COMMIT)")
    version = parser.parse_args(argv).version or release_version()
    folder = HISTORIES / version
    if folder.exists():
        raise SystemExit(f"{folder} exists: a release's histories are never overwritten (commit, then record)")
    record(folder)
    print(f"recorded {len(list(folder.glob('*.json')))} histories into {folder}")


if __name__ == "__main__":
    main()
