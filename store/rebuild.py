"""Rebuild every inline projection from the events alone.

One transaction: a failure leaves the old read models untouched, and readers keep
seeing them until the new ones are complete (rows are deleted, not truncated, because
TRUNCATE would block every reader for the whole rebuild). Appends wait on the append
lock, and anything else that writes the read models (the mail sender marking prompts)
on table locks, for the rebuild's duration; activities simply retry.
"""

import asyncpg

from store import prompts_projection
from store.append_lock import take_append_lock
from store.checkpoints import advance_checkpoint
from store.event_rows import EVENT_COLUMNS, stored_event
from store.projections import PROJECTION_TABLES, project

REBUILD_CHECKPOINT = "rebuild"


async def rebuild_projections(pool: asyncpg.Pool, batch_size: int = 1000) -> int:
    """Empty the projection tables and replay all events in position order; return how many were replayed."""
    async with pool.acquire() as conn, conn.transaction():
        await take_append_lock(conn)
        # Before saving the sender's progress, so none of it can change between the save and the restore.
        await conn.execute(f"LOCK TABLE {', '.join(PROJECTION_TABLES)} IN EXCLUSIVE MODE")
        await prompts_projection.save_deliveries(conn)
        for table in PROJECTION_TABLES:
            await conn.execute(f"DELETE FROM {table}")
        count = 0
        position = 0
        # Batches bound memory; keyset paging on position keeps each one an index range scan.
        while batch := await conn.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            position,
            batch_size,
        ):
            for row in batch:
                await project(conn, stored_event(row))
            count += len(batch)
            position = batch[-1]["position"]
        await prompts_projection.restore_deliveries(conn)
        await advance_checkpoint(conn, REBUILD_CHECKPOINT, position)
    return count
