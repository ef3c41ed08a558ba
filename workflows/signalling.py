"""Signalling another workflow that may have ended, from inside a workflow."""

from temporalio import workflow

from domain.decisions import Signal


async def signal_if_running(workflow_id: str, signal: str, payload: object) -> bool:
    """True when the signal was delivered; False when no such workflow is running (never started, or ended).

    The failure is a recorded history event like any other, so catching it keeps the workflow deterministic."""
    try:
        await workflow.get_external_workflow_handle(workflow_id).signal(signal, payload)
    except Exception:  # the server's "not found" for an external signal has no narrower type in the SDK
        return False
    return True


async def send(signal: Signal) -> None:
    """A decider's message to another workflow. One that is no longer running (a closed group, a follow-up whose
    rounds are over, a member cycle that ended) is not told: nothing waits on it, and what was recorded stands."""
    if not await signal_if_running(signal.workflow_id, signal.name, signal.payload):
        workflow.logger.info("%s is not running; %s not delivered", signal.workflow_id, signal.name)
