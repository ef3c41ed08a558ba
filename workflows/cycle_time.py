"""Waiting in cycle time inside a workflow: a timer in real time, interruptible by a condition."""

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from domain.cycle_clock import CycleClock


def cycle_now(clock: CycleClock) -> datetime:
    return clock.to_cycle(workflow.now())


def cycle_now_asked(clock: CycleClock, asked_at: datetime | None) -> datetime:
    """The cycle clock for a query: `workflow.now()` in a query is the time of the workflow's last task (its last
    activity), so the caller's own clock, when given and later, says what "now" is."""
    now = cycle_now(clock)
    return now if asked_at is None else max(now, clock.to_cycle(asked_at))


async def sleep_until(clock: CycleClock, moment: datetime, interrupt: Callable[[], bool]) -> bool:
    """Wait until a cycle moment or until `interrupt` holds; True when the moment came."""
    delay = clock.real_delay(cycle_now(clock), moment)
    if delay <= timedelta(0):
        return not interrupt()
    try:
        await workflow.wait_condition(interrupt, timeout=max(delay, timedelta(milliseconds=1)))
    except TimeoutError:
        return True
    return False
