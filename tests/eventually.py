"""Waiting, in tests, for something the engine does in the background: a projection row, a delivered email."""

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], what: str = "the condition", tries: int = 400
) -> None:
    """Poll `check` every 50 ms until it holds; fail the test naming `what` if it never does."""
    for _ in range(tries):
        result = check()
        if result if isinstance(result, bool) else await result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")
