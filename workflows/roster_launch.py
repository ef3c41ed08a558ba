"""RosterLaunchWorkflow: a roster CEC uploaded from the web, launched a batch at a time, its progress a query.

The web page that launched it shows the progress and returns at once: a national roster takes minutes to
start, far longer than a request should. The roster itself is in the store (domain/roster_launch.py).
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.roster_launch import (
    START_ROSTER_CYCLES,
    START_ROSTER_GROUPS,
    BatchOutcome,
    GroupsOutcome,
    LaunchBatch,
    LaunchProgress,
)

# Temporal unreachable for a while (a restart, a failover): keep trying; a start is idempotent.
LAUNCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn
class RosterLaunchWorkflow:
    @workflow.init
    def __init__(self, progress: LaunchProgress) -> None:
        self._progress = progress

    @workflow.run
    async def run(self, progress: LaunchProgress) -> LaunchProgress:
        real_now = workflow.now()
        whole = LaunchBatch(launch_id=progress.launch_id, real_now=real_now, offset=0, size=max(progress.total, 1))
        groups = await workflow.execute_activity(
            START_ROSTER_GROUPS,
            whole,
            result_type=GroupsOutcome,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=LAUNCH_RETRY,
        )
        self._progress = self._progress.model_copy(
            update={"groups_started": groups.started, "groups_existing": groups.existing, "groups_done": True}
        )
        size = progress.batch_size
        for offset in range(0, progress.total, size):
            batch = LaunchBatch(launch_id=progress.launch_id, real_now=real_now, offset=offset, size=size)
            outcome = await workflow.execute_activity(
                START_ROSTER_CYCLES,
                batch,
                result_type=BatchOutcome,
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(minutes=1),
                retry_policy=LAUNCH_RETRY,
            )
            self._progress = self._progress.with_batch(outcome)
        self._progress = self._progress.model_copy(update={"done": True})
        return self._progress

    @workflow.query
    def progress(self) -> LaunchProgress:
        return self._progress
