"""The read models follow the event log: a checkpointed follower projects committed events in followed order.

One follower at a time (a transaction-scoped advisory lock) reads the events past the `projections`
checkpoint that no open transaction can still add to (store/event_order.py), applies every projection
to them as one batch (store/projections.py: a few statements a batch, not a few an event) and moves the
checkpoint, all in one transaction: after a crash, either the rows and the
checkpoint moved together or neither did, so no event is applied twice or skipped.

Whoever appends runs the follower until its own events are projected (EventStore.append): writers that
arrive while another is projecting wait for it on a shared lock and usually find their events projected
by then, so under load one transaction projects the batches of many writers. Nothing else needs to run:
an append whose process died before catching up is retried by Temporal, and the retry catches up. The
follower commits durably before the append returns: the prompts it queues are the mail outbox.
"""

import asyncio
import time

from store.checkpoints import advance_checkpoint, read_cursor
from store.database import PgConnection
from store.event_order import EventCursor, cursor_after, read_followable
from store.event_rows import stored_event
from store.projections import project_events

PROJECTIONS_CHECKPOINT = "projections"
# Any fixed 64-bit number; it only has to differ from the store's other advisory locks.
FOLLOWER_LOCK_KEY = 0x0C15_0003
# Waiting longer than this for the follower (or a rebuild's swap) fails the append's catch-up, which retries.
LOCK_TIMEOUT = "10s"


class ProjectionsBehind(Exception):
    """The read models could not reach an append in time: an older transaction stayed open."""


async def take_follower_lock(conn: PgConnection) -> None:
    if not conn.is_in_transaction():
        raise RuntimeError("the follower lock must be taken inside a transaction")
    await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    await conn.execute("SELECT pg_advisory_xact_lock($1)", FOLLOWER_LOCK_KEY)


async def project_batch(conn: PgConnection, name: str, cursor: EventCursor, batch_size: int) -> int:
    """Project the next followable events past `cursor` and move checkpoint `name` with them."""
    rows = await read_followable(conn, cursor, batch_size)
    await project_events(conn, [stored_event(row) for row in rows])
    if rows:
        await advance_checkpoint(conn, name, cursor_after(rows[-1]))
    return len(rows)


async def catch_up(
    conn: PgConnection, through: EventCursor | None = None, batch_size: int = 500, patience: float = 30.0
) -> int:
    """Project what is followable now; with `through`, keep on until that event is projected. Return how many.

    A writer first waits until its own event is followable (every older transaction has ended), with a cheap
    look that takes no lock: then whoever projects next takes it too. Writers do not queue for the follower's
    lock one after another (each would find its events already projected, one round trip at a time): one
    takes it, the others wait on a shared lock, which they all get together the moment the first commits,
    and most of them are then done. So under load one transaction projects the events of many writers.
    """
    applied = 0
    deadline = time.monotonic() + patience
    while True:
        if through is not None:
            await _until_followable(conn, through, deadline)
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", FOLLOWER_LOCK_KEY):
            await conn.execute(
                f"SELECT set_config('lock_timeout', '{LOCK_TIMEOUT}', true), pg_advisory_xact_lock_shared($1)",
                FOLLOWER_LOCK_KEY,
            )
            if through is not None and through <= await read_cursor(conn, PROJECTIONS_CHECKPOINT):
                return applied
            continue
        try:
            async with conn.transaction():
                cursor = await read_cursor(conn, PROJECTIONS_CHECKPOINT)
                if through is not None and through <= cursor:
                    return applied
                count = await project_batch(conn, PROJECTIONS_CHECKPOINT, cursor, batch_size)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", FOLLOWER_LOCK_KEY)
        applied += count
        # A batch short of full took everything followable, and so the event at `through`, followable before.
        if count < batch_size:
            return applied


async def _until_followable(conn: PgConnection, through: EventCursor, deadline: float) -> None:
    """Wait until no transaction older than the event at `through` is still open."""
    pause = 0.0005
    while not await conn.fetchval("SELECT $1::xid8 < pg_snapshot_xmin(pg_current_snapshot())", through.transaction_id):
        # Our event is committed but an older transaction is still open: it is not followable yet.
        if time.monotonic() > deadline:
            raise ProjectionsBehind(f"the read models did not reach position {through.position} in time")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.005)
