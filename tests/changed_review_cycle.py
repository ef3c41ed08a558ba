"""A behaviour change to the review cycle's command sequence, as a deploy would bring it, in two versions.

The change: a new cycle waits an hour before it records CycleStarted (a new timer ahead of the first activity).
`UnguardedChange` makes it as a plain edit would; `GuardedChange` makes it behind `workflow.patched`, as the README's
deploy procedure says. Both register under the review cycle's workflow type, so a worker or a replayer given one
runs it in place of the current ReviewCycleWorkflow (tests/test_deploying_a_change.py).
"""

from datetime import timedelta

from temporalio import workflow

from domain.cycle_spec import CycleInput
from workflows.review_cycle import CycleOutcome, ReviewCycleWorkflow

PATCH_ID = "pause-before-start"
PAUSE = timedelta(hours=1)


@workflow.defn(name="ReviewCycleWorkflow")
class UnguardedChange(ReviewCycleWorkflow):
    @workflow.run
    async def run(self, spec: CycleInput) -> CycleOutcome:
        await workflow.sleep(PAUSE)
        return await super().run(spec)


@workflow.defn(name="ReviewCycleWorkflow")
class GuardedChange(ReviewCycleWorkflow):
    @workflow.run
    async def run(self, spec: CycleInput) -> CycleOutcome:
        # Cycles started before the deploy have no marker in their history: they go on the old way.
        if workflow.patched(PATCH_ID):
            await workflow.sleep(PAUSE)
        return await super().run(spec)
