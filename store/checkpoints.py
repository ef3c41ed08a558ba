"""Checkpoints of consumers that follow the event log (the read models' follower, a rebuild, an export).

A checkpoint is a place in the followed order (store/event_order.py). A consumer moves its checkpoint in
the same transaction as its read-model change: after a crash, either both happened or neither did, so no
event is applied twice or skipped.
"""

import asyncpg

from store.database import PgConnection
from store.event_order import START, EventCursor


async def claim_checkpoint(conn: PgConnection, name: str) -> EventCursor:
    """Lock the named checkpoint for this transaction and return its cursor (the start for a new consumer).

    A second instance of the same consumer waits here until the first commits, then
    starts from where the first left off, instead of applying the same events again.
    """
    _require_transaction(conn)
    await conn.execute(
        "INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING", name
    )
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name
    )
    if row is None:  # inserted just above, and nothing deletes checkpoints
        raise RuntimeError(f"checkpoint {name!r} vanished")
    return EventCursor(transaction_id=row["transaction_id"], position=row["position"])


async def advance_checkpoint(conn: PgConnection, name: str, cursor: EventCursor) -> None:
    """Record that the consumer has applied every event up to `cursor`, in the caller's transaction."""
    _require_transaction(conn)
    moved = await conn.fetchval(
        """
        INSERT INTO projection_checkpoints (name, position, transaction_id) VALUES ($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET position = excluded.position, transaction_id = excluded.transaction_id
            WHERE (projection_checkpoints.transaction_id, projection_checkpoints.position)
                <= (excluded.transaction_id, excluded.position)
        RETURNING position
        """,
        name,
        cursor.position,
        cursor.transaction_id,
    )
    if moved is None:
        # Going back would apply events twice; a consumer that means to start over resets its read model too.
        raise ValueError(f"checkpoint {name!r}: cannot move back to {cursor}")


async def read_cursor(conn: PgConnection | asyncpg.Pool, name: str) -> EventCursor:
    row = await conn.fetchrow("SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1", name)
    return EventCursor(transaction_id=row["transaction_id"], position=row["position"]) if row else START


async def reset_checkpoint(conn: PgConnection, name: str, cursor: EventCursor) -> None:
    """Put a checkpoint at `cursor`, back or forth: only for a consumer whose read model was replaced whole."""
    _require_transaction(conn)
    await conn.execute(
        "INSERT INTO projection_checkpoints (name, position, transaction_id) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position, transaction_id = excluded.transaction_id",
        name,
        cursor.position,
        cursor.transaction_id,
    )


def _require_transaction(conn: PgConnection) -> None:
    if not conn.is_in_transaction():
        raise RuntimeError("a checkpoint moves only inside the transaction that changes its read model")
