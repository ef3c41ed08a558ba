"""Moving a launched cohort through cycle time on the time-skipping server.

A query's clock reads the time of the workflow's last task, which lags when nothing has
happened for a while, so a cohort test keeps the cycle moment itself: the launch pins
the cohort's start date at 08:00 to the moment of the launch (operations.cohorts.on_one_clock).
"""

from datetime import date, datetime, time

from temporalio.testing import WorkflowEnvironment

from domain.london_time import at_london


class CohortTime:
    def __init__(self, env: WorkflowEnvironment, start: date, working_day_starts: time = time(8, 0)) -> None:
        self.env = env
        self.now = at_london(start, working_day_starts)

    async def advance_to(self, moment: datetime) -> None:
        if moment > self.now:
            await self.env.sleep(moment - self.now)
            self.now = moment

    async def on(self, day: date, clock: time = time(10, 0)) -> None:
        await self.advance_to(at_london(day, clock))
