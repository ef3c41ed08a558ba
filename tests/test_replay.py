"""Replay every recorded history against the current workflow code.

A change to workflow code that would break cycles already running (months-long, across
deploys) fails here; guard such a change with `workflow.patched` and record anew with
`make histories`.
"""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from worker import PASSTHROUGH, WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
RECORDED = {path.stem: json.loads(path.read_text()) for path in HISTORIES}


def test_histories_are_recorded() -> None:
    names = {path.stem for path in HISTORIES}
    expected = {"happy_cycle", "late_institution", "never_acts", "extended_then_lapsed", "worker_restart"}
    assert expected <= names, f"missing: {expected - names}; run `make histories`"
    assert "follow_up_last_round" in names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_on_current_code(path: Path) -> None:
    recorded = RECORDED[path.stem]
    history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        data_converter=pydantic_data_converter,
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
        ),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
