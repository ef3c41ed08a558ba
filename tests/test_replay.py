"""Replay every history ever recorded against the current workflow code.

Histories accumulate: each release's are kept in their own folder, `tests/histories/<version>/`, and never
re-recorded or overwritten (`make histories` adds a new folder). A change to workflow code that would break cycles
already running (months-long, across deploys) fails here; guard such a change with `workflow.patched`.
"""

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory

from worker import WORKFLOWS, replayer

ROOT = Path(__file__).parent / "histories"
HISTORIES = sorted(ROOT.glob("*/*.json"))
RECORDED: dict[Path, dict[str, Any]] = {path: json.loads(path.read_text()) for path in HISTORIES}
# The last histories recorded on the time-skipping server (no search attributes, no mail delivery), at the decider
# issue: the first release folder.
FIRST_RELEASE = "0.1.0-d9369d9"
CURRENT_CODE = replayer()


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _events(recorded: dict[str, Any]) -> list[dict[str, Any]]:
    return recorded["history"]["events"]  # type: ignore[no-any-return]


def _workflow_type(recorded: dict[str, Any]) -> str:
    started = _events(recorded)[0]["workflowExecutionStartedEventAttributes"]
    return started["workflowType"]["name"]  # type: ignore[no-any-return]


def _has(recorded: dict[str, Any], event_type: str) -> bool:
    return any(event["eventType"] == event_type for event in _events(recorded))


def _activities(recorded: dict[str, Any]) -> set[str]:
    return {
        event["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for event in _events(recorded)
        if event["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    }


def test_histories_are_kept_per_release() -> None:
    assert not list(ROOT.glob("*.json")), "a history belongs in its release's folder, tests/histories/<version>/"
    first = {path.stem for path in HISTORIES if path.parent.name == FIRST_RELEASE}
    expected = {
        "happy_cycle",
        "late_institution",
        "never_acts",
        "extended_then_lapsed",
        "worker_restart",
        "follow_up_last_round",
        "peer_group_meets",
    }
    assert expected <= first, f"missing from {FIRST_RELEASE}: {expected - first}"


def test_every_workflow_type_has_histories_recorded_with_production_settings() -> None:
    """Mail delivery on (a mailbox that delivered), search attributes on (a cycle that upserted them), a follow-up
    that continued as new, a peer group and the weekly digest: recorded on the dev server by `make histories`."""
    types = Counter(_workflow_type(recorded) for recorded in RECORDED.values())
    assert set(types) == {workflow.__name__ for workflow in WORKFLOWS}, types
    production = [r for path, r in RECORDED.items() if path.parent.name != FIRST_RELEASE]
    assert any(
        _workflow_type(r) == "ReviewCycleWorkflow" and _has(r, "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES")
        for r in production
    ), "no review cycle recorded with search attributes on"
    assert any(_workflow_type(r) == "MailboxWorkflow" and "deliver_mail" in _activities(r) for r in production), (
        "no mailbox recorded delivering mail"
    )
    assert any(
        _workflow_type(r) == "FollowUpWorkflow" and _has(r, "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW")
        for r in production
    ), "no follow-up recorded continuing as new"
    assert {"PeerGroupWorkflow", "WeeklyDigestWorkflow", "DigestWeekWorkflow"} <= {
        _workflow_type(r) for r in production
    }
    assert any(
        _workflow_type(r) == "DigestWeekWorkflow" and "send_facilitator_digest" in _activities(r) for r in production
    ), "no week of the digest's Schedule recorded sending"


@pytest.mark.parametrize("path", HISTORIES, ids=[_name(p) for p in HISTORIES])
async def test_history_replays_on_current_code(path: Path) -> None:
    recorded = RECORDED[path]
    history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])
    result = await CURRENT_CODE.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{_name(path)}: {result.replay_failure}"
