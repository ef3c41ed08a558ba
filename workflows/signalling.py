"""Signalling another workflow that may have ended, from inside a workflow."""

from temporalio import workflow


async def signal_if_running(workflow_id: str, signal: str, payload: object) -> bool:
    """True when the signal was delivered; False when no such workflow is running (never started, or ended).

    The failure is a recorded history event like any other, so catching it keeps the workflow deterministic."""
    try:
        await workflow.get_external_workflow_handle(workflow_id).signal(signal, payload)
    except Exception:  # the server's "not found" for an external signal has no narrower type in the SDK
        return False
    return True
