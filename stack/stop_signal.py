"""Waiting for the operator (Ctrl-C) or the platform (SIGTERM on a deploy) to ask a process to stop."""

import asyncio
import signal


async def wait_for_stop() -> None:
    """Return on SIGINT or SIGTERM, so the caller shuts down in order instead of being killed mid-task."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
