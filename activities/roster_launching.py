"""The activities of a roster launched from the web: its peer groups, then its cycles a batch at a time.

Specs are built here, by the worker, from the roster the web app stored: a national roster is far too large to
travel in a workflow's input. Each start is idempotent (ids from the business key), so a retried batch starts
only what is missing.
"""

import asyncpg
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from domain.cycle_spec import CycleSpec
from domain.roster_launch import (
    START_ROSTER_CYCLES,
    START_ROSTER_GROUPS,
    BatchOutcome,
    GroupsOutcome,
    LaunchBatch,
    RosterLaunch,
)
from operations.cohorts import on_one_clock, start_cycles, start_groups
from operations.spec_builder import SpecContext, specs_from_roster
from store.roster_launches import load_launch


class RosterLauncher:
    def __init__(self, client: Client, pool: asyncpg.Pool, context: SpecContext, task_queue: str) -> None:
        self._client = client
        self._pool = pool
        self._context = context
        self._task_queue = task_queue
        self._last: RosterLaunch | None = None

    def _specs(self, batch: LaunchBatch, launch: RosterLaunch, rows: slice) -> list[CycleSpec]:
        specs = specs_from_roster(self._context, launch.rows[rows], launch.cohort, launch.start_date, launch.time_scale)
        return on_one_clock(specs, batch.real_now)

    async def _launch(self, launch_id: str) -> RosterLaunch:
        # A launch never changes once stored: its batches read it once per worker, not once each.
        if self._last is None or self._last.launch_id != launch_id:
            launch = await load_launch(self._pool, launch_id)
            if launch is None:
                raise ApplicationError(f"no roster launch {launch_id} in the store", non_retryable=True)
            self._last = launch
        return self._last

    @activity.defn(name=START_ROSTER_GROUPS)
    async def start_roster_groups(self, batch: LaunchBatch) -> GroupsOutcome:
        """Every peer group of the roster, before any member cycle (a member tells its group when it is ready)."""
        launch = await self._launch(batch.launch_id)
        specs = self._specs(batch, launch, slice(None))
        started, existing = await start_groups(self._client, specs, self._task_queue)
        return GroupsOutcome(started=started, existing=existing)

    @activity.defn(name=START_ROSTER_CYCLES)
    async def start_roster_cycles(self, batch: LaunchBatch) -> BatchOutcome:
        launch = await self._launch(batch.launch_id)
        specs = self._specs(batch, launch, slice(batch.offset, batch.offset + batch.size))
        outcomes = await start_cycles(self._client, specs, self._task_queue, on_outcome=lambda _: activity.heartbeat())
        return BatchOutcome(
            started=[o.cycle_id for o in outcomes if o.started],
            existing=[o.cycle_id for o in outcomes if not o.started and o.error is None],
            failed={o.cycle_id: o.error for o in outcomes if o.error is not None},
        )
