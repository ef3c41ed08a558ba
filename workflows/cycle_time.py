"""Waiting in cycle time inside a workflow: a timer in real time, interruptible by a condition."""

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from domain.cycle_clock import CycleClock

# Waking `clock.spread` after each moment (domain/daily_spread.py) changes the timers a workflow starts: histories
# recorded before it keep waking on the moment itself.
SPREAD_PATCH = "spread-daily-moments"


def cycle_now(clock: CycleClock) -> datetime:
    return clock.to_cycle(workflow.now())


def cycle_now_asked(clock: CycleClock, asked_at: datetime | None) -> datetime:
    """The cycle clock for a query: `workflow.now()` in a query is the time of the workflow's last task (its last
    activity), so the caller's own clock, when given and later, says what "now" is."""
    now = cycle_now(clock)
    return now if asked_at is None else max(now, clock.to_cycle(asked_at))


async def sleep_until(clock: CycleClock, moment: datetime, interrupt: Callable[[], bool]) -> bool:
    """Wait until a cycle moment (and the clock's spread after it) or until `interrupt` holds; True when the moment
    came. Waking later than the moment is safe: the deciders act on every moment that has passed."""
    if clock.spread and workflow.patched(SPREAD_PATCH):
        moment = moment + clock.spread
    delay = clock.real_delay(cycle_now(clock), moment)
    if delay <= timedelta(0):
        return not interrupt()
    try:
        await workflow.wait_condition(interrupt, timeout=max(delay, timedelta(milliseconds=1)))
    except TimeoutError:
        return True
    return False
