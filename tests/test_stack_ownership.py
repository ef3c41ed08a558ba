"""The stack owns its servers. `cis dev` killed with SIGKILL (as the OOM killer does) and started again on
the same data folder, three times over: afterwards exactly one Temporal server and one PostgreSQL run on that
folder (never two servers on one SQLite file), and every cycle goes on, its events recorded once each."""

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from domain.stages import Stage
from stack.owned_processes import servers_on
from store.database import create_pool
from store.read_models import list_events
from tests import factories
from tests.dev_stack_process import Stack, stack_in_a_new_folder

pytestmark = pytest.mark.slow

# Slow enough that no cycle lapses while the stack restarts, fast enough that timers fire within the test.
SECONDS_PER_WEEK = 8.0
START = date(2027, 1, 4)
COHORT = "kill9"


def servers(data_dir: Path) -> tuple[int, int]:
    """(Temporal servers, PostgreSQL servers) running on the folder."""
    return len(servers_on("--db-filename", data_dir / "temporal.db")), len(servers_on("-D", data_dir / "postgres"))


@pytest.fixture
def stack() -> Iterator[Stack]:
    with stack_in_a_new_folder("cis-kill9-", SECONDS_PER_WEEK) as running:
        yield running
    # A stack stopped the ordinary way leaves nothing running either.
    assert servers(running.data_dir) == (0, 0)


def kill_and_restart(stack: Stack) -> None:
    stack.kill()
    stack.start()
    assert servers(stack.data_dir) == (1, 1), "a restart must stop what the killed stack left, not add to it"


def submit_to_all(stack: Stack, cycle_ids: list[str], kind: str, data: dict[str, object], folder: Path) -> None:
    path = folder / f"{kind}.json"
    path.write_text(json.dumps(data))
    for cycle_id in cycle_ids:
        assert "accepted" in stack.cis("submit", cycle_id, kind, str(path)).stdout


def test_sigkilled_stack_restarts_three_times_with_one_server_each_and_cycles_go_on(
    stack: Stack, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(stack.cis("cohort", "template").stdout)
    launched = json.loads(
        stack.cis("cohort", "launch", str(roster), "--cohort", COHORT, "--start", START.isoformat(), "--json").stdout
    )
    cycle_ids = sorted(launched["started"])
    assert len(cycle_ids) == 4
    assert servers(stack.data_dir) == (1, 1)
    # While a stack runs, a second one on its folder is refused, touching nothing.
    second = stack.cis("dev", check=False)
    assert second.returncode == 1 and "is running on" in second.stderr
    assert servers(stack.data_dir) == (1, 1)
    for cycle_id in cycle_ids:
        stack.wait_for_stage(cycle_id, Stage.ONBOARDING)

    kill_and_restart(stack)
    submit_to_all(stack, cycle_ids, "onboarding", factories.onboarding(), tmp_path)
    for cycle_id in cycle_ids:
        stack.wait_for_stage(cycle_id, Stage.SELF_EVALUATION)

    kill_and_restart(stack)
    submit_to_all(stack, cycle_ids, "self-evaluation", factories.evaluation(level=2), tmp_path)

    kill_and_restart(stack)
    # Timers set before the kills still fire: the expert cycle's review stage opens on its day, and the peer
    # group, told by each member's cycle, has all three ready.
    expert = next(c for c in cycle_ids if c.startswith("130504"))
    stack.wait_for_stage(expert, Stage.REVIEW, timeout=120)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        group = json.loads(stack.cis("group", "show", COHORT, "gm-peer-1", "--json").stdout)
        if all(member["ready_on"] for member in group["members"]):
            break
        time.sleep(0.5)
    assert all(member["ready_on"] for member in group["members"]), group
    assert servers(stack.data_dir) == (1, 1)

    async def recorded() -> None:
        pool = await create_pool(stack.addresses()["database_url"])
        try:
            for cycle_id in cycle_ids:
                events = [e for e in await list_events(pool, cycle_id) if e.stream_id == f"cycle-{cycle_id}"]
                assert [e.version for e in events] == list(range(1, len(events) + 1))
                assert len({e.event_id for e in events}) == len(events), "no event recorded twice"
                types = [e.type for e in events]
                assert types.count("CycleStarted") == 1
                assert types.count("OnboardingCompleted") == 1 and types.count("SelfEvaluationSubmitted") == 1
        finally:
            await pool.close()

    asyncio.run(recorded())

    # Before deploying, an operator pulls the cohort's live histories out of Temporal and replays them on the new
    # code: here, the histories these cycles made across three kills, replayed on this code.
    exported = stack.cis("histories", "export", "--cohort", COHORT, "--out", str(tmp_path / "live")).stdout
    assert "(4 cycles)" in exported, exported
    names = [path.name for path in (tmp_path / "live").glob("*.json")]
    assert all(any(name.startswith(f"cycle-{cycle_id}.") for name in names) for cycle_id in cycle_ids), names
    assert any(name.startswith(f"peergroup-{COHORT}.") for name in names), names
    replayed = stack.cis("histories", "replay", str(tmp_path / "live"))
    assert replayed.stdout.strip().endswith("histories replay on this code"), replayed.stdout
    assert replayed.stdout.split()[0] == replayed.stdout.split()[2], replayed.stdout
