"""Spreading a cohort's daily moments: each cycle wakes a fixed while after 08:00, 09:00 and 17:00.

A national cohort starts on one day, so without this every cycle's timers fire at the same second (stages open
at 08:00, prompts go at 09:00, stages fall overdue at 17:00). Each cycle instead wakes a fixed offset after each
of its moments, the same offset every day, taken from its URN: deterministic (a replay, a restart or another
worker computes the same), spread evenly over the window across a cohort, and the same for a school's cycle,
its mailbox and its follow-up (they share its clock), so a prompt is still recorded before its email goes.
"""

import hashlib
from datetime import timedelta

DEFAULT_SPREAD_MINUTES = 60


def daily_offset(urn: str, window: timedelta) -> timedelta:
    """Where in the window this institution's moments fall: whole seconds in [0, window)."""
    seconds = int(window.total_seconds())
    if seconds <= 0:
        return timedelta(0)
    digest = int.from_bytes(hashlib.sha256(urn.encode()).digest()[:8], "big")
    return timedelta(seconds=digest % seconds)
