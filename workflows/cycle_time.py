"""Waiting in cycle time inside a workflow: a timer in real time, interruptible by a condition."""

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from domain.cycle_clock import CycleClock


def cycle_now(clock: CycleClock) -> datetime:
    return clock.to_cycle(workflow.now())


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
