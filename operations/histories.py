"""Workflow histories as files: pulled from a running Temporal, replayed against the code about to be deployed.

A file holds one run of one workflow, in the format tests/histories/ keeps: `{"workflow_id": …, "history":
<Temporal's JSON history>}`. An operator exports a cohort's live histories from production and replays them
against a new release before deploying it; a replay that fails names the change that would break running cycles.
"""

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from domain.cycle_spec import cycle_workflow_id, follow_up_workflow_id
from domain.mail import mailbox_workflow_id
from domain.peer_group_ids import peer_group_workflow_id
from workflows.digest_week import WEEKLY_DIGEST_ID

# Workflow ids per visibility query: a cohort of thousands is listed in a few hundred queries, not thousands.
_BATCH = 100


class Exported(BaseModel):
    workflow_id: str
    run_id: str
    path: Path
    events: int


class Replayed(BaseModel):
    path: Path
    workflow_id: str
    failure: str | None


def cohort_workflow_ids(cohort: str, cycle_ids: Iterable[str], peer_groups: Iterable[str]) -> list[str]:
    """Every workflow a cohort's cycles run on: each cycle, its mailbox and follow-up, each peer group and its
    mailbox, and the facilitators' weekly digest loop of earlier releases (its Schedule's runs:
    `export_scheduled_runs`)."""
    ids = []
    for cycle_id in sorted(cycle_ids):
        ids += [cycle_workflow_id(cycle_id), mailbox_workflow_id(cycle_id), follow_up_workflow_id(cycle_id)]
    for group in sorted(set(peer_groups)):
        group_id = peer_group_workflow_id(cohort, group)
        ids += [group_id, mailbox_workflow_id(group_id)]
    return [*ids, WEEKLY_DIGEST_ID]


def history_file_name(workflow_id: str, run_id: str) -> str:
    return f"{workflow_id}.{run_id}.json"


def write_history(history: WorkflowHistory, path: Path) -> None:
    payload = {"workflow_id": history.workflow_id, "history": json.loads(history.to_json())}
    path.write_text(json.dumps(payload, indent=1))


def read_history(path: Path) -> WorkflowHistory:
    recorded = json.loads(path.read_text())
    return WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])


async def export_scheduled_runs(client: Client, schedule_id: str, out: Path, latest: int) -> list[Exported]:
    """Into the folder `out`: the `latest` runs a Schedule started (the weekly digest's weeks; each run has an id of
    its own, named after the moment it was due)."""
    query = f"TemporalScheduledById = '{schedule_id}'"  # a constant of ours, not user input
    return [
        await _export(client, execution.id, execution.run_id, out)
        async for execution in client.list_workflows(query, limit=latest)
    ]


async def _export(client: Client, workflow_id: str, run_id: str, out: Path) -> Exported:
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    path = out / history_file_name(workflow_id, run_id)
    write_history(history, path)
    return Exported(workflow_id=workflow_id, run_id=run_id, path=path, events=len(history.events))


async def export_histories(client: Client, workflow_ids: Sequence[str], out: Path) -> list[Exported]:
    """Into the folder `out` (it exists): every run (closed ones too: a follow-up continues as new each round)
    of each workflow that exists; ids with no workflow (a follow-up not started yet) are skipped."""
    exported = []
    for start in range(0, len(workflow_ids), _BATCH):
        # Ids are built from validated slugs (digits, lower-case letters, hyphens): safe inside quotes.
        quoted = ", ".join(f"'{workflow_id}'" for workflow_id in workflow_ids[start : start + _BATCH])
        async for execution in client.list_workflows(f"WorkflowId IN ({quoted})"):
            exported.append(await _export(client, execution.id, execution.run_id, out))
    return exported


def history_files(folders: Iterable[Path]) -> list[Path]:
    """The history files in these folders and every folder below them, in a stable order."""
    return sorted(path for folder in folders for path in folder.rglob("*.json"))


async def replay_files(replayer: Replayer, paths: Iterable[Path]) -> list[Replayed]:
    """Replay each history against the workflow code this process has; a failure is the reason it fails."""
    outcomes = []
    for path in paths:
        history = read_history(path)
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        failure = None if result.replay_failure is None else str(result.replay_failure)
        outcomes.append(Replayed(path=path, workflow_id=history.workflow_id, failure=failure))
    return outcomes
